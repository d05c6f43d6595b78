"""govqa's settings: one object, read from GOVQA_* environment variables, its fields in the groups that
docs/configuration.md lists (scripts/settings_table.py writes that list from the fields' descriptions)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = PROJECT_ROOT / "models" / "multilingual-e5-small"

Mode = Literal["hybrid", "dense", "keyword"]


class Settings(BaseSettings):
    """Everything configurable. Paths default to the project's own folders."""

    model_config = SettingsConfigDict(env_prefix="GOVQA_", protected_namespaces=())

    model: str = Field(
        str(DEFAULT_MODEL_DIR),
        description=(
            "any sentence-transformers model: a local directory, or a hub name already in the local cache; "
            "an index remembers its model and refuses another"
        ),
    )
    corpus: Path = Field(
        PROJECT_ROOT / "corpus",
        description=(
            "a directory of .txt/.md files (other formats come in through `govqa add`); "
            "metadata.json beside them is optional (a document without a record takes its first line as title)"
        ),
    )
    index_dir: Path = Field(PROJECT_ROOT / "indexes" / "default", description="where index versions live")
    index_type: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto",
        description=(
            "chunk-vector index: auto (exact below 100,000 chunks, IVF-SQ8 re-scored exactly above), flat, "
            "hnsw or ivf; Milvus builds HNSW for hnsw, FLAT otherwise"
        ),
    )
    backend: Literal["faiss", "milvus"] = Field(
        "faiss",
        description=(
            "where dense and keyword candidate search run: faiss (in process) or milvus (GOVQA_MILVUS_URI; "
            "needs the scale extra)"
        ),
    )
    milvus_uri: str = Field(
        str(PROJECT_ROOT / "indexes" / "milvus.db"),
        description=(
            "a local .db path (Milvus Lite, in process: development only) or http://host:19530 "
            "(Milvus Standalone/Distributed)"
        ),
    )
    keep_versions: int = Field(3, ge=1, description="index versions kept on disk")
    min_chunk_chars: int = Field(
        150, ge=20,
        description=(
            "a passage shorter than this is merged with its neighbour in the same section "
            "when together they fit GOVQA_MAX_CHUNK_CHARS"
        ),
    )
    max_chunk_chars: int = Field(
        400, ge=50,
        description=(
            "a passage holds whole sentences up to this many characters "
            "(a longer paragraph is split into balanced runs)"
        ),
    )
    torch_threads: int | None = Field(
        None, ge=1, description="torch's threads when encoding passages (unset: torch's own default)",
    )
    blas_threads: int | None = Field(
        1, ge=1,
        description=(
            "numpy's BLAS threads in a process that answers: its products are small, "
            "and idle BLAS threads slow the encoder on a small machine (unset: BLAS's own default)"
        ),
    )
    query_onnx: bool = Field(
        True,
        description=(
            "encode questions with ONNX Runtime (exported from the model on first use into <model>/onnx/, "
            "and used only when it agrees with torch)"
        ),
    )
    query_int8: bool = Field(
        True,
        description=(
            "with GOVQA_QUERY_ONNX, quantize the export's weights to int8 (about twice as fast; "
            "used only when it agrees with torch to a cosine of 0.99)"
        ),
    )
    bulk_bf16: bool | None = Field(
        None, description="bfloat16 for build-time passage encoding (unset: when the CPU supports it)",
    )

    host: str = Field("127.0.0.1", description="the address the server listens on")
    port: int = Field(8000, ge=0, le=65535, description="the port the server listens on")
    url: str | None = Field(
        None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description=(
            "a running govqa server that `govqa ask` and `govqa search` ask (unset: "
            "the configured host and port when a server answers there, else the index is loaded in process)"
        ),
    )
    workers: int = Field(
        1, ge=1, le=64,
        description=(
            "answering processes sharing the port, each with its own copy of the question encoder and its share "
            "of the cores (`govqa serve --workers`); refused when they would not fit in the available memory"
        ),
    )
    max_in_flight: int = Field(
        32, ge=1, description="questions answered at once; more get 503 at once instead of waiting",
    )
    shutdown_grace_seconds: float = Field(
        30, gt=0, description="on SIGTERM/SIGINT, how long requests in flight may take to finish",
    )
    keep_alive_seconds: float = Field(5, gt=0, description="idle keep-alive connections are closed after this")
    header_timeout_seconds: float = Field(
        10, gt=0,
        description=(
            "a connection's request head must arrive whole within this (from connecting, "
            "or from the first byte of a next request), else 408 and closed"
        ),
    )
    body_timeout_seconds: float = Field(
        30, gt=0,
        description=(
            "a request body must arrive within this after its head, plus one second per body_min_bytes_per_second "
            "received, else 408 and closed"
        ),
    )
    body_min_bytes_per_second: float = Field(
        1024, gt=0,
        description=(
            "each this many body bytes received extend the body deadline by a second "
            "(large uploads at a sound rate are not cut)"
        ),
    )
    max_connections: int = Field(
        256, ge=2,
        description=(
            "open connections at most: a request arriving while this many are open (its own counted) "
            "is answered 503 at once (uvicorn's limit_concurrency)"
        ),
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser, as a JSON list: '[\"https://example.org\"]'",
    )
    public_url: str | None = Field(
        None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description=(
            "the base URL clients reach govqa at (e.g. https://govqa.example.org/); "
            "links in answers are built from it, never from the Host header (unset: the address the server listens on)"
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "addresses of reverse proxies whose X-Forwarded-For/-Proto are believed, as a JSON list (none by default)"
        ),
    )
    api_key: str | None = Field(
        None,
        description=(
            "when set, the OpenAI-compatible routes and Dify's /retrieval require 'Authorization: Bearer <key>'"
        ),
    )
    model_aliases: list[str] = Field(
        default_factory=list,
        description="model names the OpenAI-compatible routes answer to besides `govqa` (a JSON list)",
    )
    admin_key: str | None = Field(
        None,
        description="enables POST and DELETE /v1/documents for 'Authorization: Bearer <key>' (disabled when unset)",
    )
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1024, description="largest document upload accepted")
    extract_timeout_seconds: float = Field(
        30, gt=0, description="wall-clock time one file's extraction may take (in a worker process), else 413",
    )
    extract_cpu_seconds: int = Field(
        30, ge=1, description="CPU time one file's extraction may use (the kernel ends the worker), else 413",
    )
    extract_memory_bytes: int = Field(
        1 << 30, ge=256 * 1024 * 1024, description="address space of the worker process that extracts a file",
    )
    extract_workers: int = Field(
        2, ge=1, description="files extracted at once; an upload beyond that gets 503 with Retry-After",
    )
    max_document_chars: int = Field(
        1_000_000, ge=1000, description="characters of extracted text a document may have, else 413",
    )
    max_document_sentences: int = Field(
        20_000, ge=1, description="sentences a document may have (counted as the build will), else 413",
    )
    max_document_chunks: int = Field(5_000, ge=1, description="passages a document may have, else 413")
    max_sentence_chars: int = Field(
        50_000, ge=100,
        description="longest stretch a document may have without a sentence end or line break, else 413",
    )
    max_index_growth_bytes: int = Field(
        200 * 1024 * 1024, ge=1024 * 1024,
        description="estimated bytes one upload may add to the index (vectors and stored text), else 413",
    )
    reload_seconds: float = Field(
        2.0, ge=0, description="how often the server checks for a newer index version (0: never)",
    )
    mcp_sessions_per_client: int = Field(
        16, ge=1, description="MCP sessions one client address may hold open at /mcp; beyond that 429",
    )
    mcp_unused_session_seconds: float = Field(
        10, gt=0, description="an MCP session whose client never comes back after opening it ends after this",
    )
    mcp_idle_session_seconds: float = Field(
        1800, gt=0, description="an MCP session in use ends after this long without a request",
    )
    mcp_max_sessions: int = Field(
        10_000, ge=1, description="MCP sessions open at once at most (the SDK's limit); beyond that 503",
    )
    mcp_require_key: bool = Field(False, description="/mcp requires 'Authorization: Bearer <GOVQA_API_KEY>'")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        description=(
            "the least severe log record written; logs are JSON lines on stderr, one per request (never a body), "
            "repeats from one call site limited to 10 a minute"
        ),
    )

    mode: Mode = Field("hybrid", description="the default search: hybrid (dense and keyword fused), dense or keyword")
    top_k: int = Field(5, ge=1, le=50, description="passages returned by default")
    candidates: int = Field(50, ge=1, le=1000, description="candidates taken from each retriever before fusion")
    fusion: Literal["zscore", "rrf"] = Field(
        "zscore", description="weighted sum of z-normalized signals, or reciprocal-rank fusion",
    )
    rrf_k: int = Field(60, ge=1, description="the constant k of reciprocal-rank fusion")
    weight_dense: float = Field(0.5, ge=0, description="weight of the passage's cosine to the question")
    weight_keyword: float = Field(1.0, ge=0, description="weight of the passage's BM25")
    weight_sentence_dense: float = Field(0.5, ge=0, description="weight of the best sentence's cosine")
    weight_sentence_keyword: float = Field(1.0, ge=0, description="weight of the best sentence's BM25")
    weight_answer_type: float = Field(
        1.0, ge=0,
        description=(
            "added to the score of a passage that holds what a when / how-many / how-much-money question asks for "
            "(a time as fine as asked, a count in the asked measure word, a sum); no effect under GOVQA_FUSION=rrf"
        ),
    )
    expand_threshold: float = Field(
        0.85, gt=0, le=2,
        description=(
            "a question word the corpus never uses brings in corpus words at least this similar "
            "(cosine; above 1: never)"
        ),
    )
    expand_words: int = Field(2, ge=1, le=10, description="most corpus words brought in per unknown question word")
    diversity_margin: float = Field(
        1.0, ge=0, description="a second document takes the last place when within this score of it",
    )
    answer_model: Path = Field(
        PROJECT_ROOT / "service" / "models" / "answer_scorer.json",
        description="the answer scorer's coefficients (scripts/fit_answer_scorer.py writes them)",
    )
    answer_sentences: int = Field(2, ge=1, le=10, description="most sentences in an answer")
    answer_list_sentences: int = Field(5, ge=1, le=20, description="most sentences in an answer to a list question")
    min_confidence: float | None = Field(
        None, ge=0, le=1,
        description="abstain below this probability that the answer answers (unset: the scorer's calibrated threshold)",
    )
    cache_size: int = Field(1024, ge=0, description="questions kept in the answer cache (0 turns it off)")
    evidence_margin: float = Field(
        0.5, ge=0, description="more evidence sentences are shown when within this score of a passage's best",
    )


# Each setting's group, in the order docs/configuration.md lists them (tests/test_settings_doc.py checks that
# every field is in exactly one).
GROUPS: dict[str, tuple[str, ...]] = {
    "Documents, model and index": (
        "corpus", "index_dir", "model", "index_type", "backend", "milvus_uri", "keep_versions", "min_chunk_chars",
        "max_chunk_chars", "torch_threads", "blas_threads", "query_onnx", "query_int8", "bulk_bf16",
    ),
    "Server": (
        "host", "port", "url", "workers", "max_in_flight", "shutdown_grace_seconds", "keep_alive_seconds",
        "header_timeout_seconds", "body_timeout_seconds", "body_min_bytes_per_second", "max_connections",
        "cors_origins", "public_url", "trusted_proxies", "reload_seconds", "log_level",
    ),
    "Keys and MCP sessions": (
        "api_key", "model_aliases", "admin_key", "mcp_require_key", "mcp_sessions_per_client",
        "mcp_unused_session_seconds", "mcp_idle_session_seconds", "mcp_max_sessions",
    ),
    "Uploads": (
        "max_upload_bytes", "extract_timeout_seconds", "extract_cpu_seconds", "extract_memory_bytes", "extract_workers",
        "max_document_chars", "max_document_sentences", "max_document_chunks", "max_sentence_chars",
        "max_index_growth_bytes",
    ),
    "Retrieval": (
        "mode", "top_k", "candidates", "fusion", "rrf_k", "weight_dense", "weight_keyword", "weight_sentence_dense",
        "weight_sentence_keyword", "weight_answer_type", "expand_threshold", "expand_words", "diversity_margin",
    ),
    "Answering": (
        "answer_model", "answer_sentences", "answer_list_sentences", "min_confidence", "cache_size", "evidence_margin",
    ),
}
