"""A soak test: a mixed workload against a fresh `govqa serve` for minutes, watching errors and memory.

    .venv/bin/python scripts/soak.py [--minutes 10] [--concurrency 16] [--json FILE]

Starts `govqa serve` on a free loopback port (GOVQA_* variables in the environment pass
through; it serves a private copy of the current version of GOVQA_INDEX_DIR's index,
indexes/default by default, so that a rebuild elsewhere cannot swap it mid-run), waits for /readyz,
then runs --concurrency client threads (an httpx.Client each, keep-alive) for --minutes.
Requests cycle through a fixed mix of 20 (so the proportions are exact):

  6  ask_fresh   POST /v1/ask, two questions of tests/data/questions.jsonl asked together
                 ("Q1 Q2", a pair not asked before in this run), so the answer cache misses
  4  ask_repeat  POST /v1/ask, one of the last 200 fresh questions answered, again (a cache hit)
  4  search      GET /v1/search?q=<a question>&k=5
  3  doc_text    GET /v1/documents/{id}/text?start=&end=, a random range of up to 2000 chars
  1  err_422     POST /v1/ask with an empty question              (422 expected)
  1  err_404     GET /v1/documents/<unknown id>/text                (404 expected)
  1  err_413     POST /v1/ask with a 70 KB body (limit 64 KiB)      (413 expected)

Every minute it prints throughput, p50/p99 per kind, responses by status (the expected
4xx apart from anything unexpected: another status, or no response at all) and the
server's RSS (VmRSS of /proc/<pid>/status, sampled every 5 s). At the end: a per-minute
table and a verdict. PASS needs 0 unexpected responses, 0 5xx, and memory flat after
warm-up: the server's RSS at the end of the run against the start of the last five
minutes (the last half, for runs under ten minutes), each the median of the samples in
30 s, may grow by no more than max(5 %, 30 MB). Why that bound: the server holds ~1 GB
(model, ONNX session, index, torch) and glibc's per-thread malloc arenas and the
thread pool move its RSS by a few tens of MB with the request mix, with no leak; the
answer cache is bounded (GOVQA_CACHE_SIZE entries) and fills during warm-up. What the bound
still catches is printed: the leak per request it implies over the window. Exits 1 on
FAIL. Stops by itself and stops the server at the end. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from local_server import snapshot_index, start_server, stop_server  # noqa: E402 - scripts/ is on sys.path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
MB = 1024 * 1024
MIX = ["ask_fresh"] * 6 + ["ask_repeat"] * 4 + ["search"] * 4 + ["doc_text"] * 3 + ["err_422", "err_404", "err_413"]
KINDS = list(dict.fromkeys(MIX))
EXPECTED = {"err_422": 422, "err_404": 404, "err_413": 413}  # every other kind expects 200
RSS_EVERY = 5.0
MEMORY_WINDOW_AVERAGE = 30.0  # seconds of samples whose median is the RSS at a window's start or end
GROWTH_FRACTION, GROWTH_FLOOR = 0.05, 30 * MB


def process_status(pid: int) -> dict:
    """VmRSS (bytes), threads and open files of a process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
        rss = int(re.search(r"^VmRSS:\s*(\d+) kB", text, re.M).group(1)) * 1024
        threads = int(re.search(r"^Threads:\s*(\d+)", text, re.M).group(1))
        files = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, AttributeError):
        return {}
    return {"rss": rss, "threads": threads, "open_files": files}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Workload:
    """The next request of the fixed mix, and the questions for each kind (shared by the client threads)."""

    def __init__(self, questions: list[str], documents: dict[str, int], seed: int) -> None:
        self.questions = questions
        self.documents = sorted(documents.items())
        self.random = random.Random(seed)
        self.slots = itertools.cycle(MIX)
        pairs = [(a, b) for a in range(len(questions)) for b in range(len(questions)) if a != b]
        self.random.shuffle(pairs)
        self.pairs = iter(pairs)
        self.fresh_count = 0
        self.recent: collections.deque[str] = collections.deque(maxlen=200)
        self.lock = threading.Lock()

    def fresh_question(self) -> str:
        """Two questions asked together, a pair not used before (then numbered, if the pairs ever run out)."""
        self.fresh_count += 1
        pair = next(self.pairs, None)
        if pair is None:
            return f"{self.random.choice(self.questions)} ({self.fresh_count})"
        return f"{self.questions[pair[0]]} {self.questions[pair[1]]}"

    def answered(self, question: str) -> None:
        """A fresh question was answered: from now on its answer is cached, and it may be repeated."""
        with self.lock:
            self.recent.append(question)

    def next(self) -> tuple[str, str, str, dict]:
        """(kind, method, path, request options)."""
        with self.lock:
            kind = next(self.slots)
            if kind == "ask_repeat" and not self.recent:
                kind = "ask_fresh"
            if kind == "ask_fresh":
                return kind, "POST", "/v1/ask", {"json": {"question": self.fresh_question(), "top_k": 5}}
            if kind == "ask_repeat":
                return kind, "POST", "/v1/ask", {"json": {"question": self.random.choice(self.recent), "top_k": 5}}
            if kind == "search":
                return kind, "GET", "/v1/search", {"params": {"q": self.random.choice(self.questions), "k": 5}}
            if kind == "doc_text":
                doc_id, length = self.random.choice(self.documents)
                start = self.random.randrange(0, max(1, length))
                end = min(length, start + self.random.randrange(1, 2001))
                return kind, "GET", f"/v1/documents/{doc_id}/text", {"params": {"start": start, "end": end}}
            if kind == "err_422":
                return kind, "POST", "/v1/ask", {"json": {"question": ""}}
            if kind == "err_404":
                return kind, "GET", f"/v1/documents/no-such-document-{self.random.randrange(10**6)}/text", {}
            return kind, "POST", "/v1/ask", {"json": {"question": "a" * 70_000}}


class Soak:
    def __init__(self, url: str, server_pid: int, workload: Workload, concurrency: int, seconds: float) -> None:
        self.url, self.server_pid, self.workload = url, server_pid, workload
        self.concurrency, self.seconds = concurrency, seconds
        self.records: list[tuple[float, str, str, float]] = []  # (seconds since start, kind, outcome, latency)
        self.memory: list[dict] = []
        self.started = 0.0

    def client(self) -> None:
        end = self.started + self.seconds
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while time.monotonic() < end:
                kind, method, path, options = self.workload.next()
                began = time.monotonic()
                try:
                    outcome = str(client.request(method, path, **options).status_code)
                except httpx.HTTPError as exc:
                    outcome = type(exc).__name__
                if kind == "ask_fresh" and outcome == "200":
                    self.workload.answered(options["json"]["question"])
                done = time.monotonic()
                self.records.append((done - self.started, kind, outcome, done - began))

    def run(self) -> None:
        self.started = time.monotonic()
        threads = [threading.Thread(target=self.client, daemon=True) for _ in range(self.concurrency)]
        for thread in threads:
            thread.start()
        next_sample, next_report, minute = self.started, self.started + 60, 0
        while any(t.is_alive() for t in threads):
            now = time.monotonic()
            if now >= next_sample:
                sample = process_status(self.server_pid)
                if sample:
                    self.memory.append({"t": now - self.started, **sample})
                next_sample += RSS_EVERY
            if now >= next_report:
                print(minute_line(minute_figures(self, minute)), flush=True)
                minute, next_report = minute + 1, next_report + 60
            time.sleep(0.2)
        for thread in threads:
            thread.join()
        sample = process_status(self.server_pid)
        if sample:
            self.memory.append({"t": time.monotonic() - self.started, **sample})
        if minute < self.minutes():
            print(minute_line(minute_figures(self, minute)), flush=True)

    def minutes(self) -> int:
        return max(1, round(self.seconds / 60))


def unexpected(kind: str, outcome: str) -> bool:
    return outcome != str(EXPECTED.get(kind, 200))


def minute_figures(soak: Soak, minute: int) -> dict:
    """Throughput, latency per kind, outcomes and memory of one minute (the last one takes the stragglers)."""
    last = minute >= soak.minutes() - 1
    records = [
        r for r in soak.records if minute * 60 <= r[0] < (minute + 1) * 60 or (last and r[0] >= (minute + 1) * 60)
    ]
    span = max(1.0, min(60.0, soak.seconds - minute * 60))
    by_kind = {kind: [r[3] for r in records if r[1] == kind] for kind in KINDS}
    expected_4xx = collections.Counter(r[2] for r in records if r[1] in EXPECTED and not unexpected(r[1], r[2]))
    surprises = collections.Counter(f"{r[1]}:{r[2]}" for r in records if unexpected(r[1], r[2]))
    rss = [
        m["rss"] for m in soak.memory
        if minute * 60 <= m["t"] < (minute + 1) * 60 or (last and m["t"] >= (minute + 1) * 60)
    ]
    return {
        "minute": minute + 1, "requests": len(records), "per_second": len(records) / span,
        "latency_ms": {
            k: {"n": len(v), "p50": percentile(v, 50) * 1000, "p99": percentile(v, 99) * 1000}
            for k, v in by_kind.items()
        },
        "expected_4xx": dict(expected_4xx), "unexpected": dict(surprises),
        "server_5xx": sum(1 for r in records if r[2].startswith("5")),
        "rss_mb_last": rss[-1] / MB if rss else None, "rss_mb_min": min(rss) / MB if rss else None,
        "rss_mb_max": max(rss) / MB if rss else None,
    }


def minute_line(f: dict) -> str:
    latency = "  ".join(f"{k} {v['p50']:.0f}/{v['p99']:.0f}" for k, v in f["latency_ms"].items() if v["n"])
    expected = " ".join(f"{s}:{n}" for s, n in sorted(f["expected_4xx"].items())) or "-"
    surprises = " ".join(f"{s}:{n}" for s, n in sorted(f["unexpected"].items())) or "0"
    rss = (
        f"{f['rss_mb_last']:.0f} MB (min {f['rss_mb_min']:.0f}, max {f['rss_mb_max']:.0f})" if f["rss_mb_last"] else "-"
    )
    return (f"minute {f['minute']:2d}: {f['requests']} requests, {f['per_second']:.1f}/s; p50/p99 ms {latency}; "
            f"expected 4xx {expected}; unexpected {surprises}; RSS {rss}")


def memory_verdict(memory: list[dict], seconds: float, requests_in: Callable[[float, float], int]) -> dict:
    """RSS at the start and the end of the last five minutes (or the last half), and whether it grew beyond
    the bound."""
    window = 300.0 if seconds >= 600 else seconds / 2
    start_t, end_t = seconds - window, max(m["t"] for m in memory) if memory else seconds

    def median_near(t0: float, t1: float) -> float | None:
        values = [m["rss"] for m in memory if t0 <= m["t"] <= t1]
        return statistics.median(values) if values else None

    at_start = median_near(start_t, start_t + MEMORY_WINDOW_AVERAGE)
    at_end = median_near(end_t - MEMORY_WINDOW_AVERAGE, end_t)
    if at_start is None or at_end is None:
        return {"ok": False, "reason": "too few RSS samples"}
    bound = max(GROWTH_FRACTION * at_start, GROWTH_FLOOR)
    requests = requests_in(start_t, end_t)
    inside = [m["rss"] for m in memory if m["t"] >= start_t]
    slope = 0.0
    points = [(m["t"], m["rss"]) for m in memory if m["t"] >= start_t]
    if len(points) >= 2:
        slope = statistics.linear_regression([p[0] for p in points], [p[1] for p in points]).slope
    return {
        "ok": at_end - at_start <= bound, "window_seconds": window, "rss_start_mb": at_start / MB,
        "rss_end_mb": at_end / MB,
        "growth_mb": (at_end - at_start) / MB, "bound_mb": bound / MB, "window_min_mb": min(inside) / MB,
        "window_max_mb": max(inside) / MB,
        "slope_mb_per_minute": slope * 60 / MB, "requests_in_window": requests,
        "detectable_leak_bytes_per_request": bound / requests if requests else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10, help="how long the workload runs (default 10)")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads (default 16)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the question pairs and ranges (default 0)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args()

    lines = (ROOT / "tests" / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    scratch = Path(tempfile.mkdtemp(prefix="govqa-soak-"))
    log_path = scratch / "serve.log"
    server, url = start_server(log_path, snapshot_index(scratch / "index"))
    print(f"govqa serve pid {server.pid} at {url}; log {log_path}", flush=True)
    try:
        listing = httpx.get(f"{url}/v1/documents", timeout=30).json()
        documents = {d["doc_id"]: d["chars"] for d in listing["documents"]}
        version_before = listing["index_version"]
        cache_before = cache_counts(url)
        soak = Soak(url, server.pid, Workload(questions, documents, args.seed), args.concurrency, args.minutes * 60)
        print(f"{args.concurrency} clients for {args.minutes:g} min, mix {dict(collections.Counter(MIX))} "
              f"of every {len(MIX)}", flush=True)
        soak.run()
        version_after = httpx.get(f"{url}/readyz", timeout=30).json().get("index_version")
        cache_after = cache_counts(url)
        alive = server.poll() is None
    finally:
        stop_server(server)
        shutil.rmtree(scratch / "index", ignore_errors=True)  # the log stays

    minutes = [minute_figures(soak, m) for m in range(soak.minutes())]
    outcomes = collections.Counter((r[1], r[2]) for r in soak.records)
    unexpected_total = sum(n for (kind, outcome), n in outcomes.items() if unexpected(kind, outcome))
    server_5xx = sum(n for (_, outcome), n in outcomes.items() if outcome.startswith("5"))
    memory = memory_verdict(soak.memory, soak.seconds, lambda t0, t1: sum(1 for r in soak.records if t0 <= r[0] <= t1))
    cache = {k: cache_after.get(k, 0) - cache_before.get(k, 0) for k in ("hit", "miss")}

    print(f"\n== soak: {args.concurrency} clients, {args.minutes:g} min, {len(soak.records)} requests, "
          f"{len(soak.records) / soak.seconds:.1f}/s; {os.cpu_count()} CPUs")
    header = (
        f"{'min':>3s} {'req/s':>6s} " + " ".join(f"{k + ' p50/p99':>20s}" for k in KINDS)
        + f" {'4xx ok':>7s} {'unexp':>5s} {'RSS MB':>7s}"
    )
    print(header)
    for f in minutes:
        cells = " ".join(
            f"{f'{v[0]:.0f}/{v[1]:.0f}':>20s}"
            for v in ((f["latency_ms"][k]["p50"], f["latency_ms"][k]["p99"]) for k in KINDS)
        )
        print(f"{f['minute']:3d} {f['per_second']:6.1f} {cells} {sum(f['expected_4xx'].values()):7d} "
              f"{sum(f['unexpected'].values()):5d} "
              f"{(f['rss_mb_last'] or 0):7.0f}")
    print("responses: " + ", ".join(f"{kind} {outcome}: {n}" for (kind, outcome), n in sorted(outcomes.items())))
    print(f"answer cache over the run: {cache['hit']:.0f} hits, {cache['miss']:.0f} misses")
    if "rss_start_mb" in memory:
        print(f"memory over the last {memory['window_seconds'] / 60:.1f} min: "
              f"RSS {memory['rss_start_mb']:.0f} → {memory['rss_end_mb']:.0f} MB "
              f"(growth {memory['growth_mb']:+.1f} MB, bound {memory['bound_mb']:.0f} MB; "
              f"range {memory['window_min_mb']:.0f}–"
              f"{memory['window_max_mb']:.0f} MB; slope {memory['slope_mb_per_minute']:+.2f} MB/min); over its "
              f"{memory['requests_in_window']} requests the bound catches a leak of "
              f"≥ {memory['detectable_leak_bytes_per_request']:.0f} bytes/request")
    samples = soak.memory
    if samples:
        print(f"server threads {min(m['threads'] for m in samples)}–{max(m['threads'] for m in samples)}, "
              f"open files {min(m['open_files'] for m in samples)}–{max(m['open_files'] for m in samples)}")
    problems = []
    if unexpected_total:
        problems.append(f"{unexpected_total} unexpected responses")
    if server_5xx:
        problems.append(f"{server_5xx} 5xx")
    if not memory["ok"]:
        problems.append(
            memory.get("reason") or f"RSS grew {memory['growth_mb']:.1f} MB (bound {memory['bound_mb']:.0f} MB)"
        )
    if not alive:
        problems.append("the server died")
    if version_before != version_after:
        print(f"note: the index changed during the run ({version_before} → {version_after}); "
              "memory figures include the swap")
    verdict = "PASS" if not problems else "FAIL: " + "; ".join(problems)
    print(f"verdict: {verdict}")
    if args.json:
        args.json.write_text(json.dumps({
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "mix": dict(collections.Counter(MIX)), "requests": len(soak.records),
            "per_second": len(soak.records) / soak.seconds,
            "minutes": minutes, "outcomes": {f"{k}:{o}": n for (k, o), n in sorted(outcomes.items())},
            "unexpected": unexpected_total, "server_5xx": server_5xx, "memory": memory, "memory_samples": soak.memory,
            "answer_cache": cache, "index_version": [version_before, version_after], "server_log": str(log_path),
            "verdict": verdict,
        }, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if not problems else 1


def cache_counts(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'^govqa_answer_cache_total\{result="(\w+)"\} (\S+)', text, re.M)
    }


if __name__ == "__main__":
    sys.exit(main())
