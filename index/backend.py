"""The retrieval backend interface. Backends serve the chunker's own Chunk and Sentence records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from index.chunking import Chunk as ChunkRecord
from index.chunking import Sentence as SentenceRecord
from index.documents import DocumentMeta


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
