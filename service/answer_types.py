"""What an answer of each kind looks like in a text: a time for a "when" question (as fine as it
asks), a count in the asked measure word for a "how many" question, a sum for a "how much money"
one. Answering checks its evidence with these; retrieval favours the passages that hold one."""

from __future__ import annotations

import re

from service.query import Query

TIME_EXPRESSION = re.compile(r"\d{4}|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十〇零]{2,4}年|[上下本今去明前]年|年[初底中末]|世纪|年代|[春夏秋冬]季")
NUMBER_EXPRESSION = re.compile(r"\d|[一二三四五六七八九十百千万亿两]")
DIGIT = re.compile(r"\d")
NUMERAL = r"(?:\d[\d,.]*|[一二三四五六七八九十百千万亿两]+)"
CURRENCY = r"(?:美元|欧元|英镑|日元|韩元|人民币|美金|元|dollars?|euros?|pounds?|USD|EUR|GBP|RMB|CNY)"
MONEY_EXPRESSION = re.compile(
    rf"{NUMERAL}\s*(?:[十百千万亿]|[mb]illion|bn)?\s*{CURRENCY}|[$€£¥]\s*\d|{CURRENCY}\s*\d", re.IGNORECASE
)
GRAIN_EXPRESSION = {
    "year": re.compile(r"\d{4}|[〇零一二三四五六七八九]{4}\s*年|[上下本今去明前]年"),
    "month": re.compile(r"\d{1,2}\s*月|[一二三四五六七八九十]{1,3}月|[上下本]个?月"),
    "day": re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}[日号]|[昨今明前后]天|[昨今明前]日"),
}


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
