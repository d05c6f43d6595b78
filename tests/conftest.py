"""Shared fixtures: one real index of the bundled corpus, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings as hypothesis_settings

# `pytest --hypothesis-profile=long` (hypothesis reads the option before test modules are imported).
hypothesis_settings.register_profile(
    "long", max_examples=5000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)

from index.build import build_index
from index.documents import load_corpus
from service.runtime import open_retriever
from service.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def corpus_documents():
    return load_corpus(CORPUS)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(index_dir=tmp_path_factory.mktemp("index") / "root", corpus=CORPUS)


@pytest.fixture(scope="session")
def glosses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CC-CEDICT's gloss table pickled once, for test subprocesses that build an index (helpers.glosses_prelude)."""
    from helpers import pickle_glosses

    return pickle_glosses(tmp_path_factory.mktemp("glosses") / "cedict_glosses.pickle")


@pytest.fixture(scope="session")
def embedder(settings: Settings):
    from servers import embedder_for

    return embedder_for(settings)


@pytest.fixture(scope="session")
def built_index(settings: Settings, embedder, corpus_documents) -> Path:
    build_index(corpus_documents, embedder, settings.index_dir)
    return settings.index_dir


@pytest.fixture(scope="session")
def retriever(settings: Settings, embedder, built_index):
    return open_retriever(settings, embedder)


@pytest.fixture(scope="session")
def asker(settings: Settings, retriever):
    from service.asking import Asker

    return Asker(retriever, settings)


@pytest.fixture(scope="session")
def base_url(settings: Settings, built_index) -> Iterator[str]:
    """One live govqa server with the session's settings, on a real loopback socket, for the end-to-end
    tests of every module that does not need settings of its own (those define their own `base_url`)."""
    from servers import serve

    yield from serve(settings)


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201 - playwright's Browser
    """Debian's headless chromium, launched for each browser test module (playwright's sync API
    holds an event loop while it runs, so one browser for the whole session would be in the way
    of the tests that run their own)."""
    from browser import launch

    yield from launch()
