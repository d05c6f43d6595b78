"""Understanding a question: the one normalization shared with the index, keyword tokens
without question scaffolding, what kind of answer it expects, and the words it asks about."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from index.lang import en
from index.lang.patterns import (
    COUNT_UNIT,
    ENGLISH_COUNT,
    FOCUS_AFTER,
    FOCUS_BEFORE,
    FOCUS_CUT,
    FOCUS_STOP,
    FOCUS_TRAILING,
    KIND_CUES,
    LIST_CUE,
    MONEY_CUE,
    NUMBER_CUE,
    REASON_CUE,
    SCAFFOLDING,
    SET_ASIDE,
    TIME_CUE,
    TIME_GRAIN,
)
from index.lang.scripts import LATIN_WORD
from index.lang.scripts import WIDE_HAN_CHAR as HAN_CHAR
from index.lexicon import Translated
from index.normalize import fold, normalize, to_simplified

AnswerType = Literal["time", "number", "money"]
TimeGrain = Literal["day", "month", "year"]
Language = Literal["zh-Hans", "zh-Hant", "en", "und"]
# The question's cues (scaffolding, time, money, count, grain, set-aside, reason, list, kinds, focus) are
# compiled in index/lang/patterns.py from the Chinese and English tables of index/lang/zh.py and en.py.
ENGLISH_UNITS = en.COUNT_UNITS


@dataclass(frozen=True)
class Query:
    """A question as each side of retrieval sees it."""

    text: str
    normalized: str
    tokens: tuple[str, ...]
    wants_list: bool
    answer_type: AnswerType | None
    focus: tuple[str, ...]
    wants_reason: bool = False
    language: Language = "zh-Hans"
    translated: tuple[str, ...] = ()
    unit: str | None = None
    grain: TimeGrain | None = None
    expanded: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()  # person, place, org, definition: what else the question asks for

    @property
    def asked(self) -> tuple[str, ...]:
        """Every kind of answer the question asks for, named as index.sentence_kinds names what a sentence holds."""
        typed = {"time": ("time", *((self.grain,) if self.grain else ())), "number": ("number",), "money": ("money",)}
        extra = (("reason",) if self.wants_reason else ()) + (("list",) if self.wants_list else ())
        return typed.get(self.answer_type or "", ()) + self.kinds + extra

    @property
    def own_tokens(self) -> list[str]:
        """The keyword tokens of the question itself, each once: not translations, other spellings or neighbours."""
        added = set(self.translated) | set(self.expanded)
        return [t for t in dict.fromkeys(self.tokens) if t not in added]


def answer_type(normalized: str) -> AnswerType | None:
    if TIME_CUE.search(normalized):
        return "time"
    if MONEY_CUE.search(normalized) and not COUNT_UNIT.search(normalized):  # "投资机构有多少家" counts bodies
        return "money"
    if NUMBER_CUE.search(normalized):
        return "number"
    return None


def asked_kinds(normalized: str) -> tuple[str, ...]:
    """Who, where, which organization, what is: the kinds a question's cues ask for."""
    return tuple(kind for kind, cue in KIND_CUES.items() if cue.search(normalized))


def count_unit(normalized: str) -> str | None:
    """The measure word a "how many" question counts in (家, 个, 项 ...), or 第 for "which place"; in
    English, the units of time and "times", which Chinese counts with measure words of their own."""
    match = COUNT_UNIT.search(normalized)
    if match:
        return match.group(1) or match.group(2)
    english = ENGLISH_COUNT.search(normalized)
    return ENGLISH_UNITS[english.group(1).lower()] if english else None


def time_grain(normalized: str) -> TimeGrain | None:
    """The finest part of a date the question asks for: "哪一天" a day, "哪一年哪一月" a month."""
    return next((grain for grain, cue in TIME_GRAIN if cue.search(normalized)), None)


def focus_text(normalized: str) -> list[str]:
    """The short phrases next to the interrogative, cut back to the last 的/之/在/对 before it."""
    phrases = [FOCUS_TRAILING.sub("", FOCUS_STOP.sub("", m.group(1))) for m in FOCUS_BEFORE.finditer(normalized)]
    phrases += [FOCUS_CUT.split(m.group(1))[0] for m in FOCUS_AFTER.finditer(normalized)]
    return [p for p in phrases if len(p) >= 2]


def query_language(question: str) -> Language:
    """The question's script: Chinese (Simplified or Traditional) when it has at least as many Han
    characters as Latin words, else English when it has Latin words."""
    question = fold(question)  # as normalize sees it (invisible characters, look-alikes), script kept
    han, latin = len(HAN_CHAR.findall(question)), len(LATIN_WORD.findall(question))
    if han and han >= latin:
        return "zh-Hant" if to_simplified(question) != question else "zh-Hans"
    return "en" if latin else "und"


def parse_query(
    question: str, tokenize: Callable[[str], list[str]], translate: Callable[[str], Translated] | None = None,
    spellings: Callable[[list[str]], list[str]] | None = None,
) -> Query:
    """Normalize the question and cut its keyword tokens with the index's own tokenizer; for an English
    question, the Chinese translations of its words (when a lexicon is given) take their place on the
    keyword side, and the English words nothing translates stay."""
    normalized = normalize(question)
    content = tokenize(SCAFFOLDING.sub(" ", normalized))
    tokens = content or tokenize(normalized)
    language = query_language(question)
    if translate is not None and language == "en":
        found = translate(normalized)
        tokens = [t for t in tokens if t not in found.covered] or tokens
        translated = tuple(t for t in found.tokens if t not in tokens)
    else:
        translated = ()
    asked = SET_ASIDE.sub(" ", normalized)
    focus = tuple(dict.fromkeys(t for phrase in focus_text(asked) for t in tokenize(phrase) if len(t) >= 2))
    if spellings is not None:
        translated += tuple(v for v in spellings([*tokens, *translated]) if v not in tokens and v not in translated)
    return Query(
        question, normalized, tuple(tokens) + translated, bool(LIST_CUE.search(normalized)), answer_type(asked), focus,
        bool(REASON_CUE.search(normalized)), language, translated, count_unit(asked), time_grain(asked),
        kinds=asked_kinds(asked),
    )
