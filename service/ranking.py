"""Scoring candidate passages and their sentences against a question.

Four signals are computed for every candidate chunk, whichever retriever found it: the
chunk's cosine to the question, its BM25, and the best cosine and best BM25 among its own
sentences (sentence vectors and a sentence-level BM25 index are built with the index).
Each signal is z-normalized over the candidates, so that scores on different scales
(cosines near 0.8, BM25 in the tens) add up fairly, and summed with weights. A sentence's
own score is the same weighted sum of its two z-normalized signals; the best sentences
are a passage's evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.backend import IndexedCorpus, SearchBackend
from service.query import Query
from service.settings import Mode


@dataclass(frozen=True)
class Weights:
    """How much each z-normalized signal counts."""

    dense: float = 0.5
    keyword: float = 1.0
    sentence_dense: float = 0.5
    sentence_keyword: float = 1.0

    def for_mode(self, mode: Mode) -> Weights:
        if mode == "dense":
            return Weights(self.dense, 0.0, self.sentence_dense, 0.0)
        if mode == "keyword":
            return Weights(0.0, self.keyword, 0.0, self.sentence_keyword)
        return self


@dataclass(frozen=True)
class ScoredSentence:
    position: int
    score: float


@dataclass(frozen=True)
class Candidate:
    """A chunk with its fused score and its sentences, best first."""

    position: int
    doc: str
    score: float
    sentences: tuple[ScoredSentence, ...]


BIOGRAPHY_WEIGHT = 0.5


def zscore(values: np.ndarray) -> np.ndarray:
    """Standard scores; all zeros when the values do not vary."""
    spread = values.std()
    return np.zeros_like(values) if spread < 1e-9 else (values - values.mean()) / spread


def sentence_rows(backend: SearchBackend, positions: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Sentence positions of the given chunks, and for each the index of its chunk in `positions`."""
    rows, owners = [], []
    for i, position in enumerate(positions):
        chunk = backend.chunks[position]
        span = range(chunk.first_sentence, chunk.last_sentence)
        rows.extend(span)
        owners.extend([i] * len(span))
    return np.asarray(rows, dtype=np.int64), np.asarray(owners, dtype=np.int64)


def byline_mask(tokens: list[str], bylines: list[frozenset[str]], owners: np.ndarray) -> np.ndarray:
    """For each question token (rows) and candidate sentence (columns): does the token name the author
    of the sentence's chunk? Read once per chunk, then spread over its sentences."""
    per_chunk = np.array(
        [[token in byline for byline in bylines] for token in tokens], dtype=bool
    ).reshape(len(tokens), len(bylines))
    return per_chunk[:, owners] if len(owners) else np.zeros((len(tokens), 0), dtype=bool)


def sentences_naming_their_author(backend: IndexedCorpus, names: Callable[[int], tuple[str, ...]]) -> np.ndarray:
    """For every sentence of an index: does it name the author of its own chunk (a byline or a biography)?
    Read once per index version, and only in the chunks that have an author."""
    marked = np.zeros(len(backend.sentences), dtype=bool)
    for position, chunk in enumerate(backend.chunks):
        written = names(position) if chunk.author else ()
        for row in range(chunk.first_sentence, chunk.last_sentence) if written else ():  # last_sentence: one past
            marked[row] = any(n in backend.sentences[row].embed_text for n in written)
    return marked


def score_candidates(
    backend: SearchBackend, query: Query, vector: np.ndarray | None, positions: list[int], weights: Weights,
    bylines: Callable[[int], frozenset[str]] | None = None, naming: np.ndarray | None = None,
) -> list[Candidate]:
    """Fuse the four signals for each candidate chunk; best first.

    With `bylines` (a chunk's author tokens), a sentence's BM25 leaves out the question's words that name
    its own author: the byline already makes every chunk of the essay match them, so the one sentence that
    repeats the name (the author's biography) gains nothing over the sentences that answer. With `naming`
    (sentences_naming_their_author, by sentence row), a sentence that names its own author counts for half its BM25:
    a biography also matches a question's words for the author's institution ("according to X of CIGI")."""
    if not positions:
        return []
    tokens = list(query.tokens)
    rows, owners = sentence_rows(backend, positions)
    chunk_cos = backend.chunk_vectors(positions) @ vector if vector is not None else np.zeros(len(positions))
    sent_cos = backend.sentence_vectors(rows.tolist()) @ vector if vector is not None else np.zeros(len(rows))
    chunk_bm25 = backend.keyword_matrix(tokens, positions, "chunk").sum(axis=0)
    sent_bm25 = backend.keyword_matrix(tokens, rows.tolist(), "sentence")
    if bylines is not None:
        sent_bm25 = np.where(byline_mask(tokens, [bylines(p) for p in positions], owners), 0.0, sent_bm25)
    sent_bm25 = sent_bm25.sum(axis=0)
    if naming is not None:
        sent_bm25 = np.where(naming[rows], BIOGRAPHY_WEIGHT * sent_bm25, sent_bm25)

    sentence_score = weights.sentence_dense * zscore(sent_cos) + weights.sentence_keyword * zscore(sent_bm25)
    best_cos = np.full(len(positions), -np.inf)
    best_bm25 = np.full(len(positions), -np.inf)
    np.maximum.at(best_cos, owners, sent_cos)
    np.maximum.at(best_bm25, owners, sent_bm25)
    fused = (
        weights.dense * zscore(chunk_cos)
        + weights.keyword * zscore(chunk_bm25)
        + weights.sentence_dense * zscore(best_cos)
        + weights.sentence_keyword * zscore(best_bm25)
    )
    order = np.lexsort((-sentence_score, owners))  # by chunk, then best sentence first; ties keep reading order
    bounds = np.searchsorted(owners[order], np.arange(len(positions) + 1))
    ranked_rows, ranked_scores = rows[order].tolist(), sentence_score[order].tolist()
    candidates = []
    for i, position in enumerate(positions):
        sentences = tuple(ScoredSentence(ranked_rows[j], ranked_scores[j]) for j in range(bounds[i], bounds[i + 1]))
        candidates.append(Candidate(position, backend.chunks[position].doc_id, float(fused[i]), sentences))
    candidates.sort(key=lambda c: -c.score)
    return candidates
