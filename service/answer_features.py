"""Features that say how well a candidate sentence answers a question, and how well the evidence as a
whole answers it. Every feature is corpus-independent: scores relative to the other candidates,
shares of the question's own words (weighted by IDF), the kind of answer asked for against the kinds
the sentence holds, and the sentence's own role. The answer scorer (service/answer_scorer.py) weighs them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import islice

import numpy as np

from index.backend import SearchBackend, SentenceRecord
from index.cleaning import is_caption
from index.lang.patterns import (
    CLAUSE_END,
    CONSTRAINT,
    CONSTRAINT_SHAPES,
    INTERROGATIVE,
    NUMBER_EXPRESSION,
    QUESTION_END,
    REFERS_BACK,
    SCAFFOLDING,
    TIME_EXPRESSION,
)
from index.lang.scripts import HAN_RUN, LATIN_TOKEN
from index.sentence_kinds import KIND_PATTERNS
from service.query import Query
from service.retrieval import Retrieval

CANDIDATE_PASSAGES = 5
# REFERS_BACK: a sentence that opens by referring back ("该公约") needs what it refers to. CONSTRAINT and
# CONSTRAINT_SHAPES: the years, ordinals, numbers and numbered names a question sets, and the values that
# contradict them (index/lang/patterns.py).
RARE_IDF = 3.0
# An answer of the asked kind stands this close (in characters) to one of the question's words it answers about.
NEAR = 12

RAW_SENTENCE_FEATURES = (
    "dense", "dense_gap", "bm25_share", "rank_score", "cover", "context_cover", "passage_cover", "proximity",
    "passage_z", "passage_first", "passage_inverse_rank", "length", "short", "refers_back",
    "first_in_passage", "english", "english_dense", "passage_dense", "neighbour_dense", "bigram_cover",
    "bigram_context_cover", "slot_match", "slot_filler_fits", "slot_words", "constraint_context", "rare_context",
    "common_cover", "focus_here", "kind_near", "constraint_conflict", "missing_weight",
    *(
        f"asks_{k}_holds"
        for k in ("time", "grain", "number", "money", "person", "place", "org", "definition", "reason", "list")
    ),
    "asked_missing",
)
# Each of these is also read against the question's other candidates: its standard score among them,
# its distance below the best, and whether it is the best.
RELATIVE_TO_OTHERS = (
    "dense", "bm25_share", "rank_score", "cover", "context_cover", "proximity", "bigram_cover", "neighbour_dense",
    "common_cover",
)
SENTENCE_FEATURES = (
    *RAW_SENTENCE_FEATURES,
    *(f"{name}_{view}" for name in RELATIVE_TO_OTHERS for view in ("z", "below_best", "is_best")),
)
LOGIT_FEATURES = ("best_logit", "second_logit", "logit_gap")
QUESTION_FEATURES = (
    *LOGIT_FEATURES, "own_tokens", "unknown_share", "rare_missing", "constraint_missing",
    "passage_cover", "best_cover", "best_context_cover", "best_asked_missing", "best_constraint_context",
    "best_rare_context", "best_kind_near", "best_constraint_conflict", "best_common_cover", "best_focus_here",
    "best_missing_weight", "best_slot_words",
    "top_dense", "asked_unmet", "english",
    "rule_kind", "rule_focus", "rule_subject",
)

# What tells a question on the documents' subject from chit-chat and questions on other subjects: its length,
# how many of its words no document holds, how much of it the leading passages say, the best sentence's cosine.
SCOPE_FEATURES = ("own_tokens", "unknown_share", "passage_cover", "top_dense")


@dataclass(frozen=True)
class Candidate:
    """A sentence that may answer, with where it came from and its features."""

    position: int
    sentence: SentenceRecord
    passage: int  # rank of its passage, from 1
    features: np.ndarray


@dataclass(frozen=True)
class Words:
    """The question's words as the evidence is checked for them: lower-cased, each with its IDF; and its
    Chinese character pairs, which match whatever the segmenter made of either text."""

    tokens: tuple[str, ...]
    idf: np.ndarray
    known: np.ndarray
    bigrams: frozenset[str] = frozenset()

    def rare(self) -> Words:
        """The words that few passages hold: they name what the question is about."""
        keep = self.idf >= RARE_IDF
        return self.subset(keep)

    def common(self) -> Words:
        """The words many passages hold: beside the subject, they say what is asked of it (主席, 生效, 举办)."""
        return self.subset(self.idf < RARE_IDF)

    @cached_property
    def weights(self) -> tuple[float, ...]:
        return tuple(float(w) for w in self.idf)

    def heaviest_missing(self, text: str) -> float:
        """The IDF of the rarest question word a lower-cased text lacks, over the rarest word's IDF (0 when it
        lacks none): a near miss says everything the question asks about except the one thing that matters."""
        top = max(self.weights, default=0.0)
        if top <= 0:
            return 0.0
        return max((w for t, w in zip(self.tokens, self.weights) if t not in text), default=0.0) / top

    def subset(self, keep: np.ndarray) -> Words:
        return Words(tuple(t for t, k in zip(self.tokens, keep) if k), self.idf[keep], self.known[keep])

    def bigram_share_in(self, text: str) -> float:
        return sum(b in text for b in self.bigrams) / len(self.bigrams) if self.bigrams else 0.0

    def share_in(self, text: str) -> float:
        """IDF-weighted share of the words that occur in a lower-cased text."""
        total = sum(self.weights)
        if total <= 0:
            return 0.0
        return sum(w for t, w in zip(self.tokens, self.weights) if t in text) / total


URL_PART = re.compile(r"[/:=&]")


def asks(text: str) -> bool:
    """Whether a sentence is a question: it ends with a question mark (closing quotes aside) that does
    not end a link or path ("…/steal?" is a URL cut at its query string, not a question). A document's
    own question, often a heading, restates the question instead of answering it."""
    match = QUESTION_END.search(text.strip())
    return bool(match) and not URL_PART.search(match.group(1))


def stating(text: str) -> bool:
    """Whether a sentence may answer: not a question of the document's own, a caption or an image placeholder."""
    return not asks(text) and not is_caption(text)


def question_words(backend: SearchBackend, query: Query) -> Words:
    """The question's own keywords, and for an English question their translations too."""
    tokens = list(dict.fromkeys(t.lower() for t in [*query.own_tokens, *query.translated] if t.strip()))
    idf = backend.keyword_idf(tokens) if tokens else np.zeros(0)
    known = np.array([backend.knows(t) for t in tokens], dtype=bool)
    source = " ".join(query.translated) if query.language == "en" else SCAFFOLDING.sub(" ", query.normalized)
    return Words(tuple(tokens), idf, known, frozenset(han_bigrams(source)))


def han_bigrams(text: str) -> set[str]:
    """Each pair of adjacent Chinese characters of a text."""
    return {run[i:i + 2] for run in HAN_RUN.findall(text) for i in range(len(run) - 1)}


def proximity(text: str, tokens: tuple[str, ...]) -> float:
    """How close together the matched question words stand: their total length over the stretch they span
    (1 when they stand side by side, 0 when fewer than two match)."""
    spans = [(text.find(t), len(t)) for t in tokens if t and t in text]
    if len(spans) < 2:
        return 0.0
    start = min(s for s, _ in spans)
    end = max(s + n for s, n in spans)
    return min(1.0, sum(n for _, n in spans) / max(1, end - start))


# INTERROGATIVE (index/lang/patterns.py): the interrogative of a Chinese question, whose place in the question
# an answer's words fill: "在哪里举行" is answered by "在瑞士日内瓦举行".
SLOT_FILLER = 16  # most characters an answer puts where the interrogative stood
SLOT_WORD_REACH = 3  # how many tokens from the interrogative its neighbouring words are looked for


@dataclass(frozen=True)
class Slot:
    """The words just before and after a question's interrogative, and the kind of answer it asks for."""

    left: str
    right: str  # empty when the interrogative ends the question ("主席是谁")
    kind: str | None
    beside: tuple[str, ...] = ()  # the nearest words of two characters or more on either side: what is asked of what

    def filled_in(self, text: str) -> str | None:
        """What a sentence puts between the slot's words (None when it does not say them in that frame)."""
        start = text.find(self.left) if self.left else -1
        while start >= 0:
            after = start + len(self.left)
            end = text.find(self.right, after, after + SLOT_FILLER + len(self.right)) if self.right else -1
            filler = text[after:end] if end > after else None
            if filler and not CLAUSE_END.search(filler):
                return filler
            start = text.find(self.left, start + 1)
        return None

    def fits(self, filler: str) -> bool:
        """Whether what fills the slot is of the asked kind: a time for "when", a number for "how many",
        and for the others anything but a time or a bare number."""
        if self.kind == "time":
            return bool(TIME_EXPRESSION.search(filler))
        if self.kind in ("number", "money"):
            return bool(NUMBER_EXPRESSION.search(filler))
        return not TIME_EXPRESSION.search(filler) and not filler.strip().isdigit()


def question_slot(query: Query, tokenize: Callable[[str], list[str]]) -> Slot | None:
    """The slot of a Chinese question's interrogative: the words around it, when it has both."""
    match = INTERROGATIVE.search(query.normalized)
    if match is None or query.language == "en":
        return None
    before = [t for t in tokenize(query.normalized[: match.start()]) if t.strip()]
    after = [t for t in tokenize(query.normalized[match.end():]) if t.strip() and not CLAUSE_END.fullmatch(t)]
    if not before:
        return None
    kinds = [k for k in query.asked if k not in ("list", "reason")]
    beside = (nearest_word(reversed(before)), nearest_word(after))
    return Slot(
        before[-1].lower(), after[0].lower() if after else "", kinds[0] if kinds else None,
        tuple(w for w in beside if w),
    )


def nearest_word(tokens: Iterable[str]) -> str:
    """The first word of at least two characters among the SLOT_WORD_REACH tokens nearest the interrogative."""
    return next((t.lower() for t in islice(tokens, SLOT_WORD_REACH) if len(t) >= 2), "")


def slot_features(slot: Slot | None, text: str) -> list[float]:
    """Whether a lower-cased sentence fills the slot, with the asked kind, and its share of the words beside it."""
    filler = slot.filled_in(text) if slot else None
    beside = sum(w in text for w in slot.beside) / len(slot.beside) if slot and slot.beside else 1.0
    return [float(filler is not None), float(filler is not None and slot.fits(filler)), beside]


def kind_features(query: Query, holds: tuple[str, ...]) -> list[float]:
    """For each kind of answer the question asks for, whether the sentence holds one; and whether it misses any."""
    asked = set(query.asked)
    grain = query.grain
    flags = [
        "time" in asked and "time" in holds,
        bool(grain) and grain in holds,
        "number" in asked and "number" in holds,
        "money" in asked and "money" in holds,
        "person" in asked and "person" in holds,
        "place" in asked and "place" in holds,
        "org" in asked and "org" in holds,
        "definition" in asked and "definition" in holds,
        "reason" in asked and "reason" in holds,
        "list" in asked and "list" in holds,
    ]
    missing = any(k not in holds for k in named_kinds(query))
    return [float(f) for f in flags] + [float(missing)]


def named_kinds(query: Query) -> list[str]:
    """The kinds asked for that an answer must name (a time, a count, a person …), not a list, a reason or a
    definition."""
    return [k for k in query.asked if k not in ("list", "reason", "definition")]


def kind_near(text: str, kinds: list[str], tokens: tuple[str, ...]) -> float:
    """Whether an answer of an asked kind (a time, a count, a person …) stands within NEAR characters of a
    question word the sentence says, outside the question's own words (its own year answers nothing).
    `tokens` are lower-case; the kinds are read in the text as written."""
    if not kinds:
        return 0.0
    spans = occurrences(text.lower(), tokens)
    if not spans:
        return 0.0
    for kind in kinds:
        for m in KIND_PATTERNS[kind].finditer(text):
            start, end = m.span()
            if any(s <= start < e for s, e in spans):
                continue
            if any(start - NEAR <= e and s <= end + NEAR for s, e in spans):
                return 1.0
    return 0.0


def occurrences(text: str, tokens: tuple[str, ...]) -> list[tuple[int, int]]:
    """The spans of every occurrence of each token in a text."""
    spans = []
    for token in tokens:
        at = text.find(token) if token else -1
        while at >= 0:
            spans.append((at, at + len(token)))
            at = text.find(token, at + 1)
    return spans


def focus_here(text: str, focus: dict[str, float]) -> float:
    """Whether a sentence holds the words that carry most of the weight of the question's focus (所长 in
    "首任所长是谁"); 0 when the question has none."""
    total = sum(focus.values())
    return float(total > 0 and sum(w for f, w in focus.items() if f in text) >= 0.5 * total)


def neighbours_text(backend: SearchBackend, position: int) -> str:
    """A sentence with the sentences just before and after it in its passage, lower-cased."""
    chunk = backend.sentences[position].chunk
    parts = [
        backend.sentences[p].embed_text for p in (position - 1, position, position + 1)
        if 0 <= p < len(backend.sentences) and backend.sentences[p].chunk == chunk
    ]
    return " ".join(parts).lower()


def neighbour_dense(backend: SearchBackend, position: int, dense_at: dict[int, float]) -> float:
    """The best cosine to the question among the sentences just before and after, in the same passage
    (the answer often follows the sentence that names the subject)."""
    chunk = backend.sentences[position].chunk
    near = [
        dense_at[p] for p in (position - 1, position + 1)
        if p in dense_at and backend.sentences[p].chunk == chunk
    ]
    return max(near, default=dense_at.get(position, 0.0))


def candidates(
    backend: SearchBackend, retrieval: Retrieval, vector: np.ndarray | None, words: Words,
) -> list[Candidate]:
    """Every stating sentence of the leading passages with its features, each text once."""
    leading = retrieval.passages[:CANDIDATE_PASSAGES]
    by_position = {c.position: c for c in retrieval.candidates}
    rows = [
        (p, s) for p in leading for s in by_position[p.position].sentences
        if stating(backend.sentences[s.position].embed_text)
    ]
    seen: set[str] = set()
    rows = [
        (p, s) for p, s in rows
        if not (
            backend.sentences[s.position].embed_text in seen or seen.add(backend.sentences[s.position].embed_text)
        )
    ]
    if not rows:
        return []
    positions = [s.position for _, s in rows]
    dense = backend.sentence_vectors(positions) @ vector if vector is not None else np.zeros(len(rows))
    tokens = list(retrieval.query.tokens)
    bm25 = backend.keyword_matrix(tokens, positions, "sentence").sum(axis=0) if tokens else np.zeros(len(rows))
    scores = np.array([p.score for p in leading])
    passage_z = (scores - scores.mean()) / scores.std() if scores.std() > 1e-9 else np.zeros(len(leading))
    z_of = {p.rank: float(z) for p, z in zip(leading, passage_z)}
    passage_cover = {p.rank: words.share_in(p.chunk.embed_text.lower()) for p in leading}
    passage_dense = (
        dict(zip((p.rank for p in leading), backend.chunk_vectors([p.position for p in leading]) @ vector))
        if vector is not None else {}
    )
    dense_at = dict(zip(positions, dense.tolist()))
    english = retrieval.query.language == "en"
    top_dense, top_bm25 = float(dense.max()), float(bm25.max())
    slot = question_slot(retrieval.query, backend.tokenize)
    asked = constraints(retrieval.query)
    rare, common = words.rare(), words.common()
    named = [k for k in named_kinds(retrieval.query) if k in KIND_PATTERNS]
    focus = [f.lower() for f in retrieval.query.focus]
    focus_weight = dict(zip(focus, backend.keyword_idf(focus).tolist())) if focus else {}
    out = []
    for i, (passage, scored) in enumerate(rows):
        record = backend.sentences[scored.position]
        text = record.embed_text.lower()
        context = neighbours_text(backend, scored.position)
        values = [
            float(dense[i]), top_dense - float(dense[i]), float(bm25[i]) / top_bm25 if top_bm25 > 0 else 0.0,
            scored.score,
            words.share_in(text), words.share_in(context), passage_cover[passage.rank],
            proximity(text, words.tokens), z_of[passage.rank], float(passage.rank == 1), 1.0 / passage.rank,
            math.log1p(len(text)), float(len(text) < 12), float(bool(REFERS_BACK.search(text))),
            float(scored.position == passage.chunk.first_sentence), float(english), float(english) * float(dense[i]),
            float(passage_dense.get(passage.rank, 0.0)), neighbour_dense(backend, scored.position, dense_at),
            words.bigram_share_in(text), words.bigram_share_in(context), *slot_features(slot, text),
            sum(c in context for c in asked) / len(asked) if asked else 1.0,
            rare.share_in(context) if rare.tokens else 1.0,
            common.share_in(text), focus_here(text, focus_weight), kind_near(record.embed_text, named, words.tokens),
            conflicts(asked, context), words.heaviest_missing(context),
            *kind_features(retrieval.query, record.holds),
        ]
        out.append((scored.position, record, passage.rank, values))
    rows = relative_to_others(np.array([v for *_, v in out], dtype=np.float64))
    return [Candidate(position, record, rank, row) for (position, record, rank, _), row in zip(out, rows)]


def names_a_thing(word: str, first: bool, english: bool) -> bool:
    """Whether a Latin word of a question names something its evidence must name too: an acronym or a
    word with digits (OECD, xAI, ASL-4) in any question; in a Chinese one also a capitalized word (a name
    an English question uses may be written in Chinese by the documents)."""
    marked = sum(ch.isupper() for ch in word[1:]) >= 1 or any(ch.isdigit() for ch in word)
    return marked or (not english and not first and word[:1].isupper())


def constraints(query: Query) -> list[str]:
    """The question's own years, ordinals, numbers and names: what its evidence must say too."""
    english = query.language == "en"
    found = [m.group().lower() for m in CONSTRAINT.finditer(query.normalized)]
    words = LATIN_TOKEN.findall(query.normalized)
    found += [w.lower() for i, w in enumerate(words) if len(w) >= 2 and names_a_thing(w, i == 0, english)]
    return [c for c in dict.fromkeys(found) if len(c) >= 2 or c.isdigit()]


def conflicts(asked: list[str], text: str) -> float:
    """Whether a lower-cased text, lacking one of the question's years, ordinals or numbered names, says
    another of the same frame instead ("第三届" where the question asks about "第四届"): evidence about a
    neighbouring thing, not the one asked."""
    for constraint in asked:
        if constraint in text:
            continue
        for shape in CONSTRAINT_SHAPES:
            match = shape.fullmatch(constraint.removesuffix("年"))
            if match is None:
                continue
            frame, value = match.group(1), match.group(2)
            unit = match.group(3) if shape.groups >= 3 else None
            if any(
                m.group(1) == frame and m.group(2) != value and (unit is None or m.group(3) == unit)
                for m in shape.finditer(text)
            ):
                return 1.0
    return 0.0


def relative_to_others(raw: np.ndarray) -> np.ndarray:
    """The candidates' raw feature rows (RAW_SENTENCE_FEATURES) with the RELATIVE_TO_OTHERS columns
    appended: a score means most beside the scores of the sentences it competes with."""
    if not len(raw):
        return np.zeros((0, len(SENTENCE_FEATURES)))
    columns = [raw]
    for name in RELATIVE_TO_OTHERS:
        values = raw[:, RAW_SENTENCE_FEATURES.index(name)]
        spread = values.std()
        z = (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
        best = values.max()
        columns.append(np.stack([z, best - values, (values >= best - 1e-12).astype(np.float64)], axis=1))
    return np.hstack(columns)


def logit_features(logits: np.ndarray) -> list[float]:
    """The best and second-best sentence logits and their gap."""
    ordered = np.sort(logits)[::-1]
    best = float(ordered[0]) if len(ordered) else -10.0
    second = float(ordered[1]) if len(ordered) > 1 else best - 5.0
    return [best, second, best - second]


def question_base(
    backend: SearchBackend, retrieval: Retrieval, words: Words, found: list[Candidate], rules: list[float],
) -> list[float]:
    """Features of the question against its evidence as a whole that do not depend on the sentence scorer:
    how much of the question (its rare words, its years, names and ordinals) the leading passages say."""
    evidence = " ".join(p.chunk.embed_text for p in retrieval.passages[:3]).lower()
    rare = words.rare()
    rare_missing = 1.0 - rare.share_in(evidence) if rare.tokens else 0.0
    constraint_missing = any(c not in evidence for c in constraints(retrieval.query))
    holds = {k for c in found for k in c.sentence.holds}
    return [
        math.log1p(len(words.tokens)), float((~words.known).mean()) if len(words.tokens) else 1.0, rare_missing,
        float(constraint_missing), words.share_in(evidence), float(max((c.features[0] for c in found), default=0.0)),
        float(any(k not in holds for k in named_kinds(retrieval.query))), float(retrieval.query.language == "en"),
        *rules,
    ]


BEST_SENTENCE = (
    "cover", "context_cover", "asked_missing", "constraint_context", "rare_context", "kind_near", "constraint_conflict",
    "common_cover", "focus_here", "missing_weight", "slot_words",
)


def question_features(logits: np.ndarray, base: list[float], features: np.ndarray) -> np.ndarray:
    """All question features in QUESTION_FEATURES order; `features` holds the candidates' rows."""
    own, unknown, rare, constraint, cover, top_dense, unmet, english, *rules = base
    best = [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    if len(logits):
        top = features[int(np.argmax(logits))]
        best = [float(top[SENTENCE_FEATURES.index(n)]) for n in BEST_SENTENCE]
    values = [*logit_features(logits), own, unknown, rare, constraint, cover, *best, top_dense, unmet, english, *rules]
    return np.array(values, dtype=np.float64)
