"""Fit the answer scorer (service/models/answer_scorer.json) from evaluation sets.

    # 1. gather every question's candidate sentences and features (real model, real indexes)
    .venv/bin/python scripts/fit_answer_scorer.py gather ../shared/eval/dev.jsonl tests/data/questions.jsonl \\
        tests/data/offtopic.jsonl ../shared/corpus2 tests/data/corpus3
    # 2. fit on some sets, hold the others out, write the model
    .venv/bin/python scripts/fit_answer_scorer.py fit --train dev.jsonl questions.jsonl offtopic.jsonl corpus2

`gather` writes service/models/answer_training.jsonl.gz: per question its set, type, the question-level
features and each candidate's features and label (whether it overlaps a gold span). `fit` reads only
that file, so the shipped model is reproduced from it exactly (tests/test_answer_scorer.py checks).

The sentence model is a logistic regression over candidate sentences of the training sets. The
answer model is a logistic regression over questions, fitted on sentence logits made out of fold
(each training set scored by a sentence model fitted on the other training sets, as a held-out
corpus would be); its label is whether the quoted sentences hit a gold span (never, for an
unanswerable question). The threshold is the highest that abstains on at most 5% of the
training sets' answerable questions, each scored by an answer model fitted without its corpus. The scope
model is a logistic regression over the training sets' questions: those of the --outside sets (chit-chat,
questions on other subjects) against the rest; an answer's probability is never above its scope's. Each
held-out set is reported with the final model.
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

from service.answer_features import (  # noqa: E402
    QUESTION_FEATURES, RAW_SENTENCE_FEATURES, SCOPE_FEATURES, SENTENCE_FEATURES, question_features, relative_to_others,
)
from service.answer_scorer import MODEL_FILE, SCOPE_COLUMNS, AnswerScorer, Linear, choose, sigmoid  # noqa: E402
from service.pipeline import retrieve  # noqa: E402

TRAINING_FILE = MODEL_FILE.parent / "answer_training.jsonl.gz"
MAX_WRONG_ABSTENTION = 0.05
REGULARIZATION = 1.0
ANSWER_SENTENCES, LIST_SENTENCES = 2, 5
# Sets whose questions lie outside every document (chit-chat, other subjects): the scope model's negatives.
OUTSIDE = ["offtopic.jsonl"]


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


def gather(paths: list[Path], out: Path, scratch: Path, outside: list[str]) -> None:
    """Ask every question of every set and write its candidates' features and labels. The `outside` question
    files (chit-chat, other subjects) are asked of every corpus directory too, as `name@corpus`: each corpus
    then has questions the scope model must read as outside its documents."""
    from service.asking import answer_policy
    from service.eval_corpora import open_sets
    from service.evaluation import load_questions
    from service.settings import Settings

    rows = []
    settings = Settings(cache_size=0)
    outside_files = [p for p in paths if p.name in outside and not p.is_dir()]
    for opened in open_sets(paths, settings, scratch):
        corpus = opened.name if opened.doc_names else "configured index"
        asked = [(opened.name, opened.questions)]
        if opened.doc_names:
            asked += [(f"{p.name}@{opened.name}", p) for p in outside_files]
        for name, questions in asked:
            for q in load_questions(questions, opened.retriever.backend.texts, opened.doc_names):
                rows.append(gathered_row(opened.retriever, q, name, corpus, answer_policy(settings)))
            print(f"{name}: {sum(r['set'] == name for r in rows)} questions", file=sys.stderr)
    with gzip.open(out, "wt", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"sentence_features": RAW_SENTENCE_FEATURES, "question_features": QUESTION_FEATURES}) + "\n"
        )
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def gathered_row(retriever, q, name: str, corpus: str, policy) -> dict:  # noqa: ANN001 - a Retriever, a Question, an AnswerPolicy
    """One question's candidates with their raw features and labels (whether each overlaps a gold span)."""
    from service.answering import gather as gather_evidence

    backend = retriever.backend
    retrieval = retrieve(retriever, q.question, 10)
    found = gather_evidence(backend, retrieval, policy)
    labels = [
        any(
            c.sentence.doc_id == g.doc and min(e, c.sentence.end) > max(s, c.sentence.start)
            for g in q.golds for s, e in g.ranges
        )
        for c in found.found
    ]
    return {
        "set": name, "corpus": corpus, "id": q.id, "type": q.type, "answerable": q.answerable,
        "wants_list": retrieval.query.wants_list, "wants_reason": retrieval.query.wants_reason,
        "base": [round(v, 6) for v in found.base],
        "features": [[round(float(v), 6) for v in c.features[: len(RAW_SENTENCE_FEATURES)]] for c in found.found],
        "labels": [int(x) for x in labels], "positions": [c.position for c in found.found],
        "chunks": [c.sentence.chunk for c in found.found],
    }


def is_outside(name: str, outside: list[str]) -> bool:
    """Whether a set's questions lie outside its documents: an outside file, or one asked of a corpus
    (`name@corpus`)."""
    return name.split("@")[0] in outside


def with_outside_sets(rows: list[Row], train: list[str]) -> list[str]:
    """The training sets, with the outside questions asked of each training corpus (`name@corpus`)."""
    return list(dict.fromkeys([*train, *(r.set for r in rows if "@" in r.set and r.set.split("@")[1] in train)]))


def read_rows(path: Path) -> list[Row]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        header = json.loads(handle.readline())
        if (
            tuple(header["sentence_features"]) != RAW_SENTENCE_FEATURES
            or tuple(header["question_features"]) != QUESTION_FEATURES
        ):
            raise SystemExit(f"{path} was gathered with other features: gather again")
        rows = []
        for line in handle:
            r = json.loads(line)
            features = relative_to_others(
                np.array(r["features"], dtype=np.float64).reshape(-1, len(RAW_SENTENCE_FEATURES))
            )
            rows.append(Row(r["set"], r["corpus"], r["id"], r["type"], r["answerable"], r["wants_list"],
                            r["wants_reason"], r["base"], features, np.array(r["labels"], dtype=bool),
                            np.array(r["positions"], dtype=np.int64), np.array(r["chunks"], dtype=np.int64)))
    return rows


def fit_linear(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], balanced: bool = False) -> Linear:
    """A standardized L2 logistic regression (scikit-learn, lbfgs: deterministic for the same data);
    `balanced` weighs both classes alike however few one has."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(
        C=REGULARIZATION, max_iter=5000, tol=1e-10, class_weight="balanced" if balanced else None
    )
    model.fit((x - mean) / scale, y)
    return Linear(names, mean, scale, model.coef_[0].astype(np.float64), float(model.intercept_[0]))


def fit_sentences(rows: list[Row]) -> Linear:
    answerable = [r for r in rows if r.answerable and len(r.labels)]
    x = np.vstack([r.features for r in answerable])
    y = np.concatenate([r.labels for r in answerable])
    return fit_linear(x, y, SENTENCE_FEATURES)


def picked(row: Row, logits: np.ndarray) -> list[int]:
    return choose(
        logits, LIST_SENTENCES if row.wants_list else ANSWER_SENTENCES, row.positions, row.chunks, row.wants_reason
    )


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


def fit_scope(rows: list[Row], train: list[str], outside: list[str]) -> Linear:
    """The scope model: the training sets' questions, those of the `outside` sets (chit-chat, other subjects)
    against all others (answerable or not, they are about what the documents cover)."""
    mine = [r for r in rows if r.set in train]
    x = np.vstack([question_row(r, np.zeros(0))[SCOPE_COLUMNS] for r in mine])
    return fit_linear(x, np.array([not is_outside(r.set, outside) for r in mine]), SCOPE_FEATURES, balanced=True)


def fit(rows: list[Row], train: list[str], outside: list[str] = OUTSIDE) -> AnswerScorer:
    """The sentence model on every training set, the answer model on out-of-fold logits, the scope model,
    the threshold."""
    sentence = fit_sentences([r for r in rows if r.set in train])
    oof = out_of_fold_logits(rows, train)
    chosen = [i for i in sorted(oof) if not is_outside(rows[i].set, outside)]  # the scope model reads those
    x = np.vstack([question_row(rows[i], oof[i]) for i in chosen])
    y = np.array([hit(rows[i], oof[i]) for i in chosen])
    answer = fit_linear(x, y, QUESTION_FEATURES)
    scope = fit_scope(rows, train, outside)
    corpora = np.array([rows[i].corpus for i in chosen])
    probabilities = np.minimum(out_of_corpus_probabilities(x, y, corpora), sigmoid(scope.logits(x[:, SCOPE_COLUMNS])))
    threshold = threshold_for(probabilities, np.array([rows[i].answerable for i in chosen]))
    return AnswerScorer(sentence, answer, scope, round(threshold, 6), tuple(train), tuple(outside))


def out_of_corpus_probabilities(x: np.ndarray, y: np.ndarray, corpora: np.ndarray) -> np.ndarray:
    """Each question's answer probability from an answer model fitted without its corpus: the threshold is
    chosen on probabilities given to documents the model has not seen, as a user's own documents will be
    (in-sample probabilities are surer of themselves and put the threshold too high)."""
    probabilities = np.zeros(len(y))
    for corpus in dict.fromkeys(corpora.tolist()):
        mine = corpora == corpus
        if mine.all():  # a single training corpus: nothing to hold out
            return sigmoid(fit_linear(x, y, QUESTION_FEATURES).logits(x))
        probabilities[mine] = sigmoid(fit_linear(x[~mine], y[~mine], QUESTION_FEATURES).logits(x[mine]))
    return probabilities


def report(rows: list[Row], scorer: AnswerScorer) -> str:
    """Per set: answer hit, abstention on unanswerable questions, wrong abstention, as the scorer decides."""
    lines = [
        f"{'set':18s}{'held out':>10s}{'answer_hit':>12s}{'abstained':>11s}{'false_abst':>12s}{'english_hit':>13s}"
    ]
    for name in dict.fromkeys(r.set for r in rows):
        mine = [r for r in rows if r.set == name]
        hits, abstained, false_abstain, english = [], [], [], []
        for r in mine:
            logits = scorer.sentence.logits(r.features)
            p = scorer.probability(question_row(r, logits)) if len(logits) else 0.0
            abstain = p < scorer.threshold or not len(logits)
            if r.answerable:
                hits.append(hit(r, logits) and not abstain)
                false_abstain.append(abstain)
                if r.type == "english":
                    english.append(hit(r, logits) and not abstain)
            else:
                abstained.append(abstain)
        mean = lambda v: f"{np.mean(v):.3f}" if v else "-"  # noqa: E731
        lines.append(f"{name:18s}{'yes' if name not in scorer.trained_on else 'no':>10s}{mean(hits):>12s}"
                     f"{mean(abstained):>11s}{mean(false_abstain):>12s}{mean(english):>13s}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["gather", "fit"],
                        help="gather: ask every question and write the training table; fit: fit the scorer from it")
    parser.add_argument("sets", nargs="*", type=Path, help="gather: question files and corpus directories")
    parser.add_argument("--train", nargs="+", help="fit: set names to fit on (the others are held out)")
    parser.add_argument("--table", type=Path, default=TRAINING_FILE,
                        help="the training table (gather writes it, fit reads it)")
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help="fit: where to write the scorer")
    parser.add_argument("--scratch", type=Path, default=Path("indexes/eval"),
                        help="gather: where corpus directories are indexed")
    parser.add_argument("--outside", nargs="*", default=OUTSIDE,
                        help="fit: sets whose questions lie outside every document")
    parser.add_argument("--cross", action="store_true",
                        help="fit: also report each corpus held out of a fit on all the others")
    args = parser.parse_args()
    if args.command == "gather":
        if not args.sets:
            parser.error("gather needs question files or corpus directories")
        gather(args.sets, args.table, args.scratch, args.outside)
        return
    if not args.train:
        parser.error("fit needs --train")
    rows = read_rows(args.table)
    scorer = fit(rows, with_outside_sets(rows, args.train), args.outside)
    scorer.save(args.out)
    print(report(rows, scorer))
    if args.cross:
        corpora = list(dict.fromkeys(r.corpus for r in rows))
        for held in corpora:
            print(f"\n-- fitted without the corpus {held}")
            print(report(rows, fit(rows, list(dict.fromkeys(r.set for r in rows if r.corpus != held)), args.outside)))


if __name__ == "__main__":
    main()
