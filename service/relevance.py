"""A passage's relevance on a 0–1 scale, for clients that filter by a score threshold (Dify's
`score_threshold`): the fused ranking score is unbounded and its scale differs between questions, so it is
mapped through a logistic regression fitted by scripts/fit_relevance.py to the chance that the passage
covers a gold answer span (the bundled corpus's dev and own question sets, top 10 passages: of the 2,130
passages, those given 0.9 or more were relevant 92% of the time, those given under 0.1 2%)."""

from __future__ import annotations

import math

# Fitted by scripts/fit_relevance.py ../shared/eval/dev.jsonl tests/data/questions.jsonl (see there).
WEIGHTS = (0.2319, -0.2053, 3.2718)
BIAS = -4.0476


def features(score: float, best: float, rank: int) -> tuple[float, float, float]:
    """A passage's fused score, how far it falls below the question's best passage, and its inverse rank."""
    return score, best - score, 1.0 / rank


def relevance(score: float, best: float, rank: int) -> float:
    """The estimated chance, 0–1, that a passage with this score and rank (best: its question's best score) answers."""
    z = BIAS + sum(w * f for w, f in zip(WEIGHTS, features(score, best, rank)))
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))
