"""Building an index version from a corpus: chunk, tokenize, embed (reusing vectors), store, publish."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import bm25s
import numpy as np

from index import store, vocabulary
from index.chunking import ChunkedDocument, ChunkerSettings, chunk_document
from index.documents import Document
from index.embedding import Embedder
from index.lexicon import build_lexicon
from index.sentence_kinds import sentence_kinds
from index.tokenizing import KeywordTokenizer, mine_terms
from index.variants import sound_variants, variant_map
from index.vector_index import ANN_MIN_CHUNKS, dense_index, resolve_kind, stored_vectors, write_dense

log = logging.getLogger(__name__)

DOCUMENTS_FILE = "documents.jsonl"
CHUNKS_FILE = "chunks.jsonl"
SENTENCES_FILE = "sentences.jsonl"
DENSE_FILE = "dense.faiss"
SENTENCE_VECTORS_FILE = "sentence_vectors.npy"
BM25_DIR = "bm25"
SENTENCE_BM25_DIR = "bm25_sentences"
USERDICT_FILE = "userdict.txt"
LEXICON_FILE = "lexicon.json"


@dataclass
class BuildResult:
    version: str
    path: Path
    skipped: bool
    seconds: float
    documents: int = 0
    chunks: int = 0
    sentences: int = 0
    embedded: int = 0
    reused: int = 0


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def keyword_text(chunk) -> str:  # noqa: ANN001 - a Chunk
    """What BM25 indexes for a chunk: its section path and text, plus the author of its essay."""
    return f"{chunk.author}\n{chunk.embed_text}" if chunk.author else chunk.embed_text


def build_fingerprint(
    documents: list[Document], model_fingerprint: str, chunker: ChunkerSettings, index_type: str
) -> str:
    """Identifies everything an index is built from; equal fingerprints mean nothing to rebuild."""
    payload = {
        "format": store.FORMAT_VERSION,
        "model": model_fingerprint,
        "chunker": chunker.to_dict(),
        "index_type": index_type,
        "documents": {d.doc_id: [d.sha256, d.meta.to_dict()] for d in documents},
        "code": CODE_REVISION,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# Bump when cleaning, chunking, tokenizing, the lexicon or the vocabulary changes what an unchanged corpus produces.
CODE_REVISION = 9


def previous_vectors(root: Path, model_fingerprint: str) -> dict[str, np.ndarray]:
    """Vectors of the current version by text hash, when it was built with the same model."""
    try:
        directory = store.current_dir(root)
        manifest = store.read_manifest(directory)
    except store.IndexUnavailable:
        return {}
    if manifest.get("model", {}).get("fingerprint") != model_fingerprint:
        return {}
    try:
        cache: dict[str, np.ndarray] = {}
        chunks = store.read_jsonl(directory / CHUNKS_FILE)
        vectors = stored_vectors(directory / DENSE_FILE)
        cache.update((row["embed_hash"], vector) for row, vector in zip(chunks, vectors))
        sentences = store.read_jsonl(directory / SENTENCES_FILE)
        vectors = np.load(directory / SENTENCE_VECTORS_FILE, allow_pickle=False)
        for row, vector in zip(sentences, vectors):
            cache[row["embed_hash"]] = vector
        words = vocabulary.Vocabulary.load(directory)
        cache.update(zip(map(text_hash, words.words), words.vectors))
        return cache
    except Exception as exc:  # a damaged old version only costs re-embedding
        log.warning("not reusing embeddings of %s: %s", directory, exc)
        return {}


def embed_all(
    texts: list[str], embedder: Embedder, cache: dict[str, np.ndarray], progress: bool, batch_size: int = 32,
) -> tuple[np.ndarray, int]:
    """Vectors for texts, computing only those not in the cache; returns how many were computed."""
    hashes = [text_hash(t) for t in texts]
    missing = sorted({h: t for h, t in zip(hashes, texts) if h not in cache}.items(), key=lambda kv: len(kv[1]))
    if missing:
        vectors = embedder.encode([t for _, t in missing], batch_size=batch_size, progress=progress)
        cache.update({h: v for (h, _), v in zip(missing, vectors)})
    return stack(hashes, cache, embedder), len(missing)


def stack(hashes: list[str], cache: dict[str, np.ndarray], embedder: Embedder) -> np.ndarray:
    if not hashes:
        return np.zeros((0, embedder.dimension), np.float32)
    return np.ascontiguousarray(np.stack([cache[h] for h in hashes]), dtype=np.float32)


def own_sentences(chunk: dict, sentence_table: list[dict]) -> list[dict]:
    return sentence_table[chunk["first_sentence"]:chunk["last_sentence"]]


def sentence_spans_in_chunk(chunk: dict, sentences: list[dict]) -> list[tuple[int, int]]:
    """Where each sentence's model text sits inside its chunk's model text ((0, 0) when not found)."""
    text, spans = chunk["embed_text"], []
    cursor = text.find("\n") + 1 if chunk["section"] else 0
    for sentence in sentences:
        at = text.find(sentence["embed_text"], cursor)
        if at < 0:
            spans.append((0, 0))
            continue
        spans.append((at, at + len(sentence["embed_text"])))
        cursor = at + len(sentence["embed_text"])
    return spans


def embed_corpus(
    chunk_table: list[dict], sentence_table: list[dict], embedder: Embedder, cache: dict[str, np.ndarray],
    progress: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """Chunk and sentence vectors. Models that expose token vectors give sentence vectors from the
    chunk's own forward pass (late chunking); sentences they cannot place are embedded alone."""
    late = getattr(embedder, "encode_with_spans", None)
    if late is None:
        chunks, n_chunks = embed_all([c["embed_text"] for c in chunk_table], embedder, cache, progress)
        sentences, n_sentences = embed_all([s["embed_text"] for s in sentence_table], embedder, cache, progress)
        return chunks, sentences, n_chunks + n_sentences
    for row in sentence_table:
        row["embed_hash"] = text_hash(chunk_table[row["chunk"]]["embed_text"] + "\0" + row["embed_text"])
    todo = [
        i for i, c in enumerate(chunk_table)
        if c["embed_hash"] not in cache or any(s["embed_hash"] not in cache for s in own_sentences(c, sentence_table))
    ]
    spans = [sentence_spans_in_chunk(chunk_table[i], own_sentences(chunk_table[i], sentence_table)) for i in todo]
    computed = 0
    if todo:
        vectors, pooled = late([chunk_table[i]["embed_text"] for i in todo], spans, progress=progress)
        leftovers = []
        for i, vector, row in zip(todo, vectors, pooled):
            chunk = chunk_table[i]
            cache[chunk["embed_hash"]] = vector
            for sentence, sentence_vector in zip(own_sentences(chunk, sentence_table), row):
                if sentence_vector is None:
                    leftovers.append(sentence)
                else:
                    cache[sentence["embed_hash"]] = sentence_vector
        if leftovers:
            alone = embedder.encode([s["embed_text"] for s in leftovers], progress=False)
            cache.update({s["embed_hash"]: v for s, v in zip(leftovers, alone)})
        computed = len(todo) + sum(len(own_sentences(chunk_table[i], sentence_table)) for i in todo)
    chunks = stack([c["embed_hash"] for c in chunk_table], cache, embedder)
    sentences = stack([s["embed_hash"] for s in sentence_table], cache, embedder)
    return chunks, sentences, computed


def keyword_index(tokens: list[list[str]]) -> bm25s.BM25:
    """A bm25s index over pre-tokenized texts (an empty text still gets its row)."""
    index = bm25s.BM25()
    index.index([t or [""] for t in tokens], show_progress=False)
    return index


def previous_kinds(root: Path) -> dict[str, list[str]]:
    """The kinds each sentence of the current version holds, by text hash, when that version was built by
    this code revision (tagging parts of speech is the slowest step of a small upload's rebuild)."""
    try:
        directory = store.current_dir(root)
        if store.read_manifest(directory).get("code") != CODE_REVISION:
            return {}
        return {text_hash(row["embed_text"]): row["holds"] for row in store.read_jsonl(directory / SENTENCES_FILE)}
    except store.IndexUnavailable:
        return {}
    except Exception as exc:  # a damaged old version only costs tagging again
        log.warning("not reusing sentence kinds of %s: %s", root, exc)
        return {}


def chunk_rows(docs: list[ChunkedDocument], kinds: dict[str, list[str]] | None = None) -> tuple[list[dict], list[dict]]:
    """Chunk and sentence tables with global sentence numbers; `kinds` holds sentences already tagged, by text hash."""
    kinds = kinds or {}
    chunk_table, sentence_table = [], []
    for doc in docs:
        chunk_base, sentence_base = len(chunk_table), len(sentence_table)
        for chunk in doc.chunks:
            row = asdict(chunk)
            row.update(
                section=list(chunk.section),
                first_sentence=chunk.first_sentence + sentence_base,
                last_sentence=chunk.last_sentence + sentence_base,
                embed_hash=text_hash(chunk.embed_text),
                keyword_text=keyword_text(chunk),
            )
            chunk_table.append(row)
        for sentence in doc.sentences:
            row = asdict(sentence)
            digest = text_hash(sentence.embed_text)
            holds = kinds[digest] if digest in kinds else list(sentence_kinds(sentence.embed_text))
            row.update(chunk=sentence.chunk + chunk_base, embed_hash=digest, holds=holds)
            sentence_table.append(row)
    return chunk_table, sentence_table


def build_index(
    documents: list[Document],
    embedder: Embedder,
    root: Path,
    *,
    chunker: ChunkerSettings | None = None,
    index_type: str = "auto",
    ann_min_chunks: int = ANN_MIN_CHUNKS,
    keep: int = 3,
    force: bool = False,
    progress: bool = False,
    before_publish: Callable[[Path, Path, str], None] | None = None,
) -> BuildResult:
    """Build and publish a new index version, unless the current one was built from the same inputs.
    `before_publish(root, staged_directory, version)` runs when the version is complete but not yet
    published (GOVQA_BACKEND=milvus loads it into Milvus there); an error in it publishes nothing."""
    started = time.perf_counter()
    chunker = chunker or ChunkerSettings()
    root.mkdir(parents=True, exist_ok=True)
    fingerprint = build_fingerprint(documents, embedder.fingerprint, chunker, index_type)
    if not force:
        try:
            directory = store.current_dir(root)
            if store.read_manifest(directory).get("fingerprint") == fingerprint:
                return BuildResult(directory.name, directory, True, time.perf_counter() - started)
        except store.IndexUnavailable:
            pass

    with store.staging(root) as staged:
        chunked = [chunk_document(d.doc_id, d.text, chunker) for d in documents]
        chunk_table, sentence_table = chunk_rows(chunked, previous_kinds(root))
        bylines = sorted({c["author"] for c in chunk_table if c["author"]})
        tokenizer = KeywordTokenizer(mine_terms((c["embed_text"] for c in chunk_table), bylines))
        corpus_tokens = [tokenizer.tokenize(c["keyword_text"], normalized=False) for c in chunk_table]
        variants = variant_map(sound_variants({t for tokens in corpus_tokens for t in tokens}))
        if variants:  # each spelling becomes one token wherever it stands
            tokenizer = KeywordTokenizer([*tokenizer.user_terms, *variants])
            corpus_tokens = [tokenizer.tokenize(c["keyword_text"], normalized=False) for c in chunk_table]

        cache = previous_vectors(root, embedder.fingerprint)
        chunk_vectors, sentence_vectors, embedded = embed_corpus(chunk_table, sentence_table, embedder, cache, progress)

        version = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ") + "-" + fingerprint[:8]
        store.write_jsonl(
            staged / DOCUMENTS_FILE, [{"meta": d.meta.to_dict(), "text": d.text, "sha256": d.sha256} for d in documents]
        )
        store.write_jsonl(staged / CHUNKS_FILE, chunk_table)
        store.write_jsonl(staged / SENTENCES_FILE, sentence_table)
        write_dense(dense_index(chunk_vectors, index_type, ann_min_chunks), staged / DENSE_FILE)
        np.save(staged / SENTENCE_VECTORS_FILE, sentence_vectors, allow_pickle=False)
        keyword_index(corpus_tokens).save(str(staged / BM25_DIR))
        sentence_tokens = [tokenizer.tokenize(s["embed_text"], normalized=True) for s in sentence_table]
        keyword_index(sentence_tokens).save(str(staged / SENTENCE_BM25_DIR))
        tokenizer.save(staged / USERDICT_FILE)
        frequency = Counter(t for tokens in corpus_tokens for t in set(tokens))
        lexicon = build_lexicon([d.text for d in documents], frequency, tokenizer.words, tokenizer.tokenize)
        lexicon.variants = variants
        lexicon.save(staged / LEXICON_FILE)
        words = vocabulary.vocabulary_words(frequency)
        word_vectors, _ = embed_all(words, embedder, cache, progress, batch_size=256)  # words are short: large batches
        vocabulary.save(staged, words, word_vectors)
        seconds = time.perf_counter() - started
        manifest = {
            "fingerprint": fingerprint,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "model": {
                "name": embedder.name, "fingerprint": embedder.fingerprint, "dimension": int(chunk_vectors.shape[1]),
            },
            "chunker": chunker.to_dict(),
            "index_type": index_type,
            "dense_kind": resolve_kind(index_type, len(chunk_table), ann_min_chunks),
            "code": CODE_REVISION,
            "corpus": {d.doc_id: d.sha256 for d in documents},
            "counts": {"documents": len(documents), "chunks": len(chunk_table), "sentences": len(sentence_table)},
            "build_seconds": round(seconds, 3),
        }
        if before_publish is not None:
            before_publish(root, staged, version)
        path = store.publish(root, staged, version, manifest)
    store.prune(root, keep)
    return BuildResult(
        version, path, False, time.perf_counter() - started, len(documents), len(chunk_table), len(sentence_table),
        embedded, len(chunk_table) + len(sentence_table) - embedded,
    )
