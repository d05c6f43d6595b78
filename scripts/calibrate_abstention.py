"""Sweep the abstention threshold over a question set and print how well abstention works at each.

    .venv/bin/python scripts/calibrate_abstention.py [QUESTIONS.jsonl] [--mode hybrid]

Precision: of the questions govqa abstains on, the share the documents really do not answer.
Recall: of the unanswerable questions, the share it abstains on. Calibrate on the project's
own set (tests/data/questions.jsonl), never on a shared dev set.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from service.answering import compose
from service.asking import answer_policy
from service.evaluation import load_questions
from service.runtime import open_retriever
from service.settings import PROJECT_ROOT, Settings

THRESHOLDS = (0.0, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, nargs="?", default=PROJECT_ROOT / "tests" / "data" / "questions.jsonl")
    parser.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "keyword"])
    args = parser.parse_args()
    settings = Settings()
    retriever = open_retriever(settings)
    questions = load_questions(args.questions, retriever.backend.texts)
    retrievals = [(q, retriever.retrieve(q.question, settings.top_k, args.mode)) for q in questions]
    policy = answer_policy(settings)
    print(f"{args.questions}: {sum(not q.answerable for q in questions)} unanswerable, {sum(q.answerable for q in questions)} answerable")
    print(f"{'min_confidence':>15s} {'abstained':>10s} {'precision':>10s} {'recall':>8s} {'false_abstain':>14s}")
    for threshold in THRESHOLDS:
        abstained = [(q, compose(retriever.backend, r, replace(policy, min_confidence=threshold))[0] is None) for q, r in retrievals]
        true = sum(a and not q.answerable for q, a in abstained)
        total = sum(a for _, a in abstained)
        unanswerable = sum(not q.answerable for q in questions)
        answerable = len(questions) - unanswerable
        false = sum(a and q.answerable for q, a in abstained)
        precision = true / total if total else float("nan")
        marker = "  <- current" if threshold == settings.min_confidence else ""
        print(f"{threshold:>15.2f} {total:>10d} {precision:>10.2f} {true / unanswerable:>8.2f} {false / answerable:>14.3f}{marker}")


if __name__ == "__main__":
    main()
