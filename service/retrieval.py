"""Finding passages for a question: dense and keyword candidates, fused, re-ranked with sentence evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from index.backend import ChunkRecord, SearchBackend, SentenceRecord
from index.cleaning import is_caption
from index.embedding import Embedder
from service.answer_types import answer_pattern
from service.expansion import WordNeighbours
from service.fusion import reciprocal_rank_fusion
from service.people import People
from service.query import Query, parse_query
from service.ranking import Candidate, ScoredSentence, Weights, score_candidates
from service.settings import Mode, Settings

EVIDENCE_PER_PASSAGE = 3


@dataclass(frozen=True)
class Evidence:
    """A sentence of a passage that bears on the question; its offsets are the document's."""

    sentence: SentenceRecord
    score: float


@dataclass(frozen=True)
class Passage:
    """A ranked passage with its citation (document, section, exact offsets) and its evidence."""

    rank: int
    position: int
    chunk: ChunkRecord
    score: float
    title: str
    evidence: tuple[Evidence, ...] = ()
    url: str | None = None

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass(frozen=True)
class Retrieval:
    """Everything one search produced: the parsed question, every scored candidate, the passages returned."""

    query: Query
    candidates: list[Candidate]
    passages: list[Passage]
    vector: np.ndarray | None = None  # the question's embedding (None in keyword mode)


def favour_answer_type(candidates: list[Candidate], pattern: re.Pattern[str] | None, chunks: list[ChunkRecord], bonus: float) -> list[Candidate]:
    """The passages that hold what the question's kind asks for (a time, a count) gain `bonus`; the
    order is then by score again. A "when" question's answer names a time, its near misses often none."""
    if pattern is None or not bonus:
        return candidates
    raised = [replace(c, score=c.score + bonus) if pattern.search(chunks[c.position].embed_text) else c for c in candidates]
    return sorted(raised, key=lambda c: -c.score)


def diversify(candidates: list[Candidate], k: int, margin: float) -> list[Candidate]:
    """When the top k all come from one document, give the last place to the best passage of
    another document that scores within `margin` of the k-th."""
    top = candidates[:k]
    if k < 2 or len(top) < k or len({c.doc for c in top}) > 1:
        return top
    other = next((c for c in candidates[k:] if c.doc != top[0].doc), None)
    if other is None or other.score < top[-1].score - margin:
        return top
    return top[:-1] + [other]


def people_first(candidates: list[Candidate], about: Callable[[int], bool]) -> list[Candidate]:
    """The candidates by or about the people a question names, ahead of the rest; each group keeps its order."""
    return sorted(candidates, key=lambda c: not about(c.position))


def evidence_of(candidate: Candidate, margin: float) -> list[ScoredSentence]:
    """The passage's best sentence, and the next ones that score nearly as well."""
    best, *rest = candidate.sentences
    return [best] + [s for s in rest[: EVIDENCE_PER_PASSAGE - 1] if s.score >= best.score - margin and s.score > 0]


class Retriever:
    """Search over one loaded index with one embedding model."""

    def __init__(self, backend: SearchBackend, embedder: Embedder, settings: Settings) -> None:
        self.backend = backend
        self.embedder = embedder
        self.settings = settings
        self.weights = Weights(settings.weight_dense, settings.weight_keyword, settings.weight_sentence_dense, settings.weight_sentence_keyword)
        self.people = People.build([c.author for c in backend.chunks], backend.tokenize)
        self.neighbours = WordNeighbours(backend, embedder, settings.expand_threshold, settings.expand_words)

    def chunk_text(self, position: int) -> str:
        """The text of a chunk as the model and the keyword index see it."""
        return self.backend.chunks[position].embed_text

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.encode_query(question)

    def candidates(self, query: Query, vector: np.ndarray | None, mode: Mode, doc_ids: frozenset[str] | None) -> list[Candidate]:
        """Chunks found by either retriever, scored and ordered by the configured fusion."""
        depth = self.settings.candidates
        dense = self.backend.dense(vector, depth, doc_ids) if vector is not None else []
        keyword = self.backend.keyword(list(query.tokens), depth, doc_ids) if mode != "dense" else []
        positions = list(dict.fromkeys([h.chunk for h in dense] + [h.chunk for h in keyword]))
        named = self.people.named_in(query)
        scored = score_candidates(
            self.backend, self.people.without_names(query, named), vector, positions, self.weights.for_mode(mode),
            self.people.byline_tokens, self.people.byline_names,
        )
        scored = favour_answer_type(scored, answer_pattern(query), self.backend.chunks, self.settings.weight_answer_type)
        if self.settings.fusion == "rrf" and mode == "hybrid":  # rank fusion: the scores do not order
            order = reciprocal_rank_fusion([[h.chunk for h in dense], [h.chunk for h in keyword]], k=self.settings.rrf_k)
            by_position = {c.position: c for c in scored}
            scored = [by_position[p] for p, _ in order]
        return people_first(scored, self.people.about(named, self.chunk_text)) if named else scored

    def retrieve(self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None) -> Retrieval:
        k = k or self.settings.top_k
        mode = mode or self.settings.mode
        query = parse_query(question, self.backend.tokenize, self.backend.translate, self.backend.spellings)
        if not query.normalized.strip():  # nothing visible is left to search for
            return Retrieval(query, [], [])
        vector = self.embed_query(query.normalized) if mode != "keyword" else None
        if mode != "dense":  # after the question's vector: both model runs back to back are faster
            query = self.neighbours.expand(self.people.with_author_names(query))
        scored = self.candidates(query, vector, mode, doc_ids)
        chosen = diversify(scored, k, self.settings.diversity_margin)
        passages = [self.passage(rank, c) for rank, c in enumerate(chosen, start=1)]
        return Retrieval(query, scored, passages, vector)

    def passage(self, rank: int, candidate: Candidate) -> Passage:
        chunk = self.backend.chunks[candidate.position]
        sentences = tuple(s for s in candidate.sentences if not is_caption(self.backend.sentences[s.position].embed_text))
        shown = replace(candidate, sentences=sentences)
        evidence = tuple(
            Evidence(self.backend.sentences[s.position], s.score) for s in evidence_of(shown, self.settings.evidence_margin)
        ) if sentences else ()
        meta = self.backend.documents[chunk.doc_id]
        return Passage(rank, candidate.position, chunk, candidate.score, meta.title, evidence, meta.url)

    def search(self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None) -> list[Passage]:
        return self.retrieve(question, k, mode, doc_ids).passages
