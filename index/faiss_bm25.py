"""The default backend: a FAISS inner-product index and a bm25s keyword index, in memory."""

from __future__ import annotations

from pathlib import Path

import bm25s
import faiss
import numpy as np

from index import store
from index.backend import ChunkRecord, Hit, Level, SentenceRecord
from index.build import (
    BM25_DIR,
    CHUNKS_FILE,
    DENSE_FILE,
    DOCUMENTS_FILE,
    SENTENCE_BM25_DIR,
    SENTENCE_VECTORS_FILE,
    SENTENCES_FILE,
    LEXICON_FILE,
    USERDICT_FILE,
)
from index.documents import DocumentMeta
from index.lexicon import Lexicon, Translated
from index.tokenizing import KeywordTokenizer
from index.vector_index import read_dense, search_parameters
from index.vocabulary import Vocabulary

CHUNK_FIELDS = ChunkRecord.__dataclass_fields__.keys()
SENTENCE_FIELDS = SentenceRecord.__dataclass_fields__.keys()


def sentence_record(row: dict) -> SentenceRecord:
    """A sentence row of sentences.jsonl as the chunker's record (its kinds as a tuple)."""
    fields = {k: row[k] for k in SENTENCE_FIELDS if k in row}
    return SentenceRecord(**{**fields, "holds": tuple(fields.get("holds", ()))})


class VersionTables:
    """What every backend reads from an index version's directory: documents, chunk and sentence
    tables, the BM25 postings ranking scores from, the keyword tokenizer and the lexicon."""

    def __init__(self, directory: Path, manifest: dict) -> None:
        self.directory = directory
        self.manifest = manifest
        self.version: str = manifest["version"]
        documents = store.read_jsonl(directory / DOCUMENTS_FILE)
        self.documents = {d["meta"]["doc_id"]: DocumentMeta(**d["meta"]) for d in documents}
        self.texts: dict[str, str] = {d["meta"]["doc_id"]: d["text"] for d in documents}
        self.chunks = [
            ChunkRecord(**{**{k: row[k] for k in CHUNK_FIELDS}, "section": tuple(row["section"])})
            for row in store.read_jsonl(directory / CHUNKS_FILE)
        ]
        self.sentences = [sentence_record(row) for row in store.read_jsonl(directory / SENTENCES_FILE)]
        self._bm25 = bm25s.BM25.load(str(directory / BM25_DIR), mmap=False)
        self._sentence_bm25 = bm25s.BM25.load(str(directory / SENTENCE_BM25_DIR), mmap=False)
        self._tokenizer = KeywordTokenizer.from_file(directory / USERDICT_FILE)
        self._lexicon = Lexicon.load(directory / LEXICON_FILE)
        self._vocabulary = Vocabulary.load(directory)
        self.chunk_positions: dict[str, int] = {c.chunk_id: i for i, c in enumerate(self.chunks)}

    def _check_offsets(self) -> None:
        for chunk in self.chunks:
            if self.texts[chunk.doc_id][chunk.start:chunk.end] != chunk.text:
                raise store.IndexUnavailable(
                    f"index {self.directory}: chunk {chunk.chunk_id} no longer matches its document"
                )

    def keyword_matrix(self, tokens: list[str], positions: list[int], level: Level = "chunk") -> np.ndarray:
        return token_matrix(self._bm25 if level == "chunk" else self._sentence_bm25, tokens, positions)

    def keyword_idf(self, tokens: list[str]) -> np.ndarray:
        vocab, postings = self._bm25.vocab_dict, self._bm25.scores["indptr"]
        ids = [vocab.get(t) for t in tokens]
        frequency = np.array([0 if i is None else postings[i + 1] - postings[i] for i in ids], dtype=np.float64)
        total = self._bm25.scores["num_docs"]
        return np.log(1 + (total - frequency + 0.5) / (frequency + 0.5))

    def tokenize(self, text: str) -> list[str]:
        return self._tokenizer.tokenize(text)

    def translate(self, text: str) -> Translated:
        return self._lexicon.translate(text)

    def spellings(self, tokens: list[str]) -> list[str]:
        return self._lexicon.spellings(tokens)

    def knows(self, token: str) -> bool:
        return token in self._bm25.vocab_dict

    def similar_words(self, vectors: np.ndarray, threshold: float, per_word: int) -> list[list[str]]:
        return self._vocabulary.nearest(vectors, threshold, per_word)


class FaissBM25Index(VersionTables):
    """One loaded, verified index version: the tables, a FAISS index of chunk vectors and the sentence vectors."""

    def __init__(self, directory: Path, manifest: dict) -> None:
        super().__init__(directory, manifest)
        self._dense = read_dense(directory / DENSE_FILE)
        self._sentence_vectors = np.load(directory / SENTENCE_VECTORS_FILE, allow_pickle=False)
        self._doc_of_chunk = np.array([c.doc_id for c in self.chunks])
        self._check_shapes()

    def _check_shapes(self) -> None:
        counts = self.manifest.get("counts", {})
        if self._dense.ntotal != len(self.chunks) or counts.get("chunks") != len(self.chunks):
            raise store.IndexUnavailable(f"index {self.directory}: vector count does not match the chunk table")
        if len(self._sentence_vectors) != len(self.sentences):
            raise store.IndexUnavailable(f"index {self.directory}: sentence vectors do not match the sentence table")
        self._check_offsets()

    @property
    def dimension(self) -> int:
        return int(self._dense.d)

    def _mask(self, doc_ids: frozenset[str] | None) -> np.ndarray | None:
        return None if doc_ids is None else np.isin(self._doc_of_chunk, list(doc_ids))

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        k = min(k, self._dense.ntotal)
        selector = None
        mask = self._mask(doc_ids)
        if mask is not None:
            allowed = np.flatnonzero(mask).astype(np.int64)
            if not len(allowed):
                return []
            selector = faiss.IDSelectorBatch(allowed)
        scores, ids = self._dense.search(query, k, params=search_parameters(self._dense, k, selector))
        return [Hit(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def keyword(self, tokens: list[str], k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]:
        scores = bm25_scores(self._bm25, tokens)
        if scores is None:
            return []
        mask = self._mask(doc_ids)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Hit(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def chunk_vectors(self, positions: list[int]) -> np.ndarray:
        return self._dense.reconstruct_batch(np.asarray(positions, dtype=np.int64))

    def sentence_vectors(self, positions: list[int]) -> np.ndarray:
        return self._sentence_vectors[positions]



def bm25_scores(index: bm25s.BM25, tokens: list[str]) -> np.ndarray | None:
    """BM25 of every row for the query tokens; None when no token is in the vocabulary."""
    ids = [index.vocab_dict[t] for t in tokens if t in index.vocab_dict]
    return index.get_scores(ids) if ids else None


def token_matrix(index: bm25s.BM25, tokens: list[str], positions: list[int]) -> np.ndarray:
    """BM25 contribution of each token (rows) to each given row of the index (columns), read from
    the token's sorted posting list, so the cost grows with the candidates, not the corpus."""
    matrix = np.zeros((len(tokens), len(positions)), np.float32)
    wanted = np.asarray(positions, dtype=np.int64)
    data, indices, indptr = index.scores["data"], index.scores["indices"], index.scores["indptr"]
    for row, token in enumerate(tokens):
        token_id = index.vocab_dict.get(token)
        if token_id is None or not len(wanted):
            continue
        docs = indices[indptr[token_id]:indptr[token_id + 1]]
        at = np.minimum(np.searchsorted(docs, wanted), max(len(docs) - 1, 0))
        found = (docs[at] == wanted) if len(docs) else np.zeros(len(wanted), bool)
        matrix[row, found] = data[indptr[token_id] + at[found]]
    return matrix


def current_version(root: Path, model_name: str | None, dimension: int | None, verify: bool) -> tuple[Path, dict]:
    """The current version's directory and manifest, refused when it is damaged or built for another model
    (every backend opens a version through this)."""
    directory = store.current_dir(root)
    manifest = store.read_manifest(directory)
    model = manifest.get("model", {})
    if model_name is not None and model.get("name") != model_name:
        raise store.IndexUnavailable(
            f"index {directory.name} was built with model {model.get('name')!r}, but GOVQA_MODEL is {model_name!r}; "
            "rebuild with `govqa build`"
        )
    if dimension is not None and model.get("dimension") != dimension:
        raise store.IndexUnavailable(
            f"index {directory.name} holds {model.get('dimension')}-d vectors, the model makes {dimension}-d; "
            "rebuild with `govqa build`"
        )
    if verify:
        store.verify(directory, manifest)
    return directory, manifest


def load_index(
    root: Path, *, model_name: str | None = None, dimension: int | None = None, verify: bool = True
) -> FaissBM25Index:
    """Load the current version under root, refusing one that is damaged or built for another model."""
    directory, manifest = current_version(root, model_name, dimension, verify)
    try:
        return FaissBM25Index(directory, manifest)
    except store.IndexUnavailable:
        raise
    except (OSError, ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise store.IndexUnavailable(
            f"index {directory.name} cannot be read ({type(exc).__name__}: {exc}); rebuild with `govqa build`"
        ) from exc
