"""Combining ranked lists from several retrievers."""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]], k: int = 60, weights: Sequence[float] | None = None,
) -> list[tuple[Hashable, float]]:
    """Reciprocal-rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009).

    Each item scores sum(weight / (k + rank)) over the rankings it appears in,
    ranks counted from 1. Items are returned best first; ties keep the order in
    which the items were first seen.
    """
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])
