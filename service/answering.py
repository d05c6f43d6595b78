"""The extractive answer: evidence sentences quoted verbatim, each cited to its passage, or
nothing when the evidence does not answer the question.

Every word of an answer is a document's: sentences are exact slices of their sources and
only the citation markers `[n]` are added. The answer scorer chooses the sentences and gives
the probability that they answer; below its calibrated threshold govqa abstains, and `Verdict`
says why in sentences a reader understands. The question's own cues (a "when" question needs
a date in the evidence, a "how many" question a number, "X是谁" needs X) are read as rules
whose objection is one of the scorer's features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from index.backend import SearchBackend, SentenceRecord
from index.lang.patterns import ANSWER_SHAPES, GRAIN_EXPRESSION, INTRODUCES, counted
from service.answer_features import asks  # noqa: F401 - a document's own question is never a candidate
from service.answer_features import (
    REFERS_BACK, Candidate, Words, candidates, constraints, question_base, question_features, question_words,
)
from service.answer_scorer import AnswerScorer, choose
from service.query import Query
from service.retrieval import Retrieval

EVIDENCE_PASSAGES = 3
FOCUS_MISSING_SHARE = 0.5
# A word that at most about one passage in twenty holds (IDF over the passages) names the question's subject.
SUBJECT_IDF = 3.0


@dataclass(frozen=True)
class AnswerPolicy:
    """How many sentences an answer takes and when to abstain (all from settings)."""

    max_sentences: int = 2
    max_list_sentences: int = 5
    min_confidence: float | None = None  # None: the scorer's calibrated threshold


@dataclass(frozen=True)
class AnswerSentence:
    sentence: SentenceRecord
    passage: int
    score: float
    position: int = -1
    context: bool = False  # quoted for what the next sentence refers back to


@dataclass(frozen=True)
class Answer:
    text: str
    sentences: tuple[AnswerSentence, ...]
    confidence: float


@dataclass(frozen=True)
class Verdict:
    """Whether the evidence answers the question, and why not when it does not."""

    confidence: float
    problems: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return not self.problems


def with_continuations(backend: SearchBackend, chosen: list[AnswerSentence]) -> list[AnswerSentence]:
    """A sentence that ends in a colon announces what follows ("白皮书将按以下版本发布："): the next
    sentence of its passage comes along, since the colon alone answers nothing."""
    taken = {s.position for s in chosen}
    extra = []
    for s in chosen:
        after = s.position + 1
        if INTRODUCES.search(s.sentence.text) and after < len(backend.sentences) and after not in taken:
            if backend.sentences[after].chunk == s.sentence.chunk:
                extra.append(AnswerSentence(backend.sentences[after], s.passage, s.score, after))
                taken.add(after)
    return chosen + extra


def carries(text: str, focus_weight: dict[str, float]) -> bool:
    """Whether a lower-cased text holds the words that carry most of the focus's weight (IDF: "会员企业"
    lacks its rare word 会员 though 企业 is there)."""
    present = sum(w for f, w in focus_weight.items() if f in text)
    return present >= (1 - FOCUS_MISSING_SHARE) * sum(focus_weight.values())


def subject_words(backend: SearchBackend, query: Query) -> tuple[str, ...]:
    """The question's own rare words beside its focus (OpenAI in "OpenAI现任首席执行官是谁"): the
    keywords, not translated or expanded ones, that at most about one passage in twenty holds."""
    own = [t for t in query.own_tokens if not any(t in f or f in t for f in query.focus)]
    if not query.focus or not own:
        return ()
    return tuple(t for t, idf in zip(own, backend.keyword_idf(own).tolist()) if idf >= SUBJECT_IDF)


def judge(
    query: Query, evidence: list[AnswerSentence], confidence: float, policy: AnswerPolicy,
    focus_weight: dict[str, float] | None = None, subject: tuple[str, ...] = (),
) -> Verdict:
    """Check the evidence against what the question asks for. The focus counts as missing when the words
    the evidence lacks carry most of its weight; when the question also names a subject, one sentence must
    say the focus together with it ("智谱AI首席执行官张鹏" does not answer who heads OpenAI)."""
    texts = [s.sentence.embed_text for s in evidence]
    problems = []
    if not query.normalized.strip():
        problems.append("the question has no visible text")
    elif not texts:
        problems.append("no evidence")
    if query.answer_type == "time" and not any(ANSWER_SHAPES["time"].search(t) for t in texts):
        problems.append("asks when; the evidence names no time")
    if query.answer_type == "money" and not any(ANSWER_SHAPES["money"].search(t) for t in texts):
        problems.append("asks how much money; the evidence names no sum")
    if query.answer_type == "number" and not any(ANSWER_SHAPES["number"].search(t) for t in texts):
        problems.append("asks how many; the evidence gives no number")
    elif query.unit and not any(counted(query.unit).search(t) for t in texts):
        problems.append(f"asks how many {query.unit}; the evidence counts none")
    if query.grain and query.answer_type == "time" and not any(GRAIN_EXPRESSION[query.grain].search(t) for t in texts):
        problems.append(f"asks which {query.grain}; the evidence names none")
    weight = focus_weight or {f: 1.0 for f in query.focus}
    lowered = [t.lower() for t in texts]  # keyword tokens are lower-case
    if query.focus and not carries(" ".join(lowered), weight):
        problems.append(f"the evidence does not mention {'/'.join(query.focus)}")
    elif query.focus and subject and not any(carries(t, weight) and any(s in t for s in subject) for t in lowered):
        problems.append(f"no evidence sentence says {'/'.join(query.focus)} of {'/'.join(subject)}")
    return Verdict(confidence, tuple(problems))


def rule_verdict(backend: SearchBackend, retrieval: Retrieval, policy: AnswerPolicy) -> Verdict:
    """The question's own cues checked against the leading passages' evidence sentences. Only their
    objections count (as the scorer's features): the rules give no confidence of their own."""
    confidence = 0.0
    evidence = [
        AnswerSentence(e.sentence, p.rank, e.score) for p in retrieval.passages[:EVIDENCE_PASSAGES] for e in p.evidence
    ]
    focus = list(retrieval.query.focus)
    focus_weight = dict(zip(focus, backend.keyword_idf(focus).tolist()))
    return judge(retrieval.query, evidence, confidence, policy, focus_weight, subject_words(backend, retrieval.query))


@dataclass(frozen=True)
class Gathered:
    """What the scorer reads of one question: its words, the candidate sentences, the question-level
    features that do not depend on the scorer, and the rules' verdict."""

    words: Words
    found: list[Candidate]
    base: list[float]
    rules: Verdict


def gather(backend: SearchBackend, retrieval: Retrieval, policy: AnswerPolicy) -> Gathered:
    words = question_words(backend, retrieval.query)
    found = candidates(backend, retrieval, retrieval.vector, words)
    rules = rule_verdict(backend, retrieval, policy)
    return Gathered(words, found, question_base(backend, retrieval, words, found, rule_flags(rules)), rules)


def rule_flags(verdict: Verdict) -> list[float]:
    """The rules' objections as three features: a kind of answer the evidence lacks (a time, a count, a
    sum), the question's focus unsaid, the focus not said of the question's subject."""
    problems = verdict.problems
    return [
        float(any(p.startswith("asks ") for p in problems)),
        float(any(p.startswith(SEGMENT_REASONS[0]) for p in problems)),
        float(any(p.startswith(SEGMENT_REASONS[1]) for p in problems)),
    ]


# Rule objections that name a question's own words as the segmenter cut them are features, not reasons.
SEGMENT_REASONS = ("the evidence does not mention", "no evidence sentence says")


def reasons(query: Query, gathered: Gathered, probability: float, threshold: float) -> tuple[str, ...]:
    """Why govqa abstains, in sentences: what the question asks that the passages do not say, and the probability."""
    if not query.normalized.strip():
        return ("the question has no visible text",)
    if not gathered.found:
        return ("no document has a passage on this question",)
    said = []
    unknown = gathered.base[1]
    if unknown >= 0.5:
        said.append("most of the question's words occur in no document")
    evidence = " ".join(c.sentence.embed_text for c in gathered.found).lower()
    missing = [c for c in constraints(query) if c not in evidence]
    if missing:
        said.append(f"the passages never mention {', '.join(missing)}")
    said += [r for r in gathered.rules.problems if not r.startswith(SEGMENT_REASONS)]
    said.append(
        f"the best evidence answers with a probability of {probability:.2f}, below the threshold of {threshold:.2f}"
    )
    return tuple(said)


def quoted(backend: SearchBackend, found: list[Candidate], picked: list[int]) -> list[AnswerSentence]:
    """The picked sentences, with the sentence before one that refers back ("该公约…") so that the reader
    sees what it refers to, and the sentence after one that ends in a colon; in reading order."""
    chosen = [AnswerSentence(found[i].sentence, found[i].passage, 0.0, found[i].position) for i in picked]
    taken = {s.position for s in chosen}
    extra = []
    for s in chosen:
        before = s.position - 1
        if REFERS_BACK.search(s.sentence.embed_text) and before >= 0 and before not in taken:
            if backend.sentences[before].chunk == s.sentence.chunk:
                extra.append(AnswerSentence(backend.sentences[before], s.passage, s.score, before, context=True))
                taken.add(before)
    chosen = with_continuations(backend, chosen + extra)
    return sorted(chosen, key=lambda s: (s.passage, s.sentence.start))


def compose(
    backend: SearchBackend, retrieval: Retrieval, policy: AnswerPolicy, scorer: AnswerScorer
) -> tuple[Answer | None, Verdict]:
    """An answer of one or a few cited sentences, or None with the verdict saying why."""
    gathered = gather(backend, retrieval, policy)
    logits = scorer.sentence_logits(gathered.found)
    rows = np.array([c.features for c in gathered.found])
    probability = scorer.probability(question_features(logits, gathered.base, rows)) if gathered.found else 0.0
    threshold = scorer.threshold if policy.min_confidence is None else policy.min_confidence
    if not retrieval.query.normalized.strip() or not gathered.found or probability < threshold:
        return None, Verdict(round(probability, 4), reasons(retrieval.query, gathered, probability, threshold))
    limit = policy.max_list_sentences if retrieval.query.wants_list else policy.max_sentences
    positions = np.array([c.position for c in gathered.found])
    chunks = np.array([c.sentence.chunk for c in gathered.found])
    chosen = quoted(backend, gathered.found, choose(logits, limit, positions, chunks, retrieval.query.wants_reason))
    text = " ".join(f"{s.sentence.text.strip()} [{s.passage}]" for s in chosen)
    return Answer(text, tuple(chosen), round(probability, 4)), Verdict(round(probability, 4), ())
