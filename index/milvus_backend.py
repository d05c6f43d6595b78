"""A Milvus backend: candidate search in Milvus, citations and scoring from the index version directory.

`govqa build --backend milvus` (or GOVQA_BACKEND=milvus for build, add and remove) builds the usual
index version with the same build_index, the same chunker and the same tables, and before that
version is published loads it into Milvus as two collections named after the version (so a new
version's collections exist before CURRENT names it, and the old ones keep serving until every
replica has swapped). What lives where:

- Milvus (GOVQA_MILVUS_URI: a local `.db` path runs Milvus Lite in process, for development;
  `http://host:19530` a Milvus Standalone or Distributed server):
  - `govqa_<root>_<version>_chunks`: id = chunk position, `vector` (the chunk vector, inner product,
    FLAT or HNSW after GOVQA_INDEX_TYPE), `keyword_text` (the text BM25 indexes, normalized as the
    local tokenizer sees it) with a jieba analyzer holding the version's user dictionary and
    stop-words, and a BM25 function filling `sparse`; `doc_id`, `chunk_id`, `start`, `end`.
  - `govqa_<root>_<version>_sentences`: id = sentence position, `vector`, `chunk`.
  `dense()` and `keyword()` (candidate search, with the document filter) run there, and
  `chunk_vectors()` / `sentence_vectors()` are fetched from there (kept in a bounded cache per
  version: a version's vectors never change).
- The version directory (the files the FAISS backend reads): documents and their texts, the chunk
  and sentence tables (every citation's offsets), the bm25s postings that `keyword_matrix()` and
  `keyword_idf()` read to score candidates, the user dictionary (`tokenize()`) and the English
  lexicon (`translate()`). `dense.faiss` and `sentence_vectors.npy` are not loaded: they are what a
  version's collections are loaded from.

So Milvus chooses the candidates and ranking scores them exactly as with FAISS; the two BM25
implementations (Milvus's and bm25s) differ in tokenization details and so may disagree about the
50th candidate, never about a candidate's score.

A version whose collections are missing (built without GOVQA_BACKEND=milvus, added over HTTP, or
a Milvus that lost them) is loaded into Milvus when it is opened. Collections are written under a
temporary name and renamed when complete, so replicas opening the same version at once never read
a half-loaded one. Collections of versions pruned from the index root are dropped at the next build.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from index import store
from index.backend import Hit, Level
from index.build import CHUNKS_FILE, DENSE_FILE, SENTENCE_VECTORS_FILE, SENTENCES_FILE, USERDICT_FILE
from index.faiss_bm25 import VersionTables, current_version
from index.normalize import normalize
from index.tokenizing import STOPWORDS, KeywordTokenizer
from index.vector_index import stored_vectors

log = logging.getLogger(__name__)

PREFIX = "govqa"
TEMPORARY = "_tmp_"
INSERT_BATCH = 1000
FETCH_BATCH = 1000
MAX_TEXT_BYTES = 65_535
CACHED_VECTORS = 50_000  # per version and level: about 100 MB of 512-d vectors
HNSW_MIN_EF = 64
BM25_K1, BM25_B = 1.5, 0.75


def is_lite(uri: str) -> bool:
    """A local path runs Milvus Lite in this process; a URL names a Milvus server."""
    return not re.match(r"^(https?|tcp|unix):", uri)


def redact(uri: str) -> str:
    """The URI without credentials (http://user:password@host → http://***@host), for messages and logs."""
    return re.sub(r"([a-z]+://)[^/@\s]*@", r"\1***@", uri)


def root_tag(root: Path) -> str:
    """Which index root a collection belongs to, so pruning never touches another root's collections."""
    return hashlib.sha1(str(root.resolve()).encode(), usedforsecurity=False).hexdigest()[:8]


def collection_names(root: Path, version: str) -> tuple[str, str]:
    """The chunk and sentence collections of one version (Milvus names: letters, digits, underscores)."""
    base = f"{PREFIX}_{root_tag(root)}_{re.sub(r'[^0-9A-Za-z]', '_', version)}"
    return f"{base}_chunks", f"{base}_sentences"


# Characters jieba yields as tokens of their own and the local tokenizer drops (punctuation, symbols);
# Milvus's removepunct filter drops them too, Milvus Lite does not, so they become spaces (jieba
# splits its blocks at them either way, so the words are cut the same).
SEPARATORS = re.compile(r"[^\w\s+#&._%\-]")


def keyword_field_text(keyword_text: str) -> str:
    """What Milvus's analyzer reads: the chunk's keyword text normalized and lowercased as the local
    tokenizer reads it, punctuation as spaces."""
    text = SEPARATORS.sub(" ", normalize(keyword_text).lower())
    encoded = text.encode("utf-8")
    return text if len(encoded) <= MAX_TEXT_BYTES else encoded[:MAX_TEXT_BYTES].decode("utf-8", "ignore")


def analyzer_params(user_terms: list[str]) -> dict:
    """jieba in search mode with the default dictionary plus the version's own terms, without stop-words."""
    return {
        "tokenizer": {"type": "jieba", "mode": "search", "dict": ["_default_", *user_terms]},
        "filter": ["removepunct", {"type": "stop", "stop_words": sorted(STOPWORDS)}],
    }


def query_text(tokens: list[str]) -> str:
    """The question's keyword tokens as text for Milvus's analyzer, which cuts each word again in
    jieba's search mode: a word of more than two characters brings back its two-character
    dictionary words (of more than three, its three-character ones too: 人工智能 → 人工, 智能,
    人工智能), so those sub-words are left out once for each word that brings them back. Repeated
    tokens stay repeated, as bm25s counts them."""
    tokens = [t for t in tokens if t.strip()]
    counts = Counter(tokens)
    brought_back: Counter[str] = Counter()
    for word, n in counts.items():
        for sub in counts:
            if (
                sub != word and len(sub) in (2, 3) and len(sub) < len(word) and (len(sub) == 2 or len(word) > 3)
                and sub in word
            ):
                brought_back[sub] += n
    kept = []
    for token in tokens:
        if brought_back[token] > 0:
            brought_back[token] -= 1
        else:
            kept.append(token)
    return " ".join(kept)


def require_pymilvus() -> None:
    """Raise ImportError with what to install when the scale extra is missing."""
    try:
        import pymilvus  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "GOVQA_BACKEND=milvus needs the scale extra (pymilvus, milvus-lite): run `make scale` (see docs/scaling.md)"
        ) from exc


class UnimplementedByLite(logging.Filter):
    """Milvus Lite answers RPCs it lacks (AllocTimestamp, which pymilvus calls while creating an
    index and copes without) with NotImplementedError, which grpc logs as an error with a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], NotImplementedError))


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def connect(uri: str):  # noqa: ANN201 - a pymilvus MilvusClient (imported lazily: an optional extra)
    """One client per URI and process (Milvus Lite allows one process per database)."""
    from pymilvus import MilvusClient

    with _clients_lock:
        client = _clients.get(uri)
        if client is None:
            if is_lite(uri):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
                grpc_log = logging.getLogger("grpc._server")
                if not any(isinstance(f, UnimplementedByLite) for f in grpc_log.filters):
                    grpc_log.addFilter(UnimplementedByLite())
            client = _clients[uri] = MilvusClient(uri=uri)
        return client


def lite_locked_elsewhere(uri: str) -> bool:
    """True when another process holds a Milvus Lite database open (it allows one process at a time)."""
    lock = Path(uri) / "LOCK"
    with _clients_lock:
        if uri in _clients:  # this process has it open (a flock from here would fail all the same)
            return False
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)


def chunk_schema(client, dimension: int, user_terms: list[str]):  # noqa: ANN001, ANN201
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field(
        "keyword_text", DataType.VARCHAR, max_length=MAX_TEXT_BYTES, enable_analyzer=True,
        analyzer_params=analyzer_params(user_terms),
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("chunk_id", DataType.VARCHAR, max_length=512)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_function(
        Function(
            name="bm25", function_type=FunctionType.BM25, input_field_names=["keyword_text"],
            output_field_names=["sparse"],
        )
    )
    return schema


def sentence_schema(client, dimension: int):  # noqa: ANN001, ANN201
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
    schema.add_field("chunk", DataType.INT64)
    return schema


def vector_index(client, index_type: str, sparse: bool):  # noqa: ANN001, ANN201
    params = client.prepare_index_params()
    if index_type == "hnsw":
        params.add_index(
            field_name="vector", index_type="HNSW", metric_type="IP", params={"M": 32, "efConstruction": 80}
        )
    else:
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    if sparse:
        # bm25s's defaults (Milvus's own k1 is 1.2)
        params.add_index(
            field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
            params={"bm25_k1": BM25_K1, "bm25_b": BM25_B},
        )
    return params


def version_vectors(directory: Path) -> tuple[np.ndarray, np.ndarray]:
    """The chunk and sentence vectors a version directory holds."""
    return stored_vectors(directory / DENSE_FILE), np.load(directory / SENTENCE_VECTORS_FILE, allow_pickle=False)


def insert_rows(client, name: str, rows: list[dict]) -> None:  # noqa: ANN001
    for at in range(0, len(rows), INSERT_BATCH):
        client.insert(name, rows[at:at + INSERT_BATCH])


def create_complete(client, name: str, schema, index_params, rows: list[dict]) -> None:  # noqa: ANN001
    """Write a collection under a temporary name and rename it when complete; a replica that
    finished the same collection first wins, and the copy is dropped."""
    temporary = f"{name}{TEMPORARY}{secrets.token_hex(4)}"
    client.create_collection(temporary, schema=schema, index_params=index_params)
    try:
        insert_rows(client, temporary, rows)
        client.flush(temporary)
        if not client.has_collection(name):
            try:
                client.rename_collection(temporary, name)
                return
            except Exception:
                if not client.has_collection(name):  # not a lost race: a real failure
                    raise
        client.drop_collection(temporary)
    except BaseException:
        try:
            if client.has_collection(temporary):
                client.drop_collection(temporary)
        except Exception:  # the original error matters more
            log.warning("could not drop the unfinished collection %s", temporary)
        raise


def load_version(uri: str, root: Path, directory: Path, version: str, index_type: str = "flat") -> tuple[str, str]:
    """Make sure Milvus holds a version's collections, loading them from its directory when missing."""
    client = connect(uri)
    chunks_name, sentences_name = collection_names(root, version)
    if client.has_collection(chunks_name) and client.has_collection(sentences_name):
        return chunks_name, sentences_name
    chunk_table = store.read_jsonl(directory / CHUNKS_FILE)
    sentence_table = store.read_jsonl(directory / SENTENCES_FILE)
    chunk_vectors, sentence_vectors = version_vectors(directory)
    if len(chunk_vectors) != len(chunk_table) or len(sentence_vectors) != len(sentence_table):
        raise store.IndexUnavailable(f"index {directory.name}: vectors do not match the chunk and sentence tables")
    dimension = int(chunk_vectors.shape[1])
    user_terms = KeywordTokenizer.from_file(directory / USERDICT_FILE).user_terms
    if not client.has_collection(sentences_name):
        rows = [
            {"id": i, "vector": v, "chunk": int(s["chunk"])}
            for i, (s, v) in enumerate(zip(sentence_table, sentence_vectors))
        ]
        create_complete(
            client, sentences_name, sentence_schema(client, dimension), vector_index(client, index_type, sparse=False),
            rows,
        )
    if not client.has_collection(chunks_name):
        rows = [
            {
                "id": i, "vector": v, "keyword_text": keyword_field_text(c["keyword_text"]), "doc_id": c["doc_id"],
                "chunk_id": c["chunk_id"], "start": int(c["start"]), "end": int(c["end"]),
            }
            for i, (c, v) in enumerate(zip(chunk_table, chunk_vectors))
        ]
        create_complete(
            client, chunks_name, chunk_schema(client, dimension, user_terms),
            vector_index(client, index_type, sparse=True), rows,
        )
    log.info(
        "loaded index version %s into Milvus (%d chunks, %d sentences)", version, len(chunk_table), len(sentence_table)
    )
    return chunks_name, sentences_name


def drop_pruned(uri: str, root: Path, keep: frozenset[str] = frozenset()) -> list[str]:
    """Drop this root's collections whose version directory is gone (pruned), except versions in `keep`."""
    client = connect(uri)
    prefix = f"{PREFIX}_{root_tag(root)}_"
    present = (
        {re.sub(r"[^0-9A-Za-z]", "_", p.name) for p in (root / store.VERSIONS).iterdir() if p.is_dir()}
        if (root / store.VERSIONS).is_dir()
        else set()
    )
    present |= {re.sub(r"[^0-9A-Za-z]", "_", v) for v in keep}
    dropped = []
    for name in client.list_collections():
        if not name.startswith(prefix):
            continue
        version = re.sub(r"_(chunks|sentences)(" + TEMPORARY + r"[0-9a-f]+)?$", "", name[len(prefix):])
        if version not in present:
            client.drop_collection(name)
            dropped.append(name)
    return dropped


def milvus_loader(uri: str, index_type: str = "flat") -> Callable[[Path, Path, str], None]:
    """A build hook: load a staged version into Milvus before it is published, and drop the
    collections of pruned versions. When a Milvus Lite database is open in another process (a
    running server: Lite allows one process), the load is left to that process, which loads the
    version when it swaps it in."""

    def load(root: Path, staged: Path, version: str) -> None:
        if is_lite(uri) and lite_locked_elsewhere(uri):
            log.warning(
                "Milvus Lite database %s is open in another process; it loads version %s when it swaps it in",
                uri, version,
            )
            return
        try:
            load_version(uri, root, staged, version, index_type)
            dropped = drop_pruned(uri, root, keep=frozenset({version}))
        except Exception as exc:  # pymilvus's own exceptions: reported as a failed rebuild, nothing published
            raise RuntimeError(
                redact(f"loading index version {version} into Milvus at {uri} failed ({type(exc).__name__}: {exc})")
            ) from exc
        if dropped:
            log.info("dropped %d Milvus collections of pruned versions", len(dropped))

    return load


def load_current(root: Path, uri: str, index_type: str = "flat") -> str:
    """Load the current version into Milvus when it is not there yet (a version built without
    GOVQA_BACKEND=milvus); says what it did."""
    directory = store.current_dir(root)
    if is_lite(uri) and lite_locked_elsewhere(uri):
        return (
            f"Milvus Lite database {uri} is open in another process: "
            f"that process loads index {directory.name} when it opens it"
        )
    manifest = store.read_manifest(directory)
    chunks, sentences = load_version(uri, root, directory, manifest["version"], manifest.get("index_type", index_type))
    return f"index {directory.name} is in Milvus at {redact(uri)} ({chunks}, {sentences})"


class LRUVectors:
    """Vectors fetched from Milvus, by position, the least recently used dropped first."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, positions: list[int]) -> dict[int, np.ndarray]:
        with self._lock:
            found = {}
            for p in positions:
                vector = self._items.get(p)
                if vector is not None:
                    self._items.move_to_end(p)
                    found[p] = vector
            return found

    def put(self, vectors: dict[int, np.ndarray]) -> None:
        with self._lock:
            self._items.update(vectors)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)


class MilvusIndex(VersionTables):
    """One index version: candidate search and vectors in Milvus, tables and postings from its directory."""

    def __init__(
        self, directory: Path, manifest: dict, uri: str, collections: tuple[str, str], *, cache: int = CACHED_VECTORS
    ) -> None:
        super().__init__(directory, manifest)
        self.uri = uri
        self.chunk_collection, self.sentence_collection = collections
        self._dimension = int(manifest.get("model", {}).get("dimension") or 0)
        self._hnsw = manifest.get("index_type") == "hnsw"
        self._cache = {"chunk": LRUVectors(cache), "sentence": LRUVectors(cache)}
        self._client = connect(uri)
        for name in collections:
            self._client.load_collection(name)
        self._check_shapes()

    def _check_shapes(self) -> None:
        counts = self.manifest.get("counts", {})
        held = {
            name: int(self._client.get_collection_stats(name)["row_count"])
            for name in (self.chunk_collection, self.sentence_collection)
        }
        if held[self.chunk_collection] != len(self.chunks) or counts.get("chunks") != len(self.chunks):
            raise store.IndexUnavailable(
                f"Milvus collection {self.chunk_collection} does not match the chunk table of {self.directory.name}"
            )
        if held[self.sentence_collection] != len(self.sentences):
            raise store.IndexUnavailable(
                f"Milvus collection {self.sentence_collection} does not match the sentence table of "
                f"{self.directory.name}"
            )
        self._check_offsets()

    @property
    def dimension(self) -> int:
        return self._dimension

    @staticmethod
    def _filter(doc_ids: frozenset[str] | None) -> str:
        if doc_ids is None:
            return ""
        quoted = ", ".join('"' + d.replace("\\", "\\\\").replace('"', '\\"') + '"' for d in sorted(doc_ids))
        return f"doc_id in [{quoted}]"

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        if doc_ids is not None and not doc_ids:
            return []
        k = min(k, len(self.chunks))
        if k <= 0:
            return []
        params: dict = {"metric_type": "IP"}
        if self._hnsw:
            params["params"] = {"ef": max(2 * k, HNSW_MIN_EF)}
        found = self._client.search(
            self.chunk_collection, data=[np.asarray(vector, np.float32).ravel().tolist()], anns_field="vector", limit=k,
            filter=self._filter(doc_ids), output_fields=["doc_id"], search_params=params,
        )
        return [Hit(int(h["id"]), float(h["distance"])) for h in found[0]]

    def keyword(self, tokens: list[str], k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        text = query_text(tokens)
        if not text or (doc_ids is not None and not doc_ids):
            return []
        k = min(k, len(self.chunks))
        found = self._client.search(
            self.chunk_collection, data=[text], anns_field="sparse", limit=k,
            filter=self._filter(doc_ids), output_fields=["doc_id"], search_params={"metric_type": "BM25"},
        )
        # Milvus reports BM25 as a score, Milvus Lite as a negated distance; the order is the same.
        return [Hit(int(h["id"]), abs(float(h["distance"]))) for h in found[0] if h["distance"]]

    def _vectors(self, level: Level, positions: list[int]) -> np.ndarray:
        if not positions:
            return np.zeros((0, self._dimension), np.float32)
        cache = self._cache[level]
        have = cache.get(positions)
        missing = sorted(set(positions) - have.keys())
        name = self.chunk_collection if level == "chunk" else self.sentence_collection
        for at in range(0, len(missing), FETCH_BATCH):
            rows = self._client.get(name, ids=missing[at:at + FETCH_BATCH], output_fields=["vector"])
            fetched = {int(r["id"]): np.asarray(r["vector"], np.float32) for r in rows}
            if len(fetched) != len(missing[at:at + FETCH_BATCH]):
                raise store.IndexUnavailable(f"Milvus collection {name} is missing vectors of version {self.version}")
            have.update(fetched)
            cache.put(fetched)
        return np.stack([have[p] for p in positions]).astype(np.float32, copy=False)

    def chunk_vectors(self, positions: list[int]) -> np.ndarray:
        return self._vectors("chunk", positions)

    def sentence_vectors(self, positions: list[int]) -> np.ndarray:
        return self._vectors("sentence", positions)


def load_index(
    root: Path, uri: str, *, model_name: str | None = None, dimension: int | None = None, verify: bool = True,
    index_type: str = "flat",
) -> MilvusIndex:
    """Open the current version under root with its Milvus collections (loading them when missing);
    refuses a version that is damaged or built for another model, as the FAISS backend does."""
    directory, manifest = current_version(root, model_name, dimension, verify)
    try:
        require_pymilvus()
    except ImportError as exc:
        raise store.IndexUnavailable(str(exc)) from exc
    try:
        collections = load_version(uri, root, directory, manifest["version"], manifest.get("index_type", index_type))
        return MilvusIndex(directory, manifest, uri, collections)
    except store.IndexUnavailable:
        raise
    except Exception as exc:  # pymilvus raises its own MilvusException, connection errors and more
        raise store.IndexUnavailable(
            redact(f"index {directory.name} cannot be served from Milvus at {uri} ({type(exc).__name__}: {exc})")
        ) from exc
