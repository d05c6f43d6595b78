"""Property-based API testing: schemathesis generates requests from the OpenAPI schema, valid and
invalid, and runs all of its checks against the real server (no 5xx, every response as documented)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from servers import serve
from service.app import create_app
from service.settings import Settings


@pytest.fixture(scope="module")
def live_url(settings: Settings, built_index) -> Iterator[str]:
    yield from serve(settings.model_copy(update={"max_in_flight": 64}))


# The schema comes from an app that is built but never started (nothing loads at construction);
# the requests go to the live server. (Lazy fixture-based schemas do not run under this pytest.)
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())


@schema.parametrize()
@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case, live_url: str) -> None:  # noqa: ANN001 - a schemathesis Case
    excluded = []
    if case.operation.path in ("/v1/chat/completions", "/v1/responses"):
        # OpenAI's message shape cannot say "has a user message with text" in JSON Schema, so bodies
        # without one are schema-valid yet get OpenAI's 400 (tested in test_chat_completions.py and
        # test_openai_clients.py).
        excluded.append(positive_data_acceptance)
    case.call_and_validate(base_url=live_url, excluded_checks=excluded)
