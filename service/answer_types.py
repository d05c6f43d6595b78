"""What an answer of each kind looks like in a text: a time for a "when" question (as fine as it
asks), a count in the asked measure word for a "how many" question, a sum for a "how much money"
one. Retrieval favours the passages that hold one; the table (FAVOURED_SHAPES) and the stricter one answering
checks its evidence with (ANSWER_SHAPES) are in index/lang/patterns.py."""

from __future__ import annotations

import re

from index.lang.patterns import FAVOURED_SHAPES, GRAIN_EXPRESSION, counted
from service.query import Query


def answer_pattern(query: Query) -> re.Pattern[str] | None:
    """What a passage that answers this question must hold, if its kind says: a time as fine as asked,
    a sum of money, a count in the asked measure word, or digits for a bare "how many" (一 alone is in
    too many words)."""
    if query.answer_type == "time" and query.grain:
        return GRAIN_EXPRESSION[query.grain]
    if query.answer_type == "number" and query.unit:
        return counted(query.unit)
    return FAVOURED_SHAPES.get(query.answer_type or "")
