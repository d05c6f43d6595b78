"""A question's path through govqa, one stage after another, in the order they run:

    parse → encode → expand → candidates → signals → rank → evidence → answer and verdict

Each stage is a function of plain data and of the index it reads: a `Retriever` (service/retrieval.py)
holds the loaded backend, the embedding model, the people of the index's bylines and the word
neighbours. `retrieve` runs the stages up to the evidence (what /v1/search returns); `answer` quotes
the sentences that answer and says whether to abstain. `service.asking.Asker` adds the cache around both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from index.cleaning import is_caption
from service.answer_scorer import AnswerScorer
from service.answer_types import answer_pattern
from service.answering import Answer, AnswerPolicy, Verdict, compose
from service.fusion import reciprocal_rank_fusion
from service.query import Query, parse_query
from service.ranking import Candidate, score_candidates
from service.retrieval import (
    Evidence, Passage, Retrieval, Retriever, diversify, evidence_of, favour_answer_type, people_first,
)
from service.settings import Mode


@dataclass(frozen=True)
class Hits:
    """The chunk positions each first-stage search found, best first."""

    dense: list[int]
    keyword: list[int]

    @property
    def positions(self) -> list[int]:
        return list(dict.fromkeys(self.dense + self.keyword))


def parse(retriever: Retriever, question: str) -> Query:
    """The question normalized, its keyword tokens cut by the index's tokenizer, an English question's
    words translated, its asked kind (who, when, how many …) and constraints read."""
    backend = retriever.backend
    return parse_query(question, backend.tokenize, backend.translate, backend.spellings)


def encode(retriever: Retriever, query: Query, mode: Mode) -> np.ndarray | None:
    """The question's embedding (none in keyword mode)."""
    return retriever.embed_query(query.normalized) if mode != "keyword" else None


def expand(retriever: Retriever, query: Query, mode: Mode) -> Query:
    """On the keyword side, the full names of authors the question names in part, and the indexed words
    nearest to question words the index does not hold."""
    if mode == "dense":
        return query
    return retriever.neighbours.expand(retriever.people.with_author_names(query))


def candidates(
    retriever: Retriever, query: Query, vector: np.ndarray | None, mode: Mode, doc_ids: frozenset[str] | None
) -> Hits:
    """Chunks found by the vector index and by BM25, each to the configured depth."""
    depth, backend = retriever.settings.candidates, retriever.backend
    dense = backend.dense(vector, depth, doc_ids) if vector is not None else []
    keyword = backend.keyword(list(query.tokens), depth, doc_ids) if mode != "dense" else []
    return Hits(dense=[h.chunk for h in dense], keyword=[h.chunk for h in keyword])


def signals(
    retriever: Retriever, query: Query, vector: np.ndarray | None, hits: Hits, mode: Mode, named: tuple[str, ...]
) -> list[Candidate]:
    """Every candidate scored by the four signals (passage and sentence, dense and BM25), fused; best first."""
    people = retriever.people
    return score_candidates(
        retriever.backend, people.without_names(query, named), vector, hits.positions, retriever.weights.for_mode(mode),
        people.byline_tokens, retriever.naming_author,
    )


def rank(
    retriever: Retriever, query: Query, scored: list[Candidate], hits: Hits, mode: Mode, named: tuple[str, ...]
) -> list[Candidate]:
    """The candidates in their final order: those holding the asked kind of answer raised, rank fusion
    when configured, passages by or about a person the question names first."""
    settings = retriever.settings
    ranked = favour_answer_type(scored, answer_pattern(query), retriever.backend.chunks, settings.weight_answer_type)
    if settings.fusion == "rrf" and mode == "hybrid":  # rank fusion: the scores do not order
        by_position = {c.position: c for c in ranked}
        ranked = [by_position[p] for p, _ in reciprocal_rank_fusion([hits.dense, hits.keyword], k=settings.rrf_k)]
    return people_first(ranked, retriever.people.about(named, retriever.chunk_text)) if named else ranked


def evidence(retriever: Retriever, rank: int, candidate: Candidate) -> Passage:
    """A returned passage with its citation and the sentences that bear on the question (never a caption)."""
    backend = retriever.backend
    chunk = backend.chunks[candidate.position]
    sentences = tuple(s for s in candidate.sentences if not is_caption(backend.sentences[s.position].embed_text))
    best = evidence_of(replace(candidate, sentences=sentences), retriever.settings.evidence_margin) if sentences else []
    found = tuple(Evidence(sentence=backend.sentences[s.position], score=s.score) for s in best)
    meta = backend.documents[chunk.doc_id]
    return Passage(
        rank=rank, position=candidate.position, chunk=chunk, score=candidate.score, title=meta.title, evidence=found,
        url=meta.url,
    )


def retrieve(
    retriever: Retriever, question: str, k: int | None = None, mode: Mode | None = None,
    doc_ids: frozenset[str] | None = None,
) -> Retrieval:
    """The stages up to the evidence: the parsed question, every scored candidate and the k passages returned."""
    k, mode = k or retriever.settings.top_k, mode or retriever.settings.mode
    query = parse(retriever, question)
    if not query.normalized.strip():  # nothing visible is left to search for
        return Retrieval(query=query, candidates=[], passages=[])
    vector = encode(retriever, query, mode)  # before the expansion: both model runs back to back are faster
    query = expand(retriever, query, mode)
    hits = candidates(retriever, query, vector, mode, doc_ids)
    named = retriever.people.named_in(query)
    ranked = rank(retriever, query, signals(retriever, query, vector, hits, mode, named), hits, mode, named)
    chosen = diversify(ranked, k, retriever.settings.diversity_margin)
    passages = [evidence(retriever, rank, candidate) for rank, candidate in enumerate(chosen, start=1)]
    return Retrieval(query=query, candidates=ranked, passages=passages, vector=vector)


def search(
    retriever: Retriever, question: str, k: int | None = None, mode: Mode | None = None,
    doc_ids: frozenset[str] | None = None,
) -> list[Passage]:
    return retrieve(retriever, question, k, mode, doc_ids).passages


def answer(
    retriever: Retriever, retrieval: Retrieval, policy: AnswerPolicy, scorer: AnswerScorer
) -> tuple[Answer | None, Verdict]:
    """The sentences that answer, quoted with their citations, and the verdict: the scorer's probability
    that they answer, and why govqa abstains when it is below the threshold."""
    return compose(retriever.backend, retrieval, policy, scorer)
