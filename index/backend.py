"""The retrieval backend interface. Backends serve the chunker's own Chunk and Sentence records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from index.chunking import Chunk as ChunkRecord
from index.chunking import Sentence as SentenceRecord
from index.documents import DocumentMeta
from index.lexicon import Translated

Level = Literal["chunk", "sentence"]


@dataclass(frozen=True)
class Hit:
    """One backend result: a chunk position and its score under one method."""

    chunk: int
    score: float


class IndexedCorpus(Protocol):
    """What an index version holds as records: its documents, their canonical texts, chunks and sentences
    (what the read routes, the evidence and the answer read)."""

    version: str
    manifest: dict
    documents: dict[str, DocumentMeta]
    texts: dict[str, str]
    chunks: list[ChunkRecord]
    chunk_positions: dict[str, int]
    sentences: list[SentenceRecord]


class CandidateSource(Protocol):
    """What retrieval needs: first-stage candidates, stored vectors and BM25 postings."""

    def dense(self, vector: np.ndarray, k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]: ...

    def keyword(self, tokens: list[str], k: int, doc_ids: frozenset[str] | None = None) -> list[Hit]: ...

    def chunk_vectors(self, positions: list[int]) -> np.ndarray: ...

    def sentence_vectors(self, positions: list[int]) -> np.ndarray: ...

    def keyword_matrix(self, tokens: list[str], positions: list[int], level: Level = "chunk") -> np.ndarray:
        """BM25 contribution of each query token (rows) to each given chunk or sentence (columns);
        sentences are scored as texts of their own."""
        ...

    def keyword_idf(self, tokens: list[str]) -> np.ndarray:
        """Inverse document frequency of each token over the chunks (highest for unseen tokens)."""
        ...


class IndexWords(Protocol):
    """What the question's tokenizer and lexicon need: the index's own tokenizer, translations,
    spellings and the words it knows."""

    def tokenize(self, text: str) -> list[str]: ...

    def translate(self, text: str) -> Translated:
        """Chinese keyword tokens for the English words of a text, from the index's own lexicon."""
        ...

    def spellings(self, tokens: list[str]) -> list[str]:
        """Other spellings the corpus uses for these keyword tokens (name variants mined at build time)."""
        ...

    def knows(self, token: str) -> bool:
        """Whether the keyword index has seen this token."""
        ...

    def similar_words(self, vectors: np.ndarray, threshold: float, per_word: int) -> list[list[str]]:
        """For each word vector (from the index's model), the corpus words nearest in meaning."""
        ...


class SearchBackend(IndexedCorpus, CandidateSource, IndexWords, Protocol):
    """Where vectors and postings live, all three parts together: what a backend implements. The FAISS +
    bm25s backend is the default; Milvus is the other (index/milvus_backend.py)."""
