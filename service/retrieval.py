"""Finding passages for a question: dense and keyword candidates, fused."""

from __future__ import annotations

from dataclasses import dataclass

from index.backend import ChunkRecord, SearchBackend
from index.embedding import Embedder
from index.normalize import normalize
from service.fusion import reciprocal_rank_fusion
from service.settings import Mode, Settings


@dataclass(frozen=True)
class Passage:
    """A ranked passage with its citation: document, section and exact offsets."""

    rank: int
    chunk: ChunkRecord
    score: float
    title: str

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


class Retriever:
    """Search over one loaded index with one embedding model."""

    def __init__(self, backend: SearchBackend, embedder: Embedder, settings: Settings) -> None:
        self.backend = backend
        self.embedder = embedder
        self.settings = settings

    def embed_query(self, question: str):  # noqa: ANN201 - numpy vector
        return self.embedder.encode([normalize(question)])[0]

    def rank(self, question: str, mode: Mode, n: int, doc_ids: frozenset[str] | None) -> list[tuple[int, float]]:
        """Chunk positions with scores, best first."""
        depth = max(n, self.settings.candidates)
        if mode == "dense":
            return [(h.chunk, h.score) for h in self.backend.dense(self.embed_query(question), n, doc_ids)]
        if mode == "keyword":
            return [(h.chunk, h.score) for h in self.backend.keyword(self.backend.tokenize(question), n, doc_ids)]
        dense = self.backend.dense(self.embed_query(question), depth, doc_ids)
        keyword = self.backend.keyword(self.backend.tokenize(question), depth, doc_ids)
        fused = reciprocal_rank_fusion([[h.chunk for h in dense], [h.chunk for h in keyword]], k=self.settings.rrf_k)
        return [(int(chunk), score) for chunk, score in fused[:n]]

    def search(self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None) -> list[Passage]:
        k = k or self.settings.top_k
        ranked = self.rank(question, mode or self.settings.mode, k, doc_ids)
        passages = []
        for rank, (position, score) in enumerate(ranked, start=1):
            chunk = self.backend.chunks[position]
            passages.append(Passage(rank, chunk, score, self.backend.documents[chunk.doc_id].title))
        return passages
