"""Requests per second of `govqa serve` under wrk, a load generator in C (so the client takes little of the
cores it shares with the server), with the answer cache off: every request is answered anew.

    .venv/bin/python scripts/bench_throughput.py [--workers 1,2] [--concurrency 1,4,16,64]

For each worker count, one newly started server over --index (default: the
configured index), then each concurrency level for --seconds; the questions of --questions are sent in
turn. Prints requests/s, wrk's latency p50/p99, non-2xx replies (503 when more than GOVQA_MAX_IN_FLIGHT
questions wait) and the server's resident memory, with the CPU's flags. Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import ROOT, describe, format_table, load_questions, machine, start_server, stop_server, tree_rss_bytes

LUA = """
local bodies = {}
for line in io.lines("%s") do bodies[#bodies + 1] = line end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, "%s", nil, bodies[(counter %% #bodies) + 1])
end
"""


def wrk_script(scratch: Path, questions: list[str], path: str, k: int) -> Path:
    bodies = scratch / "bodies.jsonl"
    bodies.write_text("".join(json.dumps({"question": q, "top_k": k}, ensure_ascii=False) + "\n" for q in questions))
    script = scratch / "load.lua"
    script.write_text(LUA % (bodies, path))
    return script


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: Path, concurrency: int, seconds: float) -> dict:
    """One wrk run: a thread per core, `concurrency` connections; requests/s, latency p50/p99, non-2xx."""
    threads = min(concurrency, 2)
    command = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s", "--latency", "--timeout", "30s"]
    command += ["-s", str(script)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", out, re.M))
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {
        "requests_per_s": per_second,
        "answered_per_s": per_second * (total - (int(failed.group(1)) if failed else 0)) / max(total, 1),
        "p50_ms": milliseconds(percentiles["50"]), "p99_ms": milliseconds(percentiles["99"]),
        "non_2xx": int(failed.group(1)) if failed else 0,
        "socket_errors": re.search(r"Socket errors: .*", out).group(0) if "Socket errors" in out else "",
    }


def listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=ROOT / "indexes" / "default")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "questions.jsonl")
    parser.add_argument("--workers", type=lambda s: [int(w) for w in listed(s)], default=[1, 2])
    parser.add_argument("--concurrency", type=lambda s: [int(c) for c in listed(s)], default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--endpoint", choices=["/v1/ask"], default="/v1/ask")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    return parser.parse_args()


def server_levels(args: argparse.Namespace, scratch: Path, script: Path, workers: int) -> list[dict]:
    """Every concurrency level against one newly started server with this many workers."""
    env = {"GOVQA_WORKERS": str(workers), "GOVQA_CACHE_SIZE": "0"}
    server, url, _ = start_server(args.index, scratch / "serve.log", env_extra=env)
    try:
        run_wrk(url, script, 2 * workers, 3)  # warm-up: every worker's first questions
        return [
            {"workers": workers, "concurrency": level,
             **run_wrk(url, script, level, args.seconds), "rss_bytes": tree_rss_bytes(server.pid)}
            for level in args.concurrency
        ]
    finally:
        stop_server(server)


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    info = machine()
    with tempfile.TemporaryDirectory(prefix="govqa-throughput-") as tmp:
        script = wrk_script(Path(tmp), load_questions(args.questions), args.endpoint, args.k)
        figures = [
            level for workers in args.workers for level in server_levels(args, Path(tmp), script, workers)
        ]
    rows = [
        [f["workers"], f["concurrency"], f["requests_per_s"], f["answered_per_s"], f["p50_ms"], f["p99_ms"],
         f["non_2xx"], f["rss_bytes"] / 1e6]
        for f in figures
    ]
    print(format_table(
        f"POST {args.endpoint} under wrk, answer cache off, {args.seconds:g} s per level [{describe(info)}]",
        ["workers", "conc.", "req/s", "answered/s", "p50 ms", "p99 ms", "non-2xx", "RSS MB"], rows,
        ["wrk runs on the same cores as the server; non-2xx are 503s beyond GOVQA_MAX_IN_FLIGHT per worker,",
         "answered/s counts the 200s only; p50/p99 are wrk's, over every reply"],
    ))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "levels": figures}, indent=2))


if __name__ == "__main__":
    main()
