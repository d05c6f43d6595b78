"""The compiled patterns govqa reads language with, built from the Chinese (zh) and English (en) tables
and the character classes (scripts), each with the flags its users rely on. Three groups: what a question
asks (its cues), what a text holds (a time, a count, a sum, a person …), and how a document is laid out
(tables of contents, boilerplate, captions, bylines)."""

from __future__ import annotations

import re

from index.lang import en, zh
from index.lang.scripts import HAN_BASIC


def alternatives(*tables: tuple[str, ...]) -> str:
    """The fragments of several tables as one regex alternation, in order."""
    return "|".join(fragment for table in tables for fragment in table)


# -- what a question asks -------------------------------------------------------------------------------

SCAFFOLDING = re.compile(rf"{alternatives(zh.SCAFFOLDING)}|\b(?:{alternatives(en.SCAFFOLDING)})\b", re.IGNORECASE)
TIME_CUE = re.compile(alternatives(zh.TIME_CUES, en.TIME_CUES), re.IGNORECASE)
MONEY_WORDS = alternatives(zh.MONEY_WORDS)
MONEY_CUE = re.compile(
    rf"多少(?:{MONEY_WORDS})|(?:{MONEY_WORDS})[{HAN_BASIC}]{{0,4}}(?:{alternatives(zh.MONEY_LINKS)})多少"
    rf"|{alternatives(en.MONEY_CUES)}",
    re.IGNORECASE,
)
NUMBER_CUE = re.compile(alternatives(zh.NUMBER_CUES, en.NUMBER_CUES), re.IGNORECASE)
# What a count is of ("多少家" → 家, "第几" → 第), in Chinese and in English.
COUNT_UNIT = re.compile(rf"(?:多少|(?<!哪)几)\s*([{zh.COUNTED}])|(第)几")
ENGLISH_COUNT = re.compile(rf"\bhow many ({alternatives(tuple(en.COUNT_UNITS))})\b", re.IGNORECASE)
# How fine a time is asked for, finest first.
TIME_GRAIN = tuple(
    (grain, re.compile(alternatives(zh.GRAIN_CUES[grain], en.GRAIN_CUES[grain]), re.IGNORECASE))
    for grain in ("day", "month", "year")
)
SET_ASIDE = re.compile(zh.SET_ASIDE)
REASON_CUE = re.compile(alternatives(zh.REASON_CUES, en.REASON_CUES), re.IGNORECASE)
LIST_CUE = re.compile(alternatives(zh.LIST_CUES, en.LIST_CUES), re.IGNORECASE)
KIND_CUES = {
    kind: re.compile(alternatives(zh.KIND_CUES[kind], en.KIND_CUES[kind]), re.IGNORECASE) for kind in zh.KIND_CUES
}
# What a "who / how much" question asks about: the Han phrase before 是谁/是多少 or after 多少(+measure word),
# cut back to its last 的/之/在/对, without the adverbs before the interrogative.
FOCUS_BEFORE = re.compile(rf"([{HAN_BASIC}]{{2,6}})(?:{alternatives(zh.FOCUS_BEFORE)})")
FOCUS_AFTER = re.compile(rf"多少[{zh.CLASSIFIERS}]?([{HAN_BASIC}]{{2,6}})")
FOCUS_STOP = re.compile(rf".*[{zh.FOCUS_STOPS}]")
FOCUS_CUT = re.compile(rf"[{zh.FOCUS_STOPS}]")
FOCUS_TRAILING = re.compile(rf"(?:{alternatives(zh.FOCUS_ADVERBS)})+$")
INTERROGATIVE = re.compile(alternatives(zh.INTERROGATIVES))
# Constraints a question sets that its evidence must meet: a year, an ordinal, a number.
CONSTRAINT = re.compile(r"\d{4}年?|第[一二三四五六七八九十\d]+[届次轮个批版]|\d+")
# Shapes of a constraint whose other values contradict it: a year (2024 against 2025), an ordinal (第四届
# against 第三届), a name with a number (ASL-4 against ASL-3). Each captures the value's frame (empty for
# a year; the measure word; the letters) and is searched in the evidence for siblings.
CONSTRAINT_SHAPES = (
    re.compile(r"(?<!\d)()((?:19|20)\d{2})(?!\d)"),
    re.compile(r"第()([一二三四五六七八九十\d]+)([届次轮个批版])"),
    re.compile(r"(?<![a-z])([a-z]{2,})[-\s]?(\d+(?:\.\d+)?)(?![\d.])"),
)

# -- how a sentence reads -------------------------------------------------------------------------------

# A sentence that ends with a question mark (closing quotes aside); group 1 is the run before it.
QUESTION_END = re.compile(rf"([^\s{HAN_BASIC}]*)[?？][”’」』）)\"']*$")
# Punctuation that ends a clause: an answer never fills a question's slot across it.
CLAUSE_END = re.compile(r"[,，。；;:：！!？?]")
# A sentence that opens by referring back needs what it refers to; one that ends in a colon introduces what follows.
REFERS_BACK = re.compile(rf"^[\s\"“]*(?:{alternatives(zh.REFERS_BACK)})")
INTRODUCES = re.compile(r"[:：]\s*$")

# -- what a text holds ----------------------------------------------------------------------------------

TIME_EXPRESSION = re.compile(
    r"\d{4}|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十〇零]{2,4}年|[上下本今去明前]年"
    r"|年[初底中末]|世纪|年代|[春夏秋冬]季"
)
NUMBER_EXPRESSION = re.compile(rf"\d|[{zh.NUMERAL_CHARS}]")
DIGIT = re.compile(r"\d")
NUMERAL = rf"(?:\d[\d,.]*|[{zh.NUMERAL_CHARS}]+)"
COUNT = re.compile(rf"{NUMERAL}\s*(?:多|余)?\s*[{zh.COUNT_UNITS}]|\d")
CURRENCY = rf"(?:{alternatives(zh.CURRENCIES, en.CURRENCIES)})"
MONEY_EXPRESSION = re.compile(
    rf"{NUMERAL}\s*(?:[十百千万亿]|{alternatives(en.MONEY_SCALES)})?\s*{CURRENCY}|[$€£¥]\s*\d|{CURRENCY}\s*\d",
    re.IGNORECASE,
)
GRAIN_EXPRESSION = {
    "year": re.compile(r"\d{4}|[〇零一二三四五六七八九]{4}\s*年|[上下本今去明前]年"),
    "month": re.compile(r"\d{1,2}\s*月|[一二三四五六七八九十]{1,3}月|[上下本]个?月"),
    "day": re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}[日号]|[昨今明前后]天|[昨今明前]日"),
}
# A person: a transliterated name's middle dot, a title beside a name, or two capitalized Latin words.
PERSON_WORDS = re.compile(rf"·[{HAN_BASIC}]|{alternatives(zh.PERSON_TITLES)}|[A-Z][a-z]+ [A-Z][a-z]+")
PLACE_WORDS = re.compile(
    rf"在[{HAN_BASIC}]{{2,8}}(?:{alternatives(zh.PLACE_EVENTS)})|[{HAN_BASIC}](?:{alternatives(zh.PLACE_SUFFIXES)})"
)
ORG_WORDS = re.compile(rf"{alternatives(zh.ORG_WORDS)}|[A-Z]{{2,}}|{alternatives(en.ORG_WORDS)}")
DEFINITION_WORDS = re.compile(alternatives(zh.DEFINITION_WORDS, en.DEFINITION_WORDS))
CAUSAL = re.compile(alternatives(zh.CAUSAL))
LIST_WORDS = re.compile(alternatives(zh.LIST_WORDS))


def counted(unit: str) -> re.Pattern[str]:
    """A count in a question's measure word: "16家", "二十 多 个", "第4"."""
    if unit == "第":
        return re.compile(rf"第\s*{NUMERAL}")
    return re.compile(rf"{NUMERAL}\s*(?:多|余)?\s*{unit}")


# -- what answers a question of each kind -----------------------------------------------------------------
# Two readings of "the evidence holds an answer of the asked kind", kept apart because they differ:
# - ANSWER_SHAPES is what abstention (service/answering.judge) requires of the evidence: for "how many",
#   any number, Chinese numerals included (and, separately, a count in the asked measure word);
# - FAVOURED_SHAPES is what ranking favours in a passage (service/answer_types.answer_pattern): for a bare
#   "how many", digits only, since 一 alone is in too many words; with a measure word, the count in it.
# Both read a "when" question's grain (day, month, year) from GRAIN_EXPRESSION.
ANSWER_SHAPES = {"time": TIME_EXPRESSION, "money": MONEY_EXPRESSION, "number": NUMBER_EXPRESSION}
FAVOURED_SHAPES = {"time": TIME_EXPRESSION, "money": MONEY_EXPRESSION, "number": DIGIT}

# -- how a document is laid out ---------------------------------------------------------------------------

TOC_START = re.compile(rf"^({alternatives(zh.TOC_START, en.TOC_START)})$", re.IGNORECASE)
TAIL_MARKER = re.compile(rf"^({alternatives(zh.TAIL_MARKERS, en.TAIL_MARKERS, zh.TAIL_PROMPTS)})$", re.IGNORECASE)
FURNITURE_LINE = re.compile(rf"^({alternatives(zh.FURNITURE)}|({alternatives(zh.CREDIT_WORDS)})\s*[:：|丨].*)$")
INLINE_CREDIT = re.compile(rf"({alternatives(zh.INLINE_CREDIT_WORDS)})\s*[:：|丨][^。！？]{{0,40}}$")
CAPTION = re.compile(rf"^({alternatives(zh.CAPTION_WORDS, en.CAPTION_WORDS)})\s*\d+", re.IGNORECASE)
# A sentence that labels a figure or stands in for an image: never evidence for an answer.
CAPTION_OR_PLACEHOLDER = re.compile(
    rf"^\s*(?:(?:{alternatives(zh.CAPTION_WORDS, en.CAPTION_WORDS)}|fig\.)\s*\d"
    r"|图片\s*$|图片来源|图源|(?:image|photo)\s*[:：\d])",
    re.IGNORECASE,
)
META_LINE = re.compile(rf"^({alternatives(zh.META_LABELS)})\s*[|丨｜:：]")
# A title in 《》 and a short quoted term: the corpus's own names, for the tokenizer's dictionary.
BOOK_TITLE = re.compile(r"《([^《》\n]{2,40})》")
QUOTED = re.compile(rf"[“\"]([{HAN_BASIC}A-Za-z0-9]{{2,10}})[”\"]")
# A run of Chinese followed by Latin in brackets, or the other way round: a pair the documents translate themselves.
ZH_THEN_EN = re.compile(rf"([{HAN_BASIC}·]{{2,24}})\s*\(\s*([A-Za-z][A-Za-z0-9 .,&'\-/]{{0,80}}?)\s*\)")
EN_THEN_ZH = re.compile(rf"([A-Za-z][A-Za-z0-9 .,&'\-]{{1,80}}?)\s*\(\s*([{HAN_BASIC}·]{{2,24}})\s*\)")
