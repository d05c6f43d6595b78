"""The answer scorer: three logistic regressions fitted by scripts/fit_answer_scorer.py and shipped as
JSON (service/models/answer_scorer.json; no pickle). The first reads the question against each
candidate sentence and gives the log-odds that the sentence answers; the second reads the question
against its evidence as a whole and gives the probability that the quoted sentences answer; the third
gives the probability that the question is about what the documents cover at all (not chit-chat or a
question on another subject). The answer's confidence is the smaller of the two probabilities and
decides abstention against one calibrated threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.answer_features import QUESTION_FEATURES, SCOPE_FEATURES, SENTENCE_FEATURES, Candidate

MODEL_FILE = Path(__file__).resolve().parent / "models" / "answer_scorer.json"
SCOPE_COLUMNS = [QUESTION_FEATURES.index(name) for name in SCOPE_FEATURES]
# A further sentence joins the best one when its probability is at least this share of the best's.
COMPANION_SHARE = 0.1


class ScorerFileError(ValueError):
    """A scorer file that does not fit this code (other features, missing fields)."""


@dataclass(frozen=True)
class Linear:
    """A standardized linear model: features are centred and scaled, then weighed."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def logits(self, rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return np.zeros(0)
        return ((rows - self.mean) / self.scale) @ self.coef + self.intercept

    def to_dict(self) -> dict:
        return {
            "features": list(self.features), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
            "coef": self.coef.tolist(), "intercept": self.intercept,
        }

    @classmethod
    def from_dict(cls, data: dict, expected: tuple[str, ...]) -> Linear:
        if tuple(data.get("features", ())) != expected:
            raise ScorerFileError(
                f"the scorer file's features {data.get('features')} are not this code's {list(expected)}",
            )
        return cls(
            expected, *(np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")),
            float(data["intercept"]),
        )


@dataclass(frozen=True)
class AnswerScorer:
    """Sentence, answer and scope models with the abstention threshold they were calibrated for."""

    sentence: Linear
    answer: Linear
    scope: Linear
    threshold: float
    trained_on: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()  # the training sets the scope model read as outside the documents

    def sentence_logits(self, found: list[Candidate]) -> np.ndarray:
        return self.sentence.logits(np.array([c.features for c in found])) if found else np.zeros(0)

    def probability(self, question_features: np.ndarray) -> float:
        """The chance that the quoted sentences answer: never more than the chance that the question is in scope."""
        return min(self.answers(question_features), self.in_scope(question_features))

    def answers(self, question_features: np.ndarray) -> float:
        return float(sigmoid(self.answer.logits(question_features[None, :]))[0])

    def in_scope(self, question_features: np.ndarray) -> float:
        return float(sigmoid(self.scope.logits(question_features[None, SCOPE_COLUMNS]))[0])

    def to_dict(self) -> dict:
        return {
            "sentence": self.sentence.to_dict(), "answer": self.answer.to_dict(), "scope": self.scope.to_dict(),
            "threshold": self.threshold, "trained_on": list(self.trained_on), "outside": list(self.outside),
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerScorer:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                Linear.from_dict(data["sentence"], SENTENCE_FEATURES),
                Linear.from_dict(data["answer"], QUESTION_FEATURES),
                Linear.from_dict(data["scope"], SCOPE_FEATURES), float(data["threshold"]),
                tuple(data.get("trained_on", ())), tuple(data.get("outside", ())),
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ScorerFileError(f"{path}: not a usable answer scorer ({type(exc).__name__}: {exc})") from exc


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def choose(logits: np.ndarray, limit: int, positions: np.ndarray | None = None, chunks: np.ndarray | None = None,
           wants_reason: bool = False) -> list[int]:
    """Indexes of the candidate sentences an answer quotes: the best, and up to `limit` in all of those
    whose probability is at least COMPANION_SHARE of the best's, best first. A why-question's best
    sentence brings the candidate that follows it in its passage: a reason is often given next."""
    if not len(logits):
        return []
    order = np.argsort(-logits, kind="stable")
    probabilities = sigmoid(logits)
    best = probabilities[order[0]]
    picked = [int(i) for i in order[:limit] if probabilities[i] >= COMPANION_SHARE * best]
    if wants_reason and positions is not None and chunks is not None:
        top = picked[0]
        after = np.flatnonzero((positions == positions[top] + 1) & (chunks == chunks[top]))
        if len(after) and int(after[0]) not in picked:
            picked.append(int(after[0]))
    return picked
