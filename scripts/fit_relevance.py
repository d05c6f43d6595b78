"""Fit the 0–1 relevance that Dify's /retrieval reports (service/relevance.py): a logistic regression of
"this passage covers a gold span" on a passage's fused score, its gap to the question's best score and its inverse rank,
over the top 10 passages of every answerable question of the given sets, asked of the configured index.

    .venv/bin/python scripts/fit_relevance.py ../shared/eval/dev.jsonl tests/data/questions.jsonl

Prints the coefficients to paste into service/relevance.py and the fit's calibration by decile.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from service.evaluation import Returned, load_questions, relevant
from service.pipeline import search
from service.relevance import features
from service.runtime import open_asker
from service.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+", type=Path)
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    asker = open_asker(Settings())
    retriever = asker.retriever
    rows, hits = [], []
    for path in args.sets:
        for q in load_questions(path, retriever.backend.texts):
            if not q.answerable:
                continue
            passages = search(retriever, q.question, args.k)
            scores = [p.score for p in passages]
            for p in passages:
                rows.append(features(p.score, max(scores), p.rank))
                hits.append(any(relevant(Returned(p.doc_id, p.chunk.start, p.chunk.end), g) for g in q.golds))
    x, y = np.array(rows), np.array(hits)
    model = LogisticRegression(C=10.0).fit(x, y)
    print(f"{len(y)} passages, {y.mean():.3f} relevant")
    print(f"WEIGHTS = {tuple(round(float(w), 4) for w in model.coef_[0])}")
    print(f"BIAS = {round(float(model.intercept_[0]), 4)}")
    predicted = model.predict_proba(x)[:, 1]
    for low in np.arange(0, 1, 0.1):
        inside = (predicted >= low) & (predicted < low + 0.1)
        if inside.any():
            print(f"predicted {low:.1f}–{low + 0.1:.1f}: {inside.sum():5d} passages, {y[inside].mean():.3f} relevant")


if __name__ == "__main__":
    main()
