"""An unauthenticated `initialize` flood against /mcp and a normal MCP client beside it (used by
tests/test_mcp_flood.py and scripts/mcp_flood.py)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import anyio
import httpx

INITIALIZE = {
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "flood", "version": "1"}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@dataclass
class Flood:
    """`total` initialize requests over `connections` keep-alive connections, each from its own loopback
    source address when `addresses` > 1 (127.0.0.2, 127.0.0.3, …), counting the statuses."""

    url: str
    total: int
    connections: int = 8
    addresses: int = 1
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def run(self) -> "Flood":
        lock, sent = threading.Lock(), [0]

        def worker(n: int) -> None:
            source = f"127.0.0.{2 + n % self.addresses}"
            with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30) as client:
                while True:
                    with lock:
                        if sent[0] >= self.total:
                            return
                        sent[0] += 1
                    try:
                        status = client.post(f"{self.url}/mcp", json=INITIALIZE, headers=HEADERS).status_code
                    except httpx.HTTPError:
                        status = 0
                    with lock:
                        self.statuses[status] += 1

        started = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(self.connections)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seconds = time.perf_counter() - started
        return self


def normal_client(url: str, question: str = "首尔峰会的主题是什么？") -> tuple[bool, float, str]:
    """Connect with the SDK's client as a chat tool would, ask, disconnect: (worked, seconds, what went wrong)."""
    from mcp import Client

    async def session() -> str:
        async with Client(f"{url}/mcp") as client:
            result = await client.call_tool("ask", {"question": question, "top_k": 3})
            return "" if not result.is_error and result.structured_content["passages"] else "the tool failed"

    started = time.perf_counter()
    try:
        problem = anyio.run(session)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        problem = f"{type(exc).__name__}: {exc}"
    return not problem, time.perf_counter() - started, problem
