"""Fit the answer scorer (service/models/answer_scorer.json) from evaluation sets.

    # 1. gather every question's candidate sentences and features (real model, real indexes)
    .venv/bin/python scripts/fit_answer_scorer.py gather ../shared/eval/dev.jsonl tests/data/questions.jsonl \\
        ../shared/corpus2 tests/data/corpus3
    # 2. fit on some sets, hold the others out, write the model
    .venv/bin/python scripts/fit_answer_scorer.py fit --train dev.jsonl questions.jsonl corpus2

`gather` writes service/models/answer_training.jsonl.gz: per question its set, type, the question-level
features and each candidate's features and label (whether it overlaps a gold span). `fit` reads only
that file, so the shipped model is reproduced from it exactly (tests/test_answer_scorer.py checks).

The sentence model is a logistic regression over candidate sentences of the training sets. The
answer model is a logistic regression over questions, fitted on sentence logits made out of fold
(each training set scored by a sentence model fitted on the other training sets, as a held-out
corpus would be); its label is whether the quoted sentences hit a gold span (never, for an
unanswerable question). The threshold is the highest that abstains on at most 5% of the
training sets' answerable questions. Each held-out set is reported with the final model.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.answer_features import QUESTION_FEATURES, RAW_SENTENCE_FEATURES, SENTENCE_FEATURES, question_features, relative_to_others  # noqa: E402
from service.answer_scorer import MODEL_FILE, AnswerScorer, Linear, choose, sigmoid  # noqa: E402

TRAINING_FILE = MODEL_FILE.parent / "answer_training.jsonl.gz"
MAX_WRONG_ABSTENTION = 0.05
REGULARIZATION = 1.0
ANSWER_SENTENCES, LIST_SENTENCES = 2, 5


@dataclass
class Row:
    """One gathered question."""

    set: str
    corpus: str  # sets asked of the same documents share one: they are held out together
    id: str
    type: str
    answerable: bool
    wants_list: bool
    wants_reason: bool
    base: list[float]
    features: np.ndarray  # candidates × SENTENCE_FEATURES
    labels: np.ndarray  # candidates: overlaps a gold span
    positions: np.ndarray  # candidates: sentence positions in the index
    chunks: np.ndarray  # candidates: their passages' positions


def gather(paths: list[Path], out: Path, scratch: Path) -> None:
    """Ask every question of every set and write its candidates' features and labels."""
    from service.answering import gather as gather_evidence
    from service.asking import answer_policy
    from service.eval_corpora import open_sets
    from service.evaluation import load_questions
    from service.settings import Settings

    rows = []
    settings = Settings(cache_size=0)
    for opened in open_sets(paths, settings, scratch):
        backend = opened.retriever.backend
        for q in load_questions(opened.questions, backend.texts, opened.doc_names):
            retrieval = opened.retriever.retrieve(q.question, 10)
            found = gather_evidence(backend, retrieval, answer_policy(settings))
            labels = [
                any(c.sentence.doc_id == g.doc and min(e, c.sentence.end) > max(s, c.sentence.start) for g in q.golds for s, e in g.ranges)
                for c in found.found
            ]
            rows.append({
                "set": opened.name, "corpus": opened.name if opened.doc_names else "configured index", "id": q.id, "type": q.type, "answerable": q.answerable, "wants_list": retrieval.query.wants_list,
                "wants_reason": retrieval.query.wants_reason,
                "base": [round(v, 6) for v in found.base],
                "features": [[round(float(v), 6) for v in c.features[: len(RAW_SENTENCE_FEATURES)]] for c in found.found],
                "labels": [int(x) for x in labels], "positions": [c.position for c in found.found],
                "chunks": [c.sentence.chunk for c in found.found],
            })
        print(f"{opened.name}: {sum(r['set'] == opened.name for r in rows)} questions", file=sys.stderr)
    with gzip.open(out, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"sentence_features": RAW_SENTENCE_FEATURES, "question_features": QUESTION_FEATURES}) + "\n")
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_rows(path: Path) -> list[Row]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        if tuple(header["sentence_features"]) != RAW_SENTENCE_FEATURES or tuple(header["question_features"]) != QUESTION_FEATURES:
            raise SystemExit(f"{path} was gathered with other features: gather again")
        rows = []
        for line in handle:
            r = json.loads(line)
            features = relative_to_others(np.array(r["features"], dtype=np.float64).reshape(-1, len(RAW_SENTENCE_FEATURES)))
            rows.append(Row(r["set"], r["corpus"], r["id"], r["type"], r["answerable"], r["wants_list"], r["wants_reason"], r["base"], features, np.array(r["labels"], dtype=bool),
                            np.array(r["positions"], dtype=np.int64), np.array(r["chunks"], dtype=np.int64)))
    return rows


def fit_linear(x: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Linear:
    """A standardized L2 logistic regression (scikit-learn, lbfgs: deterministic for the same data)."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=REGULARIZATION, max_iter=5000, tol=1e-10)
    model.fit((x - mean) / scale, y)
    return Linear(names, mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_sentences(rows: list[Row]) -> Linear:
    answerable = [r for r in rows if r.answerable and len(r.labels)]
    x = np.vstack([r.features for r in answerable])
    y = np.concatenate([r.labels for r in answerable])
    return fit_linear(x, y, SENTENCE_FEATURES)


def picked(row: Row, logits: np.ndarray) -> list[int]:
    return choose(logits, LIST_SENTENCES if row.wants_list else ANSWER_SENTENCES, row.positions, row.chunks, row.wants_reason)


def hit(row: Row, logits: np.ndarray) -> bool:
    return row.answerable and any(row.labels[i] for i in picked(row, logits))


def question_row(row: Row, logits: np.ndarray) -> np.ndarray:
    return question_features(logits, row.base, row.features)


def out_of_fold_logits(rows: list[Row], train: list[str]) -> dict[int, np.ndarray]:
    """Sentence logits for each training row from a sentence model fitted on the training sets of the other corpora."""
    logits = {}
    corpora = dict.fromkeys(r.corpus for r in rows if r.set in train)
    for held in corpora:
        model = fit_sentences([r for r in rows if r.set in train and r.corpus != held])
        for i, r in enumerate(rows):
            if r.set in train and r.corpus == held:
                logits[i] = model.logits(r.features)
    return logits


def threshold_for(probabilities: np.ndarray, answerable: np.ndarray) -> float:
    """The highest threshold that abstains on at most MAX_WRONG_ABSTENTION of the answerable questions."""
    answered = np.sort(probabilities[answerable])
    allowed = int(np.floor(MAX_WRONG_ABSTENTION * len(answered)))
    return float(answered[allowed]) if allowed < len(answered) else 0.0


def fit(rows: list[Row], train: list[str]) -> AnswerScorer:
    """The sentence model on every training set, the answer model on out-of-fold logits, the threshold."""
    sentence = fit_sentences([r for r in rows if r.set in train])
    oof = out_of_fold_logits(rows, train)
    chosen = sorted(oof)
    x = np.vstack([question_row(rows[i], oof[i]) for i in chosen])
    y = np.array([hit(rows[i], oof[i]) for i in chosen])
    answer = fit_linear(x, y, QUESTION_FEATURES)
    probabilities = sigmoid(answer.logits(x))
    threshold = threshold_for(probabilities, np.array([rows[i].answerable for i in chosen]))
    return AnswerScorer(sentence, answer, round(threshold, 6), tuple(train))


def report(rows: list[Row], scorer: AnswerScorer) -> str:
    """Per set: answer hit, abstention on unanswerable questions, wrong abstention, as the scorer decides."""
    lines = [f"{'set':18s}{'held out':>10s}{'answer_hit':>12s}{'abstained':>11s}{'false_abst':>12s}{'english_hit':>13s}"]
    for name in dict.fromkeys(r.set for r in rows):
        mine = [r for r in rows if r.set == name]
        hits, abstained, false_abstain, english = [], [], [], []
        for r in mine:
            logits = scorer.sentence.logits(r.features)
            p = float(sigmoid(scorer.answer.logits(question_row(r, logits)[None, :]))[0]) if len(logits) else 0.0
            abstain = p < scorer.threshold or not len(logits)
            if r.answerable:
                hits.append(hit(r, logits) and not abstain)
                false_abstain.append(abstain)
                if r.type == "english":
                    english.append(hit(r, logits) and not abstain)
            else:
                abstained.append(abstain)
        mean = lambda v: f"{np.mean(v):.3f}" if v else "-"  # noqa: E731
        lines.append(f"{name:18s}{'yes' if name not in scorer.trained_on else 'no':>10s}{mean(hits):>12s}{mean(abstained):>11s}"
                     f"{mean(false_abstain):>12s}{mean(english):>13s}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["gather", "fit"], help="gather: ask every question and write the training table; fit: fit the scorer from it")
    parser.add_argument("sets", nargs="*", type=Path, help="gather: question files and corpus directories")
    parser.add_argument("--train", nargs="+", help="fit: set names to fit on (the others are held out)")
    parser.add_argument("--table", type=Path, default=TRAINING_FILE, help="the training table (gather writes it, fit reads it)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="fit: where to write the scorer")
    parser.add_argument("--scratch", type=Path, default=Path("indexes/eval"), help="gather: where corpus directories are indexed")
    parser.add_argument("--cross", action="store_true", help="fit: also report each corpus held out of a fit on all the others")
    args = parser.parse_args()
    if args.command == "gather":
        if not args.sets:
            parser.error("gather needs question files or corpus directories")
        gather(args.sets, args.table, args.scratch)
        return
    if not args.train:
        parser.error("fit needs --train")
    rows = read_rows(args.table)
    scorer = fit(rows, args.train)
    scorer.save(args.out)
    print(report(rows, scorer))
    if args.cross:
        corpora = list(dict.fromkeys(r.corpus for r in rows))
        for held in corpora:
            print(f"\n-- fitted without the corpus {held}")
            print(report(rows, fit(rows, list(dict.fromkeys(r.set for r in rows if r.corpus != held)))))


if __name__ == "__main__":
    main()
