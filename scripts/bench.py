"""govqa benchmarks on this machine, printed as plain text tables (and optionally JSON).

    .venv/bin/python scripts/bench.py [options]

Parts, in the order they run. The build always runs: every other part uses the index it
makes in a temporary directory, so indexes/default is never read or touched.

  build    full build of --corpus by `govqa build` in a fresh process: wall time,
           index size on disk, peak RSS of the build process
  cold     `govqa serve` on a free loopback port: seconds from process start until
           GET /readyz returns 200
  http     POST /v1/ask, then GET /v1/search (hybrid, k=5), each --concurrency level on
           a newly started server for up to --http-seconds: at concurrency 1 each question
           once (fresh), at higher levels 30% repeats of questions already asked;
           requests/s, client latency p50/p99, the server's own took_ms for fresh and
           repeated questions, errors (non-200 or exception)
  latency  in-process search per mode, and ask (hybrid search plus the answer; once with
           the cache off, once repeated from the cache), each question once after a
           warm-up, and the query embedding alone: p50/p95/p99 ms, peak RSS
  scale    a synthetic corpus of --chunks chunks made of the real corpus's sentences:
           per FAISS index type build time, chunks/s, bytes per chunk, k=50 query
           latency, HNSW recall@10 against flat; BM25 tokenize+index time and query
           latency; peak RSS. A chunk's vector is the normalized sum of its sentences'
           real vectors and the queries are the questions embedded by the model, unless
           --fake-vectors (random unit vectors) or --real-vectors.

Options:
  --corpus DIR          corpus to build (default: corpus/)
  --questions FILE      JSON lines with a "question" field (default: tests/data/questions.jsonl)
  --only PARTS          comma-separated subset of cold,http,latency,scale (build always runs)
  --skip-scale          leave out the scale part
  --chunks N            synthetic chunks for the scale part (default 100000; 1000000 is the big run)
  --fake-vectors        random unit vectors for the scale part (isolates the index; a worst case for HNSW)
  --real-vectors        encode the synthetic chunks with the configured model (hours at 100k)
  --tokenize-chunks     tokenize every synthetic chunk whole (about 2.5 ms a chunk here)
                        instead of each distinct sentence once
  --concurrency LIST    HTTP concurrency levels (default 1,4,16)
  --http-seconds S      duration of each HTTP level (default 6)
  --workers LIST        GOVQA_WORKERS of the HTTP servers (default 1; e.g. 1,2 runs every level for each)
  --cache-free          HTTP servers with the answer cache off, every request answered anew
  --k K                 passages per in-process and HTTP search (default 5)
  --scale-k K           neighbours per scale query (default 50)
  --scale-queries N     query vectors for the scale part (default 200)
  --memory-limit-gib G  refuse a scale run estimated above this (default 24)
  --seed N              seed of the synthetic corpus and vectors (default 0)
  --json FILE           also write every figure as JSON (rewritten after each part)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench_scale import GIB, ScaleOptions, cpu_features, describe_cpu, peak_rss_bytes, percentiles_ms, run_scale

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PARTS = ("cold", "http", "latency", "scale")
MODES = ("dense", "keyword", "hybrid")
WARMUP = 5
REPEAT_SHARE = 0.3
MB = 1e6


def machine() -> dict:
    """CPU count, model and SIMD flags, memory: named in every table header and in --json."""
    features = cpu_features()
    if features["cpu_model"] == "unknown CPU":
        features["cpu_model"] = platform.processor() or features["cpu_model"]
    mem = 0
    try:
        mem = int(re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text()).group(1)) * 1024
    except (OSError, AttributeError):
        pass
    return {"cpus": os.cpu_count(), **features, "memory_bytes": mem}


def describe(info: dict) -> str:
    """The machine in one line, for table headers."""
    return f"{info['cpus']} CPUs, {describe_cpu(info)}, {info['memory_bytes'] / GIB:.1f} GiB RAM"


def cell(value: object) -> str:
    """A table cell: thousands separated, fewer decimals as numbers grow, "-" for missing."""
    if isinstance(value, float):
        if value != value:
            return "-"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "-" if value is None else str(value)


def format_table(
    title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = ()
) -> str:
    """A title line, aligned columns (first left, others right), then notes."""
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    out = [title, line(columns), line(["-" * w for w in widths]), *map(line, cells)]
    return "\n".join(out + [f"  {n}" for n in notes]) + "\n"


class Report:
    """Prints each table as its part finishes and keeps every figure for --json."""

    def __init__(self, info: dict, json_path: Path | None) -> None:
        self.info = info
        self.json_path = json_path
        self.figures: dict = {"machine": info}

    def table(
        self, what: str, columns: Sequence[str], rows: Sequence[Sequence[object]], notes: Sequence[str] = ()
    ) -> None:
        print(format_table(f"== {what} [{describe(self.info)}]", columns, rows, notes), flush=True)

    def record(self, part: str, figures: dict) -> None:
        self.figures[part] = figures
        if self.json_path:
            self.json_path.write_text(
                json.dumps(self.figures, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
            )


def load_questions(path: Path) -> list[str]:
    """The "question" field of each JSON line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def version_dir(index_root: Path) -> Path:
    return index_root / "versions" / (index_root / "CURRENT").read_text().strip()


RUSAGE_WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[2:]).returncode\n"
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def with_peak_rss(command: list[str], report_file: Path) -> tuple[list[str], Callable[[], int]]:
    """The command wrapped to record its peak RSS (GNU time -v, else a getrusage wrapper), and a reader
    of it in bytes."""
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists() and subprocess.run([str(gnu_time), "-v", "true"], capture_output=True).returncode == 0:
        def read_time() -> int:
            found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", report_file.read_text())
            return int(found.group(1)) * 1024 if found else 0
        return [str(gnu_time), "-v", "-o", str(report_file), *command], read_time
    return (
        [sys.executable, "-c", RUSAGE_WRAPPER, str(report_file), *command],
        lambda: int(report_file.read_text()) * 1024,
    )


def run_build(corpus: Path, index_root: Path, scratch: Path) -> dict:
    """`govqa build` in a fresh process (imports and model load included), as scripts/bench_build.py does."""
    command, read_peak = with_peak_rss(
        [str(BIN / "govqa"), "build", "--corpus", str(corpus), "--index-dir", str(index_root)],
        scratch / "build-rusage.txt",
    )
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"govqa build failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    current = version_dir(index_root)
    manifest = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    return {
        "corpus": str(corpus), "seconds": seconds, "in_process_seconds": manifest.get("build_seconds"),
        **manifest["counts"], "index_bytes": directory_size(current), "peak_rss_bytes": read_peak(),
        "files": {p.name: directory_size(p) if p.is_dir() else p.stat().st_size for p in current.iterdir()},
    }


def print_build(report: Report, build: dict) -> None:
    """The build figures, with the in-process share the manifest records."""
    rows = [
        ["full build, fresh process (wall)", f"{build['seconds']:.1f} s"],
        ["  of which build_index (manifest)", f"{build['in_process_seconds'] or float('nan'):.1f} s"],
        ["documents / chunks / sentences", f"{build['documents']} / {build['chunks']} / {build['sentences']}"],
        ["index size on disk", f"{build['index_bytes'] / MB:.2f} MB"],
        ["peak RSS of the build process", f"{build['peak_rss_bytes'] / MB:.0f} MB"],
    ]
    report.table(f"Index build of {build['corpus']}", ["figure", "value"], rows)


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start_server(
    index_root: Path, log_path: Path, timeout: float = 300, env_extra: dict[str, str] | None = None,
) -> tuple[subprocess.Popen, str, float]:
    """`govqa serve` on a free loopback port; returns it with its URL and the seconds until /readyz said 200."""
    import httpx

    port = free_port()
    env = {
        **os.environ, "GOVQA_HOST": "127.0.0.1", "GOVQA_PORT": str(port), "GOVQA_INDEX_DIR": str(index_root),
        **(env_extra or {}),
    }
    url = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log:
        started = time.perf_counter()
        server = subprocess.Popen([str(BIN / "govqa"), "serve"], stdout=log, stderr=subprocess.STDOUT, env=env)
    while time.perf_counter() - started < timeout:
        try:
            ready = httpx.get(f"{url}/readyz", timeout=2)
            if ready.status_code == 200:
                return server, url, time.perf_counter() - started
            if ready.json().get("error"):
                stop_server(server)
                raise SystemExit(f"govqa serve could not load the index: {ready.json()['error']}")
        except (httpx.TransportError, ValueError):
            pass
        if server.poll() is not None:
            raise SystemExit(f"govqa serve exited with {server.returncode}:\n{log_tail(log_path)}")
        time.sleep(0.05)
    stop_server(server)
    raise SystemExit(f"govqa serve not ready after {timeout:.0f} s:\n{log_tail(log_path)}")


def stop_server(server: subprocess.Popen) -> None:
    """Terminate, wait, and kill only if it does not exit within 30 s."""
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class QuestionStream:
    """Questions for the HTTP load: each new one once, in order; with probability `repeat` a request
    instead asks one already asked (a realistic mix, served partly from the answer cache)."""

    def __init__(self, questions: Sequence[str], repeat: float, seed: int = 0, cycle: bool = False) -> None:
        import random

        self.questions = list(questions)
        self.repeat = repeat
        self.cycle = cycle  # start again when the questions run out (for a server without an answer cache)
        self.random = random.Random(seed)
        self.asked = 0
        self.lock = threading.Lock()

    def next(self) -> tuple[str, bool] | None:
        """A question and whether it was asked before; None when fresh questions ran out and nothing repeats."""
        with self.lock:
            if self.asked and self.random.random() < self.repeat:
                return self.questions[self.random.randrange(self.asked)], True
            if self.asked >= len(self.questions) and not self.cycle:
                return None if not self.repeat else (self.questions[self.random.randrange(self.asked)], True)
            self.asked += 1
            return self.questions[(self.asked - 1) % len(self.questions)], False


def http_request(client, endpoint: str, question: str, k: int) -> tuple[bool, float | None]:  # noqa: ANN001 - an httpx.Client
    """One question to /v1/ask or /v1/search: (status 200, the server's own took_ms)."""
    if endpoint == "ask":
        response = client.post("/v1/ask", json={"question": question, "top_k": k, "mode": "hybrid"})
    else:
        response = client.get("/v1/search", params={"q": question, "k": k, "mode": "hybrid"})
    ok = response.status_code == 200
    return ok, response.json().get("took_ms") if ok else None


def http_level(url: str, endpoint: str, stream: QuestionStream, concurrency: int, seconds: float, k: int) -> dict:
    """`concurrency` threads, each with its own client, sending questions back to back for `seconds`
    (or until the stream runs out): client latency, server-side took_ms, requests/s, errors."""
    import httpx

    results: list[tuple[float, bool, float | None, bool]] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=60) as client:
            while time.perf_counter() < deadline and (item := stream.next()) is not None:
                question, repeated = item
                started = time.perf_counter()
                try:
                    ok, took = http_request(client, endpoint, question, k)
                except httpx.HTTPError:
                    ok, took = False, None
                mine.append((time.perf_counter() - started, ok, took, repeated))
        with lock:
            results.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    good = [r for r in results if r[1]]
    fresh_server = [r[2] / 1000 for r in good if not r[3]]
    return {
        "endpoint": endpoint, "concurrency": concurrency, "repeat": stream.repeat, "requests": len(results),
        "seconds": elapsed, "requests_per_s": len(results) / elapsed, "errors": len(results) - len(good),
        **percentiles_ms([r[0] for r in good]),
        "server_fresh": percentiles_ms(fresh_server) if fresh_server else {},
        "server_repeated_p50": (
            percentiles_ms([r[2] / 1000 for r in good if r[3]]).get("p50") if any(r[3] for r in good) else None
        ),
    }


def http_plan(
    concurrency: Sequence[int], workers: Sequence[int], cache_free: bool
) -> list[tuple[str, int, float, int]]:
    """(endpoint, concurrency, share of repeated questions, workers) per level: fresh questions one at a time,
    then a mix with repeats at each higher concurrency (none when cache-free), for /v1/ask and then /v1/search."""
    return [
        (endpoint, level, 0.0 if level == 1 or cache_free else REPEAT_SHARE, count)
        for count in workers for endpoint in ("ask", "search") for level in concurrency
    ]


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (a server's workers), from /proc."""
    children: dict[int, list[int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        children.setdefault(int(fields["PPid"]), []).append(int(fields["Pid"]))
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        pending.extend(children.get(current, []))
        try:
            total += int(Path(f"/proc/{current}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total


def run_server_parts(
    index_root: Path, questions: Sequence[str], args: argparse.Namespace, scratch: Path, http: bool
) -> dict:
    """Cold start, then (when asked) the HTTP load levels, against one `govqa serve` per level (a cold
    answer cache each time); the first server's start is the cold-start figure."""
    import httpx

    figures: dict = {"levels": []}
    warmup, measured = questions[-WARMUP:], questions[:-WARMUP]
    plan = http_plan(args.concurrency, args.workers, args.cache_free) if http else []
    for number, (endpoint, level, repeat, workers) in enumerate(plan or [("", 0, 0.0, 1)]):
        env = {"GOVQA_WORKERS": str(workers), **({"GOVQA_CACHE_SIZE": "0"} if args.cache_free else {})}
        server, url, cold = start_server(index_root, scratch / "serve.log", env_extra=env)
        if workers == 1:
            figures.setdefault("cold_start_seconds", cold)
        try:
            if endpoint:
                with httpx.Client(base_url=url, timeout=60) as client:
                    for question in warmup * workers:  # every worker warmed (the kernel spreads connections)
                        http_request(client, endpoint, question, args.k)
                stream = QuestionStream(measured, repeat, seed=args.seed + number, cycle=args.cache_free)
                level_figures = http_level(url, endpoint, stream, level, args.http_seconds, args.k)
                figures["levels"].append({**level_figures, "workers": workers, "rss_bytes": tree_rss_bytes(server.pid)})
        finally:
            stop_server(server)
    return figures


def print_cold(report: Report, cold: float) -> None:
    report.table(
        "Cold start of `govqa serve` (process start until GET /readyz is 200)", ["figure", "value"],
        [["cold start", f"{cold:.2f} s"]], ["imports, model load, index load and verification, query warm-up"],
    )


def print_http(report: Report, levels: list[dict], args: argparse.Namespace) -> None:
    rows = [
        [lv["endpoint"], lv["workers"], lv["concurrency"], f"{lv['repeat']:.0%}", lv["requests"], lv["requests_per_s"],
         lv["p50"], lv["p99"], lv["server_fresh"].get("p50"), lv["server_fresh"].get("p99"), lv["server_repeated_p50"],
         lv["errors"], lv["rss_bytes"] / MB]
        for lv in levels
    ]
    repeats = ("answer cache off (GOVQA_CACHE_SIZE=0): every request is answered anew, the questions asked in turn"
               if args.cache_free else
               f"concurrency 1 asks each question once, higher levels repeat an already-asked question "
               f"{REPEAT_SHARE:.0%} of the time")
    report.table(
        f"HTTP POST /v1/ask and GET /v1/search, mode=hybrid, k={args.k}, up to {args.http_seconds:g} s per level",
        ["endpoint", "workers", "conc.", "repeats", "requests", "req/s", "p50 ms", "p99 ms", "srv fresh p50",
         "srv fresh p99", "srv repeat p50", "errors", "RSS MB"],
        rows,
        ["each level on a newly started server (empty answer cache); " + repeats,
         ("p50/p99 as the client saw them, srv = the server's took_ms; "
          "RSS: the server's processes together at the level's end"),
         "client threads (httpx.Client each) run on the same machine as the server"],
    )


def latency_table(name_to_callable: dict[str, Callable[[str], object]], questions: Sequence[str]) -> list[dict]:
    """Each callable over every question once, after a warm-up of a few, as p50/p95/p99 ms rows."""
    rows = []
    for name, call in name_to_callable.items():
        for question in questions[:WARMUP]:
            call(question)
        seconds = []
        for question in questions:
            started = time.perf_counter()
            call(question)
            seconds.append(time.perf_counter() - started)
        rows.append({"name": name, "queries": len(seconds), **percentiles_ms(seconds)})
    return rows


def run_latency(index_root: Path, questions: Sequence[str], k: int) -> dict:
    """Load as the service does, then time search per mode, ask with and without the cache, and the query embedding."""
    from service.asking import Asker
    from service.pipeline import search
    from service.runtime import open_retriever
    from service.settings import Settings

    started = time.perf_counter()
    settings = Settings(index_dir=index_root)
    retriever = open_retriever(settings)
    load_seconds = time.perf_counter() - started
    loaded_peak = peak_rss_bytes()
    uncached = Asker(retriever, settings.model_copy(update={"cache_size": 0}))
    cached = Asker(retriever, settings)
    for question in questions:
        cached.ask(question, k)
    calls: dict[str, Callable[[str], object]] = {
        mode: (lambda question, mode=mode: search(retriever, question, k=k, mode=mode)) for mode in MODES
    }
    calls["ask"] = lambda question: uncached.ask(question, k)
    calls["ask, cached"] = lambda question: cached.ask(question, k)
    calls["query embedding"] = retriever.embed_query
    rows = latency_table(calls, questions)
    return {
        "k": k, "load_seconds": load_seconds, "peak_rss_after_load_bytes": loaded_peak,
        "peak_rss_after_queries_bytes": peak_rss_bytes(), "rows": rows,
    }


def print_latency(report: Report, figures: dict, questions_file: Path) -> None:
    rows = [[r["name"], r["queries"], r["p50"], r["p95"], r["p99"], r["mean"]] for r in figures["rows"]]
    report.table(
        f"In-process latency, k={figures['k']}, over {questions_file.name}, each question once after {WARMUP} warm-up",
        ["mode", "queries", "p50 ms", "p95 ms", "p99 ms", "mean ms"], rows,
        [f"retriever load (open_retriever: model and index): {figures['load_seconds']:.1f} s",
         f"peak RSS (VmHWM) after loading: {figures['peak_rss_after_load_bytes'] / MB:.0f} MB, "
         f"after the queries: {figures['peak_rss_after_queries_bytes'] / MB:.0f} MB"],
    )


def question_embedder(index_root: Path) -> Callable[[list[str]], np.ndarray]:
    """The questions as the service embeds them (normalized, with the configured model)."""
    from index.normalize import normalize
    from service.runtime import make_embedder
    from service.settings import Settings

    def embed(questions: list[str]) -> np.ndarray:
        return make_embedder(Settings(index_dir=index_root)).encode([normalize(q) for q in questions], kind="query")

    return embed


def run_scale_part(index_root: Path, questions: list[str], args: argparse.Namespace, scratch: Path) -> dict:
    """Sentences and user dictionary of the built index feed the synthetic corpus and the tokenizer."""
    from index.tokenizing import KeywordTokenizer

    current = version_dir(index_root)
    rows = (
        json.loads(line)
        for line in (current / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    )
    sentences = [row["text"] for row in rows]
    tokenizer = KeywordTokenizer.from_file(current / "userdict.txt")
    options = ScaleOptions(
        chunks=args.chunks, vectors=args.vectors, whole_chunks=args.tokenize_chunks, k=args.scale_k,
        queries=args.scale_queries, seed=args.seed, memory_limit=int(args.memory_limit_gib * GIB),
        dense_types=args.dense_types,
    )
    started = time.perf_counter()
    sentence_vectors = np.load(current / "sentence_vectors.npy")
    result = run_scale(
        sentences, sentence_vectors, question_embedder(index_root), tokenizer, questions, options, scratch
    )
    result["seconds"] = time.perf_counter() - started
    return result


def print_scale(report: Report, scale: dict, process_peak: int) -> None:
    check = scale["memory_check"]
    if scale.get("refused"):
        report.table(
            f"Scale run of {scale['chunks']:,} chunks: REFUSED", ["figure", "value"],
            [["estimated peak added", f"{check['estimate_bytes'] / GIB:.1f} GiB"],
             ["budget (min of limit - RSS, MemAvailable)", f"{check['budget_bytes'] / GIB:.1f} GiB"],
             ["largest N that fits", f"{check['largest_fitting_chunks']:,}"]],
        )
        return
    corpus, dense, keyword = scale["corpus"], scale["dense"], scale["keyword"]
    vectors_note = (
        f"vectors: {scale['vectors']} float32 vectors of dimension {scale['dimension']}"
        + VECTOR_NOTES[scale["vectors"]]
    )
    corpus_note = (
        f"corpus: {corpus['chunks']:,} synthetic chunks of {corpus['mean_sentences']:.1f} sentences / "
        f"{corpus['mean_chars']:.0f} characters on average, from {corpus['source_sentences']:,} shuffled sentences "
        "of the built index "
        f"(made in {corpus['seconds']:.1f} s; vectors in {scale['vectors_seconds']:.1f} s)"
    )
    report.table(
        f"Scale run, dense build: {corpus['chunks']:,} chunks, index.vector_index.dense_index",
        ["index", "build s", "chunks/s", "file MB", "file B/chunk", "RSS growth B/chunk", "phase peak RSS MB"],
        [[b["index"], b["seconds"], b["chunks_per_s"], b["file_bytes"] / MB, b["file_bytes_per_chunk"],
          b["rss_growth_bytes_per_chunk"], b["phase_peak_rss_bytes"] / MB] for b in dense["builds"]],
        [corpus_note, vectors_note,
         "hnsw: IndexHNSWFlat(d, 32, inner product), efConstruction 80; phase peak includes the vectors"],
    )
    report.table(
        f"Scale run, dense queries: {corpus['chunks']:,} chunks, one query at a time, k={dense['searches'][0]['k']}",
        ["index", "efSearch", "queries", "p50 ms", "p95 ms", "p99 ms", "recall@10 vs flat"],
        [[s["index"], s["ef_search"], s["queries"], s["p50"], s["p95"], s["p99"], s["recall@10"]]
         for s in dense["searches"]],
        ["efSearch 16 is faiss's default; govqa searches HNSW with efSearch = max(2k, 64), the middle row"],
    )
    report.table(
        f"Scale run, keyword (KeywordTokenizer + bm25s, as index/build.py): {corpus['chunks']:,} chunks",
        ["figure", "value"],
        [["tokenize",
          f"{keyword['tokenize_seconds']:.1f} s ({keyword['texts_tokenized']:,} texts: {keyword['tokenized']})"],
         ["bm25s index", f"{keyword['index_seconds']:.1f} s"],
         ["tokenize + index", f"{keyword['seconds']:.1f} s = {keyword['chunks_per_s']:,.0f} chunks/s"],
         ["tokens per chunk (mean) / vocabulary",
          f"{keyword['mean_tokens_per_chunk']:.0f} / {keyword['vocabulary']:,}"],
         ["score matrix", f"{keyword['index_bytes'] / MB:.0f} MB = {keyword['index_bytes_per_chunk']:.0f} B/chunk"],
         ["phase peak RSS", f"{keyword['phase_peak_rss_bytes'] / MB:,.0f} MB"],
         [f"query p50 / p95 / p99, k={keyword['k']}, {keyword['queries']} questions",
          f"{keyword['p50']:.2f} / {keyword['p95']:.2f} / {keyword['p99']:.2f} ms"]],
        [("query time: vocabulary lookup, bm25s get_scores and top-k, as FaissBM25Index.keyword; "
          "tokenizing the question is not included")],
    )
    phase_peaks = [
        scale["corpus_phase_peak_rss_bytes"], keyword["phase_peak_rss_bytes"],
        *(b["phase_peak_rss_bytes"] for b in dense["builds"]),
    ]
    report.table(
        f"Scale run, memory: {corpus['chunks']:,} chunks", ["figure", "value"],
        [["RSS at the start of the scale run", f"{scale['rss_at_start_bytes'] / MB:,.0f} MB"],
         ["peak RSS during the scale run", f"{max(phase_peaks) / MB:,.0f} MB"],
         ["peak RSS of the benchmark process overall", f"{max(process_peak, *phase_peaks) / MB:,.0f} MB"],
         ["estimated peak added (checked before allocating)", f"{check['estimate_bytes'] / MB:,.0f} MB"],
         ["budget (min of limit - RSS, MemAvailable)", f"{check['budget_bytes'] / MB:,.0f} MB"],
         ["scale run wall time", f"{scale['seconds']:.1f} s"]],
    )


VECTOR_NOTES = {
    "sentence sums": (
        ": each chunk the normalized sum of its sentences' real vectors; queries: the questions embedded by the model"
    ),
    "random unit": (
        " (--fake-vectors: random 512-d unit vectors; recall and HNSW speed on them are a worst case, "
        "not what real embeddings give)"
    ),
    "model": " from the configured model",
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, usage=argparse.SUPPRESS
    )
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--questions", type=Path, default=ROOT / "tests" / "data" / "questions.jsonl")
    parser.add_argument("--only", type=lambda s: [p.strip() for p in s.split(",") if p.strip()], default=list(PARTS))
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--chunks", type=int, default=100_000)
    vectors = parser.add_mutually_exclusive_group()
    vectors.add_argument("--fake-vectors", dest="vectors", action="store_const", const="random", default="sentences")
    vectors.add_argument("--real-vectors", dest="vectors", action="store_const", const="model")
    parser.add_argument("--tokenize-chunks", action="store_true")
    parser.add_argument("--concurrency", type=lambda s: [int(c) for c in s.split(",")], default=[1, 4, 16])
    parser.add_argument("--http-seconds", type=float, default=6.0)
    parser.add_argument("--workers", type=lambda s: [int(c) for c in s.split(",")], default=[1],
                        help="GOVQA_WORKERS of the HTTP servers, each count its own levels (default 1)")
    parser.add_argument("--cache-free", action="store_true",
                        help="HTTP servers without an answer cache, every request new")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--scale-k", type=int, default=50)
    parser.add_argument("--dense-types", type=lambda s: tuple(p.strip() for p in s.split(",") if p.strip()), default=(),
                        help="index kinds the scale run builds besides flat "
                             "(default: all of index.vector_index.INDEX_TYPES)")
    parser.add_argument("--scale-queries", type=int, default=200)
    parser.add_argument("--memory-limit-gib", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(PARTS)
    if unknown:
        parser.error(f"--only takes {','.join(PARTS)}; not {','.join(sorted(unknown))}")
    if args.skip_scale:
        args.only = [p for p in args.only if p != "scale"]
    return args


class CpuMeter:
    """CPU time the whole machine spent busy versus this benchmark and its waited-for children, over one part."""

    def __init__(self) -> None:
        self.hz = os.sysconf("SC_CLK_TCK")
        self.started = time.perf_counter()
        self.busy, self.own = self.machine_busy(), self.own_cpu()

    def machine_busy(self) -> float:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
        return (user + nice + system + irq + softirq + steal) / self.hz

    @staticmethod
    def own_cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def stop(self) -> dict:
        wall = time.perf_counter() - self.started
        other = (self.machine_busy() - self.busy) - (self.own_cpu() - self.own)
        return {"seconds": wall, "other_cpus": max(other, 0.0) / wall if wall else 0.0}


def print_parts(report: Report, parts: dict[str, dict]) -> None:
    report.table(
        "Wall time per part", ["part", "seconds", "other load (CPUs)"],
        [[name, p["seconds"], p["other_cpus"]] for name, p in parts.items()]
        + [["total", sum(p["seconds"] for p in parts.values()), None]],
        [("other load: CPUs kept busy by processes outside this benchmark (from /proc/stat); "
          "above ~0.2 the figures of that part are affected")],
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    report = Report(machine(), args.json)
    questions = load_questions(args.questions)
    print(f"govqa benchmark: {describe(report.info)}; parts: build, {', '.join(args.only) or '-'}\n", flush=True)
    parts: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="govqa-bench-") as tmp:
        scratch = Path(tmp)
        index_root = scratch / "index"
        meter = CpuMeter()
        build = run_build(args.corpus, index_root, scratch)
        parts["build"] = meter.stop()
        report.record("build", build)
        print_build(report, build)
        if "cold" in args.only or "http" in args.only:
            meter = CpuMeter()
            served = run_server_parts(index_root, questions, args, scratch, http="http" in args.only)
            parts["cold start + http"] = meter.stop()
            report.record("cold_start", {"seconds": served["cold_start_seconds"]})
            print_cold(report, served["cold_start_seconds"])
            if served["levels"]:
                report.record(
                    "http",
                    {"k": args.k, "mode": "hybrid", "seconds_per_level": args.http_seconds, "levels": served["levels"]},
                )
                print_http(report, served["levels"], args)
        if "latency" in args.only:
            meter = CpuMeter()
            latency = run_latency(index_root, questions, args.k)
            parts["latency"] = meter.stop()
            report.record("latency", latency)
            print_latency(report, latency, args.questions)
            gc.collect()
        if "scale" in args.only:
            process_peak = peak_rss_bytes()
            meter = CpuMeter()
            scale = run_scale_part(index_root, questions, args, scratch)
            parts["scale"] = meter.stop()
            report.record("scale", scale)
            print_scale(report, scale, process_peak)
    report.record("parts", parts)
    print_parts(report, parts)


if __name__ == "__main__":
    main()
