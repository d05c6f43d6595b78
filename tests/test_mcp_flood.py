"""A flood of unauthenticated MCP `initialize` requests against a live `govqa serve` process no longer locks
other clients out: each address holds a bounded number of sessions, sessions nobody uses end within
seconds, and an MCP client connecting normally during the flood is served. (scripts/mcp_flood.py
sends the full 10,000 requests.)"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mcp_flood import HEADERS, INITIALIZE, Flood, normal_client
from servers import Probe, serve_process
from service.mcp_guard import SessionGuard
from service.settings import Settings

PER_CLIENT = 8
UNUSED_SECONDS = 2.0
MAX_SESSIONS = 100  # far below the flood, so without the per-address limit it would fill the server
FLOOD = 2_000


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, settings: Settings, built_index: Path) -> Iterator[str]:
    guarded = settings.model_copy(update={
        "reload_seconds": 0, "mcp_sessions_per_client": PER_CLIENT, "mcp_unused_session_seconds": UNUSED_SECONDS,
        "mcp_max_sessions": MAX_SESSIONS,
    })
    for base, _ in serve_process(guarded, tmp_path_factory.mktemp("mcp") / "server.log"):
        yield base


def opens_a_session(url: str, source: str = "127.0.0.1") -> int:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10) as client:
        return client.post(f"{url}/mcp", json=INITIALIZE, headers=HEADERS).status_code


def test_a_normal_client_is_served_during_an_initialize_flood(url: str) -> None:
    flood = Flood(url, total=FLOOD, connections=8, addresses=8)  # eight addresses, one per connection
    outcomes: list[tuple[bool, float, str]] = []
    running = threading.Thread(target=flood.run)
    with Probe(url) as probe:
        running.start()
        while running.is_alive() or len(outcomes) < 3:
            outcomes.append(normal_client(url))
            if len(outcomes) > 30:
                break
        running.join(300)
    print(f"flood: {flood.statuses} in {flood.seconds:.1f} s; "
          f"normal client: {[(ok, round(t, 2)) for ok, t, _ in outcomes]}")
    assert sum(flood.statuses.values()) == FLOOD
    assert flood.statuses[200] <= 8 * PER_CLIENT + 8 * PER_CLIENT * (flood.seconds / UNUSED_SECONDS + 1)
    assert flood.statuses[429] > FLOOD / 2, "the per-address limit turned most of the flood away"
    assert flood.statuses[503] == 0, "the server's session table never filled"
    assert all(ok for ok, _, _ in outcomes), [problem for ok, _, problem in outcomes if not ok]
    probe.check(1.0)


def test_unused_sessions_end_within_seconds_and_free_their_share(url: str) -> None:
    source = "127.0.0.42"
    assert [opens_a_session(url, source) for _ in range(PER_CLIENT)] == [200] * PER_CLIENT
    assert opens_a_session(url, source) == 429
    deadline = time.monotonic() + UNUSED_SECONDS + 5
    while opens_a_session(url, source) == 429 and time.monotonic() < deadline:
        time.sleep(0.25)
    assert time.monotonic() < deadline, f"unused sessions still held {UNUSED_SECONDS + 5:.0f} s later"


def test_a_session_in_use_outlives_the_unused_timeout(url: str) -> None:
    import anyio
    from mcp import Client

    async def slow_session() -> list[bool]:
        async with Client(f"{url}/mcp") as client:
            worked = [not (await client.call_tool("list_documents", {})).is_error]
            await anyio.sleep(UNUSED_SECONDS * 2)  # longer than an unused session lives
            worked.append(not (await client.call_tool("list_documents", {})).is_error)
            return worked

    assert anyio.run(slow_session) == [True, True]


def guard_with(**changes: object) -> SessionGuard:
    return SessionGuard(server=None, settings=Settings(**changes))  # type: ignore[arg-type] - refusal reads settings only


def test_mcp_can_require_the_api_key() -> None:
    scope = {"type": "http", "headers": []}
    assert guard_with().refusal(scope) is None
    assert guard_with(mcp_require_key=True, api_key="k").refusal(scope)[0] == 401
    assert guard_with(mcp_require_key=True, api_key="k").refusal(
        {"headers": [(b"authorization", b"Bearer wrong")]}
    )[0] == 401
    assert guard_with(mcp_require_key=True, api_key="k").refusal({"headers": [(b"authorization", b"Bearer k")]}) is None
    assert guard_with(mcp_require_key=True).refusal(scope)[0] == 403
