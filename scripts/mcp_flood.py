"""An MCP session flood against a fresh `govqa serve`: can a normal MCP client still connect?

    .venv/bin/python scripts/mcp_flood.py [--requests 10000] [--connections 8] [--addresses 1]

Starts `govqa serve` on a free loopback port (GOVQA_* variables in the environment pass through; it
serves a private copy of the current index version) and sends --requests unauthenticated
`initialize` requests to /mcp over --connections keep-alive connections, from --addresses loopback
source addresses (127.0.0.2, …; 1: every connection from 127.0.0.2). Meanwhile an MCP client (the
SDK's own) connects from 127.0.0.1 as a chat tool would, calls `ask` and disconnects, over and over,
and a plain client asks /healthz. Prints the flood's statuses and rate, the normal client's
sessions (worked / failed, seconds) and /healthz latency, and exits 1 when a normal session failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from local_server import snapshot_index, start_server, stop_server  # noqa: E402 - scripts/ is on sys.path
from mcp_flood import Flood, normal_client  # noqa: E402 - tests/mcp_flood.py, shared with the test

import httpx  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values) or [float("nan")]
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="initialize requests in the flood")
    parser.add_argument("--connections", type=int, default=8, help="connections the flood uses at once")
    parser.add_argument("--addresses", type=int, default=1, help="loopback source addresses the flood comes from")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="govqa-mcp-flood-") as scratch:
        index = snapshot_index(Path(scratch) / "index")
        server, url = start_server(Path(scratch) / "server.log", index)
        try:
            flood = Flood(url, total=args.requests, connections=args.connections, addresses=args.addresses)
            running = threading.Thread(target=flood.run)
            sessions: list[tuple[bool, float, str]] = []
            health: list[float] = []
            running.start()
            with httpx.Client(timeout=30) as plain:
                while running.is_alive():
                    sessions.append(normal_client(url))
                    started = time.perf_counter()
                    plain.get(f"{url}/healthz")
                    health.append(time.perf_counter() - started)
            running.join()
            sessions.append(normal_client(url))
        finally:
            stop_server(server)
    worked = [t for ok, t, _ in sessions if ok]
    failed = [problem for ok, _, problem in sessions if not ok]
    print(f"flood: {sum(flood.statuses.values())} initialize requests in {flood.seconds:.1f} s "
          f"({sum(flood.statuses.values()) / flood.seconds:.0f}/s) over {args.connections} connections "
          f"from {args.addresses} "
          f"address(es): " + ", ".join(f"{status}: {n}" for status, n in sorted(flood.statuses.items())))
    print(f"normal MCP client: {len(worked)} sessions worked, {len(failed)} failed; connect + ask + close "
          f"p50 {percentile(worked, 50):.2f} s, max {max(worked, default=float('nan')):.2f} s")
    print(f"/healthz during the flood: p50 {percentile(health, 50) * 1000:.1f} ms, "
          f"max {max(health, default=0) * 1000:.1f} ms")
    for problem in failed[:5]:
        print(f"  failed: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
