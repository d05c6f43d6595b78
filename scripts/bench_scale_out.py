"""Scale-out figures side by side, in one run (needs the scale extra: `make scale`).

    .venv/scale/bin/python scripts/bench_scale_out.py [options]

  serving  POST /v1/ask at --concurrency (16) with fresh questions (each text asked once: the
           question sets, then the same questions numbered, so the answer cache never helps) for
           --seconds per server, against: plain `govqa serve` (uvicorn), and `govqa serve
           --replicas N` for each N of --replicas (1,2) through Ray Serve (HAProxy proxy; with
           --python-proxy also Ray's Python proxy at the largest N). Each server is started
           fresh on a free loopback port from the same index (read only). Figures: req/s, client
           p50/p99, the server's took_ms p50, errors, and the memory of the server's whole
           process tree (every process descended from the `govqa serve` command: for Ray the
           GCS, raylet, controller, proxy, HAProxy and replicas) as summed RSS and summed PSS
           (RSS counts shared pages once per process; PSS divides them).
  dense    FAISS flat against Milvus Lite (FLAT, through pymilvus as the backend searches) at
           --chunks (100,000) synthetic chunks: each chunk's vector the normalized sum of real
           sentence vectors of the index, queries the question sets embedded by the model (as
           scripts/bench_scale.py makes them); k = 50, one query at a time: p50/p95, build or
           insert rate, memory.

Options:
  --index-dir DIR     index root to serve and take sentence vectors from (default: GOVQA_INDEX_DIR)
  --only PARTS        serving,dense (default both)
  --concurrency N     client threads (default 16)
  --seconds S         load per server (default 20)
  --replicas LIST     Ray Serve replica counts (default 1,2)
  --python-proxy      also measure Ray's Python proxy (RAY_SERVE_ENABLE_HA_PROXY=0) at the largest count
  --chunks N          synthetic chunks for the dense part (default 100000)
  --queries N         queries for the dense part (default 200)
  --json FILE         also write the figures as JSON

The load generator runs on the same machine as the servers: on 2 cores it competes with them,
and so do other jobs; say so when quoting the figures.
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import QuestionStream, Report, free_port, http_level, load_questions, log_tail, machine  # noqa: E402
from bench_scale import percentiles_ms, rss_bytes, sentence_sum_vectors, synthetic_corpus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTION_FILES = [ROOT / "tests" / "data" / "questions.jsonl", ROOT.parent / "shared" / "eval" / "dev.jsonl"]
MB = 1e6


def fresh_questions(count: int) -> list[str]:
    """`count` distinct question texts: the question sets, then the same questions numbered (（2）, （3）…)."""
    base = [q for path in QUESTION_FILES if path.exists() for q in load_questions(path)]
    out, round_ = [], 1
    while len(out) < count:
        out.extend(q if round_ == 1 else f"{q}（{round_}）" for q in base)
        round_ += 1
    return out[:count]


def descendants(pid: int) -> list[int]:
    """pid and every process descended from it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_memory(pid: int) -> dict:
    """Summed RSS and PSS (kB figures of smaps_rollup) of a process tree, and how many processes."""
    rss = pss = count = 0
    for p in descendants(pid):
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
            count += 1
        except OSError:
            continue
    return {"rss_bytes": rss, "pss_bytes": pss, "processes": count}


def start(
    command: list[str], env: dict, log_path: Path, url: str, timeout: float = 420
) -> tuple[subprocess.Popen, float]:
    """Start a server command in its own session; wait until GET /readyz is 200."""
    import httpx

    started = time.perf_counter()
    with log_path.open("w") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    while time.perf_counter() - started < timeout:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, time.perf_counter() - started
        except httpx.TransportError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"{' '.join(command)} exited with {server.returncode}:\n{log_tail(log_path)}")
        time.sleep(0.2)
    stop(server)
    raise SystemExit(f"{' '.join(command)} not ready after {timeout:.0f} s:\n{log_tail(log_path)}")


def stop(server: subprocess.Popen, timeout: float = 90) -> float:
    """SIGTERM the server command (govqa serve stops its Ray instance itself); kill its session if it hangs."""
    started = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    return time.perf_counter() - started


def run_serving(index_root: Path, args: argparse.Namespace, scratch: Path) -> list[dict]:
    import httpx

    configs = [("plain uvicorn", [], {})]
    configs += [
        (f"Ray Serve, {n} replica{'s' if n > 1 else ''}", ["--replicas", str(n)], {"RAY_SERVE_ENABLE_HA_PROXY": "1"})
        for n in args.replicas
    ]
    if args.python_proxy:
        n = max(args.replicas)
        configs.append(
            (f"Ray Serve, {n} replicas, Python proxy", ["--replicas", str(n)], {"RAY_SERVE_ENABLE_HA_PROXY": "0"})
        )
    # enough fresh questions for every server at a generous rate
    pool = fresh_questions(int(args.seconds * 200) + 50)
    rows = []
    for number, (name, extra, extra_env) in enumerate(configs):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ, "GOVQA_HOST": "127.0.0.1", "GOVQA_PORT": str(port), "GOVQA_INDEX_DIR": str(index_root),
            "GOVQA_RELOAD_SECONDS": "0",
            # Ray: a token of this run's own (not written to ~/.ray)
            "RAY_AUTH_TOKEN": secrets.token_hex(32), **extra_env,
        }
        command = [sys.executable, "-m", "service.cli", "serve", *extra]
        server, ready_seconds = start(command, env, scratch / f"server-{number}.log", url)
        try:
            with httpx.Client(base_url=url, timeout=60) as client:  # warm every replica's model
                for i in range(8):
                    client.post("/v1/ask", json={"question": f"预热问题 {i}"})
            idle = tree_memory(server.pid)
            stream = QuestionStream(pool, repeat=0.0, seed=number)
            level = http_level(url, "ask", stream, args.concurrency, args.seconds, 5)
            loaded = tree_memory(server.pid)
        finally:
            stopped = stop(server)
        row = {
            "server": name, "ready_seconds": ready_seconds, "stop_seconds": stopped, **level, "memory_idle": idle,
            "memory_after_load": loaded,
        }
        rows.append(row)
        print(f"  {name}: {level['requests_per_s']:.1f} req/s, p50 {level['p50']:.0f} ms, "
              f"RSS {loaded['rss_bytes'] / MB:.0f} MB in {loaded['processes']} processes", flush=True)
    return rows


def print_serving(report: Report, rows: list[dict], args: argparse.Namespace) -> None:
    report.table(
        f"POST /v1/ask, concurrency {args.concurrency}, fresh questions, {args.seconds:.0f} s per server",
        ["server", "ready s", "requests", "req/s", "p50 ms", "p99 ms", "srv p50 ms", "errors", "RSS MB", "PSS MB",
         "procs"],
        [[r["server"], r["ready_seconds"], r["requests"], r["requests_per_s"], r["p50"], r["p99"],
          r["server_fresh"].get("p50"), r["errors"], r["memory_after_load"]["rss_bytes"] / MB,
          r["memory_after_load"]["pss_bytes"] / MB, r["memory_after_load"]["processes"]]
         for r in rows],
        [("memory: the whole process tree of the server command after the load (RSS summed per process; "
          "PSS shares shared pages)"),
         "client threads run on the same cores as the servers"],
    )


def run_dense(index_root: Path, args: argparse.Namespace, scratch: Path) -> dict:
    import faiss

    from index import store
    from index.build import SENTENCE_VECTORS_FILE, SENTENCES_FILE
    from index.milvus_backend import connect, vector_index
    from index.normalize import normalize
    from service.runtime import make_embedder
    from service.settings import Settings

    directory = store.current_dir(index_root)
    sentences = [row["text"] for row in store.read_jsonl(directory / SENTENCES_FILE)]
    sentence_vectors = np.load(directory / SENTENCE_VECTORS_FILE, allow_pickle=False)
    rng = np.random.default_rng(0)
    corpus = synthetic_corpus(sentences, args.chunks, rng)
    vectors = sentence_sum_vectors(corpus, sentence_vectors)
    embedder = make_embedder(Settings(index_dir=index_root))
    questions = fresh_questions(args.queries)
    queries = np.asarray(embedder.encode([normalize(q) for q in questions], kind="query"), np.float32)
    k = 50

    started = time.perf_counter()
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss_build = time.perf_counter() - started
    for q in queries[:5]:
        flat.search(q[None, :], k)
    faiss_seconds, truth = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = flat.search(q[None, :], k)
        faiss_seconds.append(time.perf_counter() - t)
        truth.append(ids[0])

    gc.collect()
    rss_before = rss_bytes()
    uri = str(scratch / "bench-milvus.db")
    client = connect(uri)
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(vectors.shape[1]))
    schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
    client.create_collection("bench_dense", schema=schema, index_params=vector_index(client, "flat", sparse=False))
    started = time.perf_counter()
    for at in range(0, len(vectors), 2000):
        client.insert(
            "bench_dense",
            [
                {"id": i, "vector": vectors[i], "doc_id": f"doc{i % 97}"}
                for i in range(at, min(at + 2000, len(vectors)))
            ],
        )
    client.flush("bench_dense")
    insert_seconds = time.perf_counter() - started
    milvus_rss = rss_bytes() - rss_before
    for q in queries[:5]:
        client.search("bench_dense", data=[q.tolist()], anns_field="vector", limit=k, output_fields=["doc_id"])
    milvus_seconds, agree = [], []
    for q, expected in zip(queries, truth):
        t = time.perf_counter()
        found = client.search(
            "bench_dense", data=[q.tolist()], anns_field="vector", limit=k, output_fields=["doc_id"],
            search_params={"metric_type": "IP"},
        )
        milvus_seconds.append(time.perf_counter() - t)
        agree.append(len({h["id"] for h in found[0][:10]} & set(expected[:10].tolist())) / 10)
    client.drop_collection("bench_dense")
    return {
        "chunks": len(vectors), "dimension": int(vectors.shape[1]), "k": k, "queries": len(queries),
        "faiss": {"build_seconds": faiss_build, "bytes": int(vectors.nbytes), **percentiles_ms(faiss_seconds)},
        "milvus_lite": {"insert_seconds": insert_seconds, "inserts_per_s": len(vectors) / insert_seconds,
                        "rss_growth_bytes": milvus_rss,
                        **percentiles_ms(milvus_seconds), "top10_agreement_with_faiss": float(np.mean(agree))},
    }


def print_dense(report: Report, dense: dict) -> None:
    f, m = dense["faiss"], dense["milvus_lite"]
    report.table(
        f"Dense top-{dense['k']} over {dense['chunks']:,} synthetic chunks ({dense['dimension']}-d), "
        f"{dense['queries']} queries one at a time",
        ["index", "build / insert", "p50 ms", "p95 ms", "memory MB", "top-10 = FAISS"],
        [["FAISS flat (in process)", f"{f['build_seconds']:.2f} s", f["p50"], f["p95"], f["bytes"] / MB, "1.00"],
         ["Milvus Lite FLAT (pymilvus, gRPC in process)", f"{m['insert_seconds']:.1f} s ({m['inserts_per_s']:,.0f}/s)",
          m["p50"], m["p95"], m["rss_growth_bytes"] / MB, f"{m['top10_agreement_with_faiss']:.2f}"]],
        ["FAISS memory: the vectors; Milvus Lite memory: RSS growth of this process while inserting"],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--only", default="serving,dense")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--replicas", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    parser.add_argument("--python-proxy", action="store_true")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from service.settings import Settings

    index_root = (args.index_dir or Settings().index_dir).resolve()
    parts = set(args.only.split(","))
    report = Report(machine(), args.json)
    with tempfile.TemporaryDirectory(prefix="govqa-bench-scale-out-") as scratch:
        if "serving" in parts:
            rows = run_serving(index_root, args, Path(scratch))
            report.record("serving", rows)
            print_serving(report, rows, args)
        if "dense" in parts:
            dense = run_dense(index_root, args, Path(scratch))
            report.record("dense", dense)
            print_dense(report, dense)


if __name__ == "__main__":
    main()
