"""What kinds of answer a sentence holds: a time, a number, a sum of money, a person, a place, an
organization, a definition, a reason, a list. Computed once per sentence when the index is built
(part-of-speech tagging is too slow for the question path) and read by answer selection, which
matches them against what a question asks for.

The patterns that find these kinds, and the question side's cues, are defined in index/lang/patterns.py
from the word lists of index/lang/zh.py and index/lang/en.py.
"""

from __future__ import annotations

from functools import cache

from index.lang.patterns import (  # noqa: F401 - NUMBER_EXPRESSION, DIGIT, NUMERAL re-exported for the answer side
    CAUSAL,
    COUNT,
    DEFINITION_WORDS,
    DIGIT,
    GRAIN_EXPRESSION,
    LIST_WORDS,
    MONEY_EXPRESSION,
    NUMBER_EXPRESSION,
    NUMERAL,
    ORG_WORDS,
    PERSON_WORDS,
    PLACE_WORDS,
    TIME_EXPRESSION,
)

KINDS = ("time", "year", "month", "day", "number", "money", "person", "place", "org", "definition", "reason", "list")

# Parts of speech (jieba's tags) that name a person, a place or an organization.
POS_KINDS = {"nr": "person", "nrfg": "person", "nrt": "person", "ns": "place", "nt": "org"}


@cache
def _posseg():  # noqa: ANN202 - jieba.posseg, imported only when tagging is needed
    import jieba.posseg

    return jieba.posseg


def tagged_kinds(text: str) -> set[str]:
    """The person, place and organization kinds jieba's part-of-speech tags find in a text."""
    return {POS_KINDS[tag] for word, tag in _posseg().cut(text) if tag in POS_KINDS and len(word) >= 2}


# What each kind looks like in a text, as patterns (person, place and organization also by part of speech).
KIND_PATTERNS = {
    "time": TIME_EXPRESSION, "year": GRAIN_EXPRESSION["year"], "month": GRAIN_EXPRESSION["month"],
    "day": GRAIN_EXPRESSION["day"], "number": COUNT, "money": MONEY_EXPRESSION, "person": PERSON_WORDS,
    "place": PLACE_WORDS, "org": ORG_WORDS, "definition": DEFINITION_WORDS, "reason": CAUSAL, "list": LIST_WORDS,
}


def sentence_kinds(text: str) -> tuple[str, ...]:
    """Every kind of answer a sentence's normalized text holds, in KINDS order."""
    found = tagged_kinds(text)
    found |= {kind for kind, pattern in KIND_PATTERNS.items() if pattern.search(text)}
    return tuple(kind for kind in KINDS if kind in found)
