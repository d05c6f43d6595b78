"""How long govqa takes to be useful from a cold process, each figure over several runs (min / median / max):

  serve      `govqa serve` on a free loopback port until GET /readyz is 200
  mcp        `govqa mcp` over stdio (the official SDK's client): until `initialize` is answered, until
             `tools/list` is, and until the first `ask` returns (which waits for the index)
  ask        `govqa ask "…"` as a shell runs it: against the running server, and with `--local`
             (loads the index and the ONNX question encoder in process)

The index is indexes/default (or GOVQA_INDEX_DIR); run `make index` first. Printed with the CPU's flags.

    .venv/bin/python scripts/bench_startup.py [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import anyio

from bench import start_server, stop_server
from bench_scale import cpu_features, describe_cpu
from service.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOVQA = str(PROJECT_ROOT / ".venv" / "bin" / "govqa")
QUESTION = "首尔峰会的主题是什么？"


def serve_until_ready() -> tuple[subprocess.Popen, str, float]:
    """`govqa serve` on a free port over the configured index, with its URL and seconds until /readyz said 200."""
    return start_server(Settings().index_dir, Path(tempfile.gettempdir()) / "govqa-bench-startup-serve.log")


def time_serve() -> float:
    server, _, seconds = serve_until_ready()
    stop_server(server)
    return seconds


def time_mcp() -> dict[str, float]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=GOVQA, args=["mcp"], cwd=str(PROJECT_ROOT), env=dict(os.environ))
    figures: dict[str, float] = {}

    async def session() -> None:
        started = time.perf_counter()
        async with Client(params, read_timeout_seconds=300) as client:
            figures["initialize"] = time.perf_counter() - started
            await client.list_tools()
            figures["tools/list"] = time.perf_counter() - started
            await client.call_tool("ask", {"question": QUESTION})
            figures["first ask"] = time.perf_counter() - started

    anyio.run(session)
    return figures


def time_command(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [GOVQA, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=PROJECT_ROOT, env=env
    )
    return time.perf_counter() - started


def time_ask(runs: int) -> dict[str, list[float]]:
    server, url, _ = serve_until_ready()
    env = {**os.environ, "GOVQA_PORT": url.rsplit(":", 1)[1]}  # found at the configured address, as by default
    try:
        time_command(["ask", QUESTION], env)  # the server's first answer warms its caches
        remote = [time_command(["ask", f"{QUESTION} {i}"], env) for i in range(runs)]
    finally:
        stop_server(server)
    local = [time_command(["ask", "--local", f"{QUESTION} {i}"], env) for i in range(runs)]
    return {"govqa ask (server running)": remote, "govqa ask --local (cold, in process)": local}


def repeated(measure: Callable[[], dict[str, float]], runs: int) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, value in measure().items():
            samples.setdefault(name, []).append(value)
    return samples


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {min(values):.2f} s | {statistics.median(values):.2f} s | {max(values):.2f} s | {len(values)} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    samples = {"govqa serve until /readyz": [time_serve() for _ in range(args.runs)]}
    samples.update({f"govqa mcp: {k}": v for k, v in repeated(time_mcp, args.runs).items()})
    samples.update(time_ask(args.runs))
    features = cpu_features()
    print(f"Start-up on {os.cpu_count()} CPUs, {describe_cpu(features)}")
    print("| figure | min | median | max | runs |\n|---|---|---|---|---|")
    for name, values in samples.items():
        print(row(name, values))
    if args.json:
        args.json.write_text(json.dumps({"machine": features, "seconds": samples}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
