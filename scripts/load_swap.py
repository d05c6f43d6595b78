"""Load while the corpus changes: POST /v1/ask at a given concurrency against a server started here on
loopback, while documents are added and removed (each change is an index swap). Reports requests,
errors, 5xx, latency and the index versions answers came from; exits 1 on any error.

    .venv/bin/python scripts/load_swap.py --concurrency 16 --swaps 6

Works on copies of the corpus and of the built index (`make index`) in a temporary directory.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import typer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.settings import Settings  # noqa: E402

KEY = "load-swap-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(work: Path, settings: Settings) -> tuple[subprocess.Popen, str]:
    """govqa serve on a copy of the corpus and index, with document changes enabled."""
    shutil.copytree(settings.corpus, work / "corpus")
    shutil.copytree(settings.index_dir, work / "index")
    port = free_port()
    env = {**os.environ, "GOVQA_CORPUS": str(work / "corpus"), "GOVQA_INDEX_DIR": str(work / "index"),
           "GOVQA_ADMIN_KEY": KEY, "GOVQA_HOST": "127.0.0.1", "GOVQA_PORT": str(port), "GOVQA_MAX_IN_FLIGHT": "64"}
    log = (work / "server.log").open("w")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "govqa"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not become ready; see {work / 'server.log'}")


def document(i: int) -> bytes:
    return (f"# 第{i}号星际治理公告\n\n第{i}号星际治理公告要求轨道数据中心在第{i}季度前完成算法登记，"
            f"并由第{i}监察组复核其安全评估报告。\n").encode()


class Tally:
    """Thread-safe counts of what the askers saw."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.versions: Counter[str] = Counter()
        self.errors: list[str] = []
        self.latencies: list[float] = []

    def record(self, status: int, version: str | None, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.latencies.append(seconds * 1000)
            if version:
                self.versions[version] += 1
            if error:
                self.errors.append(error)


def asker(url: str, questions: list[str], stop: threading.Event, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                response = client.post(f"{url}/v1/ask", json={"question": rng.choice(questions), "top_k": 5})
                version = response.json().get("index_version") if response.status_code == 200 else None
                error = None if response.status_code == 200 else f"{response.status_code}: {response.text[:200]}"
                tally.record(response.status_code, version, time.perf_counter() - started, error)
            except httpx.HTTPError as exc:
                tally.record(0, None, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")


def change_corpus(url: str, swaps: int, pause: float) -> list[dict]:
    """Alternate adding a new document and removing it; each change is one swap."""
    changes, headers, added = [], {"authorization": f"Bearer {KEY}"}, None
    with httpx.Client(timeout=300, headers=headers) as client:
        for i in range(swaps):
            time.sleep(pause)
            started = time.perf_counter()
            if added is None:
                response = client.post(f"{url}/v1/documents", files={"file": (f"notice-{i}.md", document(i))})
                added = response.json()["added"][0]["doc_id"] if response.status_code == 201 else None
            else:
                response, added = client.delete(f"{url}/v1/documents/{added}"), None
            body = response.json()
            changes.append({"change": "add" if response.request.method == "POST" else "remove",
                            "status": response.status_code, "seconds": round(time.perf_counter() - started, 2),
                            "index_version": body.get("index_version")})
    return changes


def main(
    concurrency: int = typer.Option(16, min=1),
    swaps: int = typer.Option(6, min=1, help="document changes (adds and removes alternate)"),
    pause: float = typer.Option(2.0, help="seconds of plain load before each change"),
    json_out: Path = typer.Option(None, "--json", help="also write the figures here"),
) -> None:
    settings = Settings()
    questions = [
        json.loads(line)["question"]
        for line in (ROOT / "tests" / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with tempfile.TemporaryDirectory(prefix="govqa-load-swap-") as tmp:
        process, url = start_server(Path(tmp), settings)
        try:
            tally, stop = Tally(), threading.Event()
            threads = [
                threading.Thread(target=asker, args=(url, questions, stop, tally, i)) for i in range(concurrency)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            changes = change_corpus(url, swaps, pause)
            time.sleep(pause)
            stop.set()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(30)
    report(tally, changes, elapsed, concurrency, json_out)


def report(tally: Tally, changes: list[dict], elapsed: float, concurrency: int, json_out: Path | None) -> None:
    total = sum(tally.statuses.values())
    server_errors = sum(n for s, n in tally.statuses.items() if s >= 500)
    lat = sorted(tally.latencies)
    figures = {
        "concurrency": concurrency, "seconds": round(elapsed, 1), "requests": total,
        "req_per_s": round(total / elapsed, 1),
        "statuses": dict(tally.statuses), "errors": len(tally.errors), "5xx": server_errors,
        "p50_ms": round(statistics.median(lat), 1) if lat else None,
        "p99_ms": round(lat[int(0.99 * (len(lat) - 1))], 1) if lat else None,
        "swaps": sum(c["status"] in (200, 201) for c in changes), "changes": changes,
        "versions_answered": dict(tally.versions),
    }
    for change in changes:
        print(f"{change['change']:7s} {change['status']}  {change['seconds']:6.2f} s  -> {change['index_version']}")
    print(f"{total} asks in {elapsed:.1f} s at concurrency {concurrency} ({figures['req_per_s']} req/s), "
          f"p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    print(f"swaps {figures['swaps']}, versions answered from {len(tally.versions)}, errors {len(tally.errors)}, "
          f"5xx {server_errors}")
    for error in tally.errors[:5]:
        print("  ", error)
    if json_out:
        json_out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    if tally.errors or figures["swaps"] < len(changes):
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
