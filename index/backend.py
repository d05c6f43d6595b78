"""The retrieval backend interface, and the records every backend serves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.documents import DocumentMeta


@dataclass(frozen=True)
class ChunkRecord:
    """A stored passage, as loaded from an index."""

    chunk_id: str
    doc_id: str
    section: tuple[str, ...]
    author: str | None
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int


@dataclass(frozen=True)
class SentenceRecord:
    doc_id: str
    start: int
    end: int
    text: str
    chunk: int


@dataclass(frozen=True)
class Hit:
    """One backend result: a chunk position and its score under one method."""

    chunk: int
    score: float


class SearchBackend(Protocol):
    """Where vectors and postings live. The FAISS + bm25s backend is the default."""

    version: str
    manifest: dict
    documents: dict[str, DocumentMeta]
    texts: dict[str, str]
    chunks: list[ChunkRecord]
    sentences: list[SentenceRecord]

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]: ...

    def keyword(self, tokens: list[str], k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]: ...

    def sentence_vectors(self, positions: list[int]) -> np.ndarray: ...

    def tokenize(self, text: str) -> list[str]: ...
