"""What kinds of answer a sentence holds: a time, a number, a sum of money, a person, a place, an
organization, a definition, a reason, a list. Computed once per sentence when the index is built
(part-of-speech tagging is too slow for the question path) and read by answer selection, which
matches them against what a question asks for.

The patterns and word lists here are the one definition of these kinds; the question side's cues
live in service/query.py.
"""

from __future__ import annotations

import re
from functools import cache

KINDS = ("time", "year", "month", "day", "number", "money", "person", "place", "org", "definition", "reason", "list")

TIME_EXPRESSION = re.compile(r"\d{4}|\d{1,2}月|\d{1,2}日|[一二三四五六七八九十〇零]{2,4}年|[上下本今去明前]年|年[初底中末]|世纪|年代|[春夏秋冬]季")
NUMBER_EXPRESSION = re.compile(r"\d|[一二三四五六七八九十百千万亿两]")
DIGIT = re.compile(r"\d")
NUMERAL = r"(?:\d[\d,.]*|[一二三四五六七八九十百千万亿两]+)"
COUNT = re.compile(rf"{NUMERAL}\s*(?:多|余)?\s*[个位家名项次种类条点件国座届篇台部票席人%]|\d")
CURRENCY = r"(?:美元|欧元|英镑|日元|韩元|人民币|美金|雷亚尔|卢比|新加坡元|元|dollars?|euros?|pounds?|reais|USD|EUR|GBP|RMB|CNY|BRL)"
MONEY_EXPRESSION = re.compile(
    rf"{NUMERAL}\s*(?:[十百千万亿]|[mb]illion|bn)?\s*{CURRENCY}|[$€£¥]\s*\d|{CURRENCY}\s*\d", re.IGNORECASE
)
GRAIN_EXPRESSION = {
    "year": re.compile(r"\d{4}|[〇零一二三四五六七八九]{4}\s*年|[上下本今去明前]年"),
    "month": re.compile(r"\d{1,2}\s*月|[一二三四五六七八九十]{1,3}月|[上下本]个?月"),
    "day": re.compile(r"\d{1,2}\s*[日号]|[一二三四五六七八九十]{1,3}[日号]|[昨今明前后]天|[昨今明前]日"),
}
# Titles that stand beside a person's name, and a transliterated name's middle dot.
PERSON_WORDS = re.compile(
    r"·[\u4e00-\u9fff]|总统|总理|首相|主席|部长|大臣|秘书长|总干事|局长|署长|院长|主任|大使|议员|州长|市长|法官|教授|研究员"
    r"|首席执行官|执行官|创始人|董事长|总裁|专员|特使|国务卿|参议员|众议员|[A-Z][a-z]+ [A-Z][a-z]+"
)
PLACE_WORDS = re.compile(r"在[\u4e00-\u9fff]{2,8}(?:举行|召开|举办|签署|开幕|发布|通过|开放签署)|[\u4e00-\u9fff](?:市|省|州|岛|首都|总部)")
ORG_WORDS = re.compile(
    r"委员会|组织|机构|基金会|联盟|协会|理事会|研究院|研究所|大学|公司|集团|议会|政府|法院|论坛|办公室|监管局|管理局|[部局署厅院]"
    r"(?![分长门])|[A-Z]{2,}|Agency|Office|Council|Institute|Foundation"
)
DEFINITION_WORDS = re.compile(r"是指|指的是|是一[种个项套份部类]|定义为|被定义|称为|称作|意为|意思是|所谓|即[\u4e00-\u9fff]|也就是|\brefers? to\b|\bmeans\b")
# Connectives that state a cause or a consequence.
CAUSAL = re.compile(r"因为|由于|因此|所以|因而|从而|导致|原因|在于|意味着|使得|以免|以防|否则|之所以|为了|目的是|旨在")
LIST_WORDS = re.compile(r"包括|包含|分别|以及|其一|其二|第一[,，、]|[①②③④⑤]|[(（][1-9一二三四五][)）]|、[^、]{1,12}、")
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
