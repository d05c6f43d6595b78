"""What an answer of each kind looks like in a text: a time for a "when" question (as fine as it
asks), a count in the asked measure word for a "how many" question, a sum for a "how much money"
one. Answering checks its evidence with these; retrieval favours the passages that hold one."""

from __future__ import annotations

import re

from index.sentence_kinds import DIGIT, GRAIN_EXPRESSION, MONEY_EXPRESSION, NUMBER_EXPRESSION, NUMERAL, TIME_EXPRESSION  # noqa: F401 - re-exported
from service.query import Query


def counted(unit: str) -> re.Pattern[str]:
    """A count in the question's measure word: "16家", "二十 多 个", "第4"."""
    if unit == "第":
        return re.compile(rf"第\s*{NUMERAL}")
    return re.compile(rf"{NUMERAL}\s*(?:多|余)?\s*{unit}")


def answer_pattern(query: Query) -> re.Pattern[str] | None:
    """What a passage that answers this question must hold, if its kind says: a time as fine as asked,
    a sum of money, a count in the asked measure word, or digits for a bare "how many" (一 alone is in
    too many words)."""
    if query.answer_type == "time":
        return GRAIN_EXPRESSION[query.grain] if query.grain else TIME_EXPRESSION
    if query.answer_type == "money":
        return MONEY_EXPRESSION
    if query.answer_type == "number":
        return counted(query.unit) if query.unit else DIGIT
    return None
