"""The extractive answer: evidence sentences quoted verbatim, each cited to its passage, or
nothing when the evidence does not answer the question.

Every word of an answer is a document's: sentences are exact slices of their sources and
only the citation markers `[n]` are added. The decision to answer is explained by
`Verdict`: the question's own cues (a "when" question needs a date in the evidence, a
"how many" question a number, "X是谁" needs X) and how much of the question the cited
passages cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.backend import SearchBackend, SentenceRecord
from service.answer_types import GRAIN_EXPRESSION, MONEY_EXPRESSION, NUMBER_EXPRESSION, TIME_EXPRESSION, counted
from service.query import Query
from service.ranking import zscore
from service.retrieval import Passage, Retrieval

EVIDENCE_PASSAGES = 3
INTRODUCES = re.compile(r"[:：]\s*$")
# Connectives that state a cause or a consequence.
CAUSAL = re.compile(r"因为|由于|因此|所以|因而|从而|导致|原因|在于|意味着|使得|以免|以防|否则")
FOCUS_MISSING_SHARE = 0.5
# A word that at most about one passage in twenty holds (IDF over the passages) names the question's subject.
SUBJECT_IDF = 3.0


@dataclass(frozen=True)
class AnswerPolicy:
    """How many sentences an answer takes and when to abstain (all from settings)."""

    max_sentences: int = 2
    max_list_sentences: int = 5
    min_confidence: float = 0.0
    passage_weight: float = 1.0


@dataclass(frozen=True)
class AnswerSentence:
    sentence: SentenceRecord
    passage: int
    score: float
    position: int = -1


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


QUESTION_END = re.compile(r"([^\s\u4e00-\u9fff]*)[?？][”’」』）)\"']*$")
URL_PART = re.compile(r"[/:=&]")


def asks(text: str) -> bool:
    """Whether a sentence is a question: it ends with a question mark (closing quotes aside) that does
    not end a link or path ("…/steal?" is a URL cut at its query string, not a question)."""
    match = QUESTION_END.search(text.strip())
    return bool(match) and not URL_PART.search(match.group(1))


def candidate_sentences(backend: SearchBackend, retrieval: Retrieval, passage_weight: float) -> list[AnswerSentence]:
    """Every sentence of the leading passages that states rather than asks (a document's own
    question, often a heading, restates the question instead of answering it), scored by its own
    evidence score plus the (z-normalized) score of its passage, best first, each text once."""
    leading = retrieval.passages[:EVIDENCE_PASSAGES]
    by_position = {c.position: c for c in retrieval.candidates}
    passage_z = zscore(np.array([p.score for p in leading])) if leading else np.zeros(0)
    found = [
        AnswerSentence(backend.sentences[s.position], p.rank, s.score + passage_weight * float(z), s.position)
        for p, z in zip(leading, passage_z)
        for s in by_position[p.position].sentences
        if not asks(backend.sentences[s.position].embed_text)
    ]
    found.sort(key=lambda s: -s.score)
    seen: set[str] = set()
    unique = []
    for s in found:
        if s.sentence.embed_text not in seen:
            seen.add(s.sentence.embed_text)
            unique.append(s)
    return unique


def select(backend: SearchBackend, candidates: list[AnswerSentence], query: Query, policy: AnswerPolicy) -> list[AnswerSentence]:
    """The best few sentences (more for a list question), in reading order of their passages.

    A "why" question's best match usually restates it; the reason sits in the sentences
    around it or in a sentence of the same passage that says why, so those come along."""
    if query.wants_reason and candidates:
        chosen = with_reasons(backend, candidates)
    else:
        chosen = candidates[: policy.max_list_sentences if query.wants_list else policy.max_sentences]
    chosen = with_continuations(backend, chosen)
    return sorted(chosen, key=lambda s: (s.passage, s.sentence.start))


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


def with_reasons(backend: SearchBackend, candidates: list[AnswerSentence]) -> list[AnswerSentence]:
    """The best sentence, the sentences around it, and the best-scored sentence of its passage that
    states a cause or consequence (由于, 因此, 意味着 ...): a reason often sits further on than one sentence."""
    chosen = with_neighbours(backend, candidates[0])
    taken = {s.position for s in chosen}
    causal = (s for s in candidates[1:] if s.passage == candidates[0].passage and CAUSAL.search(s.sentence.embed_text))
    extra = next((s for s in causal if s.position not in taken), None)
    return [*chosen, extra] if extra else chosen


def with_neighbours(backend: SearchBackend, best: AnswerSentence) -> list[AnswerSentence]:
    """The best sentence with the sentences just before and after it in its passage."""
    chosen = [best]
    for position in (best.position - 1, best.position + 1):
        if 0 <= position < len(backend.sentences) and backend.sentences[position].chunk == best.sentence.chunk:
            chosen.append(AnswerSentence(backend.sentences[position], best.passage, best.score, position))
    return chosen


def covered_share(backend: SearchBackend, query: Query, passages: list[Passage]) -> float:
    """IDF-weighted share of the question's keywords that occur in the leading passages."""
    tokens = list(dict.fromkeys(query.tokens))
    if not tokens or not passages:
        return 0.0
    positions = [p.position for p in passages[:EVIDENCE_PASSAGES]]
    present = (backend.keyword_matrix(tokens, positions, "chunk") > 0).any(axis=1)
    idf = backend.keyword_idf(tokens)
    return float((idf * present).sum() / idf.sum()) if idf.sum() > 0 else 0.0


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
    query: Query, evidence: list[AnswerSentence], confidence: float, policy: AnswerPolicy, focus_weight: dict[str, float] | None = None,
    subject: tuple[str, ...] = (),
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
    if query.answer_type == "time" and not any(TIME_EXPRESSION.search(t) for t in texts):
        problems.append("asks when; the evidence names no time")
    if query.answer_type == "money" and not any(MONEY_EXPRESSION.search(t) for t in texts):
        problems.append("asks how much money; the evidence names no sum")
    if query.answer_type == "number" and not any(NUMBER_EXPRESSION.search(t) for t in texts):
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
    if confidence < policy.min_confidence:
        problems.append(f"the passages cover too little of the question ({confidence:.2f})")
    return Verdict(confidence, tuple(problems))


def compose(backend: SearchBackend, retrieval: Retrieval, policy: AnswerPolicy) -> tuple[Answer | None, Verdict]:
    """An answer of one or a few cited sentences, or None with the verdict saying why."""
    candidates = candidate_sentences(backend, retrieval, policy.passage_weight)
    confidence = covered_share(backend, retrieval.query, retrieval.passages)
    evidence = [AnswerSentence(e.sentence, p.rank, e.score) for p in retrieval.passages[:EVIDENCE_PASSAGES] for e in p.evidence]
    focus = list(retrieval.query.focus)
    focus_weight = dict(zip(focus, backend.keyword_idf(focus).tolist()))
    verdict = judge(retrieval.query, evidence, confidence, policy, focus_weight, subject_words(backend, retrieval.query))
    if not verdict.answerable:
        return None, verdict
    chosen = select(backend, candidates, retrieval.query, policy)
    text = " ".join(f"{s.sentence.text.strip()} [{s.passage}]" for s in chosen)
    return Answer(text, tuple(chosen), round(confidence, 4)), verdict
