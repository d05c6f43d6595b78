"""What a search over one index works with: the loaded index and model (`Retriever`), the passages it returns
with their evidence, and the ordering rules the ranking stage applies (service/pipeline.py runs the stages)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from index.backend import ChunkRecord, SearchBackend, SentenceRecord
from index.embedding import Embedder
from service.expansion import WordNeighbours
from service.people import People
from service.query import Query
from service.ranking import Candidate, ScoredSentence, Weights, sentences_naming_their_author
from service.settings import Settings

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


def favour_answer_type(
    candidates: list[Candidate], pattern: re.Pattern[str] | None, chunks: list[ChunkRecord], bonus: float
) -> list[Candidate]:
    """The passages that hold what the question's kind asks for (a time, a count) gain `bonus`; the
    order is then by score again. A "when" question's answer names a time, its near misses often none."""
    if pattern is None or not bonus:
        return candidates
    raised = [
        replace(c, score=c.score + bonus) if pattern.search(chunks[c.position].embed_text) else c for c in candidates
    ]
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
    """One loaded index with its embedding model, bylines' people and word neighbours: what every stage of
    service/pipeline.py reads."""

    def __init__(self, backend: SearchBackend, embedder: Embedder, settings: Settings) -> None:
        self.backend = backend
        self.embedder = embedder
        self.settings = settings
        self.weights = Weights(
            settings.weight_dense, settings.weight_keyword,
            settings.weight_sentence_dense, settings.weight_sentence_keyword,
        )
        self.people = People.build([c.author for c in backend.chunks], backend.tokenize)
        self.naming_author = sentences_naming_their_author(backend, self.people.byline_names)
        self.neighbours = WordNeighbours(backend, embedder, settings.expand_threshold, settings.expand_words)

    def chunk_text(self, position: int) -> str:
        """The text of a chunk as the model and the keyword index see it."""
        return self.backend.chunks[position].embed_text

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.encode_query(question)
