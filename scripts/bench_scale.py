"""The scale part of scripts/bench.py, plus the measuring helpers both share.

A synthetic corpus of N chunks is made of the real corpus's sentences, shuffled, so the
tokenizer sees realistic text. A chunk's vector is, by default, the normalized sum of its
sentences' real vectors from the built index, and the queries are the question set embedded
by the model, so HNSW recall is measured on realistic geometry without encoding N chunks;
`--fake-vectors` uses random unit vectors instead (a worst case for HNSW), `--real-vectors`
encodes every synthetic chunk with the model (hours at 100k on 2 cores). Each FAISS index type of
index/build.py and the BM25 index are then built and queried the way the project does it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

GIB = 1 << 30
DIMENSION = 512
MIN_CHARS, MAX_CHARS = 300, 400
RECALL_AT = 10
FAISS_DEFAULT_EF_SEARCH = 16

# Bytes per chunk at the peak of each phase, checked before anything is allocated. Dense and
# keyword were measured at 100k chunks (4.4 kB and 6.4 kB) and carry a margin; whole-chunk
# tokens (about 135 small str objects a chunk instead of shared ones) are estimated.
CORPUS_BYTES_PER_CHUNK = 200
HNSW_GRAPH_BYTES_PER_CHUNK = 400
KEYWORD_BYTES_PER_CHUNK = 9_000
WHOLE_CHUNK_TOKEN_BYTES_PER_CHUNK = 14_000
FIXED_MARGIN_BYTES = 1 * GIB


# CPU features that decide how fast FAISS scans vectors and the encoder multiplies: named with every figure.
SIMD_FLAGS = {
    "avx2": "AVX2", "avx512f": "AVX-512", "avx512_vnni": "AVX512-VNNI", "avx_vnni": "AVX-VNNI",
    "avx512_bf16": "AVX512-BF16", "avx512_fp16": "AVX512-FP16", "amx_tile": "AMX", "amx_bf16": "AMX-BF16",
    "amx_int8": "AMX-INT8",
}


def cpu_features() -> dict:
    """The CPU model, which of SIMD_FLAGS it has (index/cpu.py's cpu_flags), the SIMD levels faiss was compiled for
    and the threads it searches with."""
    import faiss

    from index.cpu import cpu_flags

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = cpu_flags()
    return {
        "cpu_model": model, "cpu_flags": [name for flag, name in SIMD_FLAGS.items() if flag in flags],
        "faiss_version": faiss.__version__, "faiss_simd": faiss.get_compile_options().split(),
        "faiss_threads": faiss.omp_get_max_threads(),
    }


def describe_cpu(features: dict) -> str:
    """CPU model and flags in one line, for table headers."""
    flags = " ".join(features["cpu_flags"]) or "no AVX2"
    simd = " ".join(features["faiss_simd"])
    return (
        f"{features['cpu_model']}; {flags}; faiss {features['faiss_version']} ({simd}), "
        f"{features['faiss_threads']} threads"
    )


def proc_status_kib(field_name: str) -> int:
    """A kB figure of /proc/self/status (VmRSS, VmHWM); 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_bytes() -> int:
    """Current resident set size of this process."""
    return proc_status_kib("VmRSS") * 1024


def peak_rss_bytes() -> int:
    """Peak RSS since start or since the last reset_peak()."""
    return proc_status_kib("VmHWM") * 1024


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux clear_refs 5), so a phase's own peak can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def mem_available_bytes() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def percentiles_ms(seconds: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    """p50/p95/p99 (and mean) of durations in seconds, as milliseconds."""
    if not seconds:
        return {f"p{p}": float("nan") for p in points} | {"mean": float("nan")}
    ms = np.asarray(seconds) * 1000
    return {f"p{p}": float(v) for p, v in zip(points, np.percentile(ms, points))} | {"mean": float(ms.mean())}


@dataclass
class SyntheticCorpus:
    """N chunks, each a run of source sentences: chunk i is ids[bounds[i]:bounds[i + 1]]."""

    sentences: list[str]
    bounds: np.ndarray
    ids: np.ndarray

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def text(self, i: int) -> str:
        return "".join(self.sentences[j] for j in self.ids[self.bounds[i]:self.bounds[i + 1]])

    def mean_chars(self) -> float:
        lengths = np.array([len(s) for s in self.sentences], np.int64)
        return float(lengths[self.ids].sum() / max(len(self), 1))


def shuffled_stream(n_sentences: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Sentence ids in shuffled passes over all sentences, so each is used about equally often."""
    passes = -(-length // n_sentences)
    return np.concatenate([rng.permutation(n_sentences) for _ in range(passes)])[:length]


def synthetic_corpus(sentences: list[str], n: int, rng: np.random.Generator) -> SyntheticCorpus:
    """Chunks of consecutive shuffled sentences, each filled up to a random 300-400 characters (at least one
    sentence)."""
    lengths = np.array([len(s) for s in sentences], np.int64)
    length = int(n * (MAX_CHARS / lengths.mean() + 2)) + len(sentences)
    stream = shuffled_stream(len(sentences), length, rng)
    ends = np.cumsum(lengths[stream])
    targets = rng.integers(MIN_CHARS, MAX_CHARS + 1, n)
    bounds = np.zeros(n + 1, np.int64)
    start = 0
    for i in range(n):
        if start + 1 >= len(stream):
            more = shuffled_stream(len(sentences), length, rng)
            stream = np.concatenate([stream, more])
            ends = np.concatenate([ends, ends[-1] + np.cumsum(lengths[more])])
        before = ends[start - 1] if start else 0
        start = max(int(np.searchsorted(ends, before + targets[i], side="right")), start + 1)
        bounds[i + 1] = start
    return SyntheticCorpus(sentences, bounds, stream[:start].astype(np.int32))


def random_unit_vectors(n: int, dimension: int, rng: np.random.Generator, block: int = 65536) -> np.ndarray:
    """Gaussian vectors normalized to length 1, filled block by block to avoid a second full-size copy."""
    out = np.empty((n, dimension), np.float32)
    for first in range(0, n, block):
        part = out[first:first + block]
        rng.standard_normal(out=part, dtype=np.float32)
        part /= np.linalg.norm(part, axis=1, keepdims=True)
    return out


def sentence_sum_vectors(corpus: SyntheticCorpus, sentence_vectors: np.ndarray, block: int = 16384) -> np.ndarray:
    """Each chunk's vector as the normalized sum of its sentences' vectors, block by block."""
    out = np.empty((len(corpus), sentence_vectors.shape[1]), np.float32)
    for first in range(0, len(corpus), block):
        last = min(first + block, len(corpus))
        lo, hi = corpus.bounds[first], corpus.bounds[last]
        summed = np.add.reduceat(sentence_vectors[corpus.ids[lo:hi]], corpus.bounds[first:last] - lo, axis=0)
        out[first:last] = summed / np.linalg.norm(summed, axis=1, keepdims=True)
    return out


def model_vectors(corpus: SyntheticCorpus, questions: list[str], batch: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and question vectors from the configured model (slow: hours at 100k chunks on 2 cores)."""
    from index.normalize import normalize
    from service.runtime import make_embedder
    from service.settings import Settings

    embedder = make_embedder(Settings())
    out = np.empty((len(corpus), embedder.dimension), np.float32)
    for first in range(0, len(corpus), batch):
        last = min(first + batch, len(corpus))
        out[first:last] = embedder.encode([corpus.text(i) for i in range(first, last)], batch_size=32)
    return out, embedder.encode([normalize(q) for q in questions], kind="query")


def estimate_peak_bytes(n: int, dimension: int, whole_chunks: bool) -> int:
    """Bytes the scale run adds at its peak: the dense phase (vectors + one index) or the keyword phase,
    whichever is larger."""
    vector = dimension * 4
    dense = 2 * vector + HNSW_GRAPH_BYTES_PER_CHUNK
    keyword = KEYWORD_BYTES_PER_CHUNK + (WHOLE_CHUNK_TOKEN_BYTES_PER_CHUNK if whole_chunks else 0)
    return FIXED_MARGIN_BYTES + n * (CORPUS_BYTES_PER_CHUNK + max(dense, keyword))


def largest_fitting(budget: int, dimension: int, whole_chunks: bool) -> int:
    per_chunk = estimate_peak_bytes(1, dimension, whole_chunks) - FIXED_MARGIN_BYTES
    return max(0, (budget - FIXED_MARGIN_BYTES) // per_chunk)


def timed_searches(index, queries: np.ndarray, k: int, warmup: int = 5) -> tuple[list[float], np.ndarray]:  # noqa: ANN001 - faiss.Index
    """One query at a time, as the service searches; returns durations and the ids found."""
    for q in queries[:warmup]:
        index.search(q[None, :], k)
    seconds, found = [], np.full((len(queries), k), -1, np.int64)
    for i, q in enumerate(queries):
        started = time.perf_counter()
        _, ids = index.search(q[None, :], k)
        seconds.append(time.perf_counter() - started)
        found[i, :ids.shape[1]] = ids[0]
    return seconds, found


def recall(found: np.ndarray, truth: np.ndarray, at: int = RECALL_AT) -> float:
    """Mean share of the exact top-`at` that an approximate top-`at` finds."""
    hits = [len(set(f[:at]) & set(t[:at])) / at for f, t in zip(found, truth)]
    return float(np.mean(hits))


def serialized_size(index, scratch: Path) -> int:  # noqa: ANN001 - faiss.Index
    """Bytes of the index as faiss writes it, via a file so that no second in-memory copy is made."""
    import faiss

    path = scratch / "scale.faiss"
    faiss.write_index(index, str(path))
    size = path.stat().st_size
    path.unlink()
    return size


def dense_types(wanted: tuple[str, ...] = ()) -> list[str]:
    """The project's index kinds (or those wanted), exact first, since it is the ground truth for recall."""
    from index.vector_index import INDEX_TYPES

    return ["flat"] + [t for t in INDEX_TYPES if t not in ("flat", "auto") and (not wanted or t in wanted)]


def bench_dense(vectors: np.ndarray, queries: np.ndarray, k: int, scratch: Path, kinds: tuple[str, ...] = ()) -> dict:
    """Build each index type with index.vector_index.dense_index, then time k-NN queries and HNSW recall
    against flat."""
    from index.vector_index import HNSW_MIN_EF_SEARCH, dense_index

    ef_searches = (FAISS_DEFAULT_EF_SEARCH, max(2 * k, HNSW_MIN_EF_SEARCH), 4 * max(2 * k, HNSW_MIN_EF_SEARCH))
    builds, searches, truth = [], [], None
    for index_type in dense_types(kinds):
        gc.collect()
        reset_peak()
        rss_before = rss_bytes()
        started = time.perf_counter()
        index = dense_index(vectors, index_type)
        seconds = time.perf_counter() - started
        growth = rss_bytes() - rss_before
        size = serialized_size(index, scratch)
        builds.append({
            "index": index_type, "seconds": seconds, "chunks_per_s": len(vectors) / seconds, "file_bytes": size,
            "file_bytes_per_chunk": size / len(vectors), "rss_growth_bytes_per_chunk": growth / len(vectors),
            "phase_peak_rss_bytes": peak_rss_bytes(),
        })
        hnsw = getattr(index, "hnsw", None)
        for ef in (ef_searches if hnsw is not None else (None,)):
            if ef is not None:
                hnsw.efSearch = ef
            seconds_each, found = timed_searches(index, queries, k)
            truth = found if truth is None else truth
            searches.append({
                "index": index_type, "ef_search": int(hnsw.efSearch) if hnsw is not None else None, "k": k,
                "queries": len(queries), **percentiles_ms(seconds_each), f"recall@{RECALL_AT}": recall(found, truth),
            })
        del index
    return {"builds": builds, "searches": searches}


def chunk_tokens_from_sentences(
    corpus: SyntheticCorpus, tokenize: Callable[[str], list[str]]
) -> tuple[list[list[str]], int]:
    """Each distinct sentence tokenized once, its tokens concatenated per chunk."""
    per_sentence = [tokenize(s) for s in corpus.sentences]
    ids, bounds = corpus.ids.tolist(), corpus.bounds.tolist()
    tokens = [[t for j in ids[bounds[i]:bounds[i + 1]] for t in per_sentence[j]] for i in range(len(corpus))]
    return tokens, len(per_sentence)


def build_keyword_index(tokens: list[list[str]]):  # noqa: ANN201 - bm25s.BM25
    """The BM25 index as index/build.py makes it: its keyword_index() where it has one, else bm25s.BM25().index()."""
    from index import build

    make = getattr(build, "keyword_index", None)
    if make is not None:
        return make(tokens)
    import bm25s

    index = bm25s.BM25()
    index.index(tokens, show_progress=False)
    return index


def keyword_search(bm25, tokens: list[str], k: int) -> list[tuple[int, float]]:  # noqa: ANN001 - bm25s.BM25
    """Top-k chunks for query tokens, as index.faiss_bm25.FaissBM25Index.keyword computes them."""
    vocab = bm25.vocab_dict
    ids = [vocab[t] for t in tokens if t in vocab]
    if not ids:
        return []
    scores = bm25.get_scores(ids)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


def bench_keyword(corpus: SyntheticCorpus, tokenizer, questions: list[str], k: int, whole_chunks: bool) -> dict:  # noqa: ANN001
    """Tokenize the chunks with the project's tokenizer, index them with bm25s as index/build.py does, time queries."""
    gc.collect()
    reset_peak()
    started = time.perf_counter()
    if whole_chunks:
        tokens, tokenized = [tokenizer.tokenize(corpus.text(i)) for i in range(len(corpus))], len(corpus)
    else:
        tokens, tokenized = chunk_tokens_from_sentences(corpus, tokenizer.tokenize)
    tokenize_seconds = time.perf_counter() - started
    mean_tokens = float(np.mean([len(t) for t in tokens])) if tokens else 0.0
    started = time.perf_counter()
    bm25 = build_keyword_index(tokens)
    index_seconds = time.perf_counter() - started
    del tokens
    gc.collect()
    index_bytes = sum(a.nbytes for a in bm25.scores.values() if isinstance(a, np.ndarray))
    phase_peak = peak_rss_bytes()
    query_tokens = [tokenizer.tokenize(q) for q in questions]
    for tokens_of_query in query_tokens[:5]:
        keyword_search(bm25, tokens_of_query, k)
    seconds_each = []
    for tokens_of_query in query_tokens:
        started = time.perf_counter()
        keyword_search(bm25, tokens_of_query, k)
        seconds_each.append(time.perf_counter() - started)
    total = tokenize_seconds + index_seconds
    return {
        "tokenized": "whole chunks" if whole_chunks else "distinct sentences, tokens concatenated per chunk",
        "texts_tokenized": tokenized, "mean_tokens_per_chunk": mean_tokens, "vocabulary": len(bm25.vocab_dict),
        "tokenize_seconds": tokenize_seconds, "index_seconds": index_seconds, "seconds": total,
        "chunks_per_s": len(corpus) / total, "index_bytes": index_bytes,
        "index_bytes_per_chunk": index_bytes / len(corpus),
        "phase_peak_rss_bytes": phase_peak, "k": k, "queries": len(query_tokens), **percentiles_ms(seconds_each),
    }


@dataclass
class ScaleOptions:
    chunks: int
    vectors: str = "sentences"
    whole_chunks: bool = False
    k: int = 50
    queries: int = 200
    seed: int = 0
    memory_limit: int = 24 * GIB
    dense_types: tuple[str, ...] = ()  # empty: every kind
    notes: list[str] = field(default_factory=list)


def memory_check(options: ScaleOptions) -> dict:
    """The estimated peak against the smaller of the limit and what the machine has free."""
    budget = min(options.memory_limit - rss_bytes(), mem_available_bytes())
    estimate = estimate_peak_bytes(options.chunks, DIMENSION, options.whole_chunks)
    return {
        "estimate_bytes": estimate, "budget_bytes": budget, "fits": estimate <= budget,
        "largest_fitting_chunks": largest_fitting(budget, DIMENSION, options.whole_chunks),
    }


def run_scale(
    sentences: list[str], sentence_vectors: np.ndarray, question_vectors: Callable[[list[str]], np.ndarray],
    tokenizer, questions: list[str], options: ScaleOptions, scratch: Path,  # noqa: ANN001
) -> dict:
    """The whole scale run: memory check, synthetic corpus, dense indexes, keyword index."""
    check = memory_check(options)
    result: dict = {"chunks": options.chunks, "memory_check": check, "rss_at_start_bytes": rss_bytes()}
    if not check["fits"]:
        return result | {"refused": True}
    rng = np.random.default_rng(options.seed)
    reset_peak()
    started = time.perf_counter()
    corpus = synthetic_corpus(sentences, options.chunks, rng)
    result["corpus"] = {
        "chunks": len(corpus), "source_sentences": len(sentences), "mean_chars": corpus.mean_chars(),
        "mean_sentences": float(len(corpus.ids) / len(corpus)), "seconds": time.perf_counter() - started,
    }
    started = time.perf_counter()
    if options.vectors == "model":
        vectors, queries = model_vectors(corpus, questions[:options.queries])
        result["vectors"] = "model"
    elif options.vectors == "sentences":
        vectors = sentence_sum_vectors(corpus, sentence_vectors)
        queries = question_vectors(questions[:options.queries])
        result["vectors"] = "sentence sums"
    else:
        vectors = random_unit_vectors(len(corpus), DIMENSION, rng)
        queries = random_unit_vectors(options.queries, DIMENSION, rng)
        result["vectors"] = "random unit"
    result["vectors_seconds"] = time.perf_counter() - started
    result["dimension"] = int(vectors.shape[1])
    result["corpus_phase_peak_rss_bytes"] = peak_rss_bytes()
    result["dense"] = bench_dense(vectors, queries, options.k, scratch, options.dense_types)
    del vectors
    result["keyword"] = bench_keyword(corpus, tokenizer, questions, options.k, options.whole_chunks)
    return result
