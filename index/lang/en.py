"""English words and pattern fragments, as plain data, beside the Chinese ones of index/lang/zh.py;
index/lang/patterns.py compiles both into the patterns the modules use."""

from __future__ import annotations

# Question scaffolding: interrogatives and auxiliaries, matched as whole words (case-insensitive).
SCAFFOLDING = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much", "does", "did",
               "do", "is", "are", "was", "were")
# A question that asks when (regex fragments; "when" only at the start of a question or clause).
TIME_CUES = (
    r"^\W*(?:and |but |so )?when\b", r"\b(?:what|which) (?:year|month|date|day)\b", r"\bsince when\b",
    r"\bhow long ago\b",
)
# A question that asks how much money.
MONEY_CUES = (r"\bhow much (?:money|funding|cash)\b", r"\bhow (?:much|many) (?:dollars|euros|pounds|yuan)\b")
# A question that asks how many.
NUMBER_CUES = (r"\bhow (?:many|much)\b",)
# The units an English "how many" question counts in, and the Chinese measure word or unit each is
# written with in the documents ("how many hours" → 小时).
COUNT_UNITS = {
    "hours": "小时", "minutes": "分钟", "days": "天", "weeks": "周", "months": "个月", "years": "年", "times": "次",
}
# How fine a time a question asks for.
GRAIN_CUES = {
    "day": (r"\bwhat (?:day|date)\b", r"\bon which (?:day|date)\b"),
    "month": (r"\b(?:what|which) month\b",),
    "year": (r"\b(?:what|which) year\b",),
}
# A question that asks why; one that asks for several things.
REASON_CUES = (r"\bwhy\b",)
LIST_CUES = (r"\bwhat are\b", r"\bwhich (?:are|were)\b", r"\blist\b")
# Who, where, which organization, what is.
KIND_CUES = {
    "person": (r"\bwho(?:m|se)?\b",),
    "place": (r"\bwhere\b", r"\b(?:what|which) (?:city|place|country)\b"),
    "org": (
        (r"\b(?:what|which) (?:organi[sz]ation|agency|body|bodies|compan(?:y|ies)|institution|countr(?:y|ies)"
         r"|committee)\b"),
    ),
    "definition": (r"\bwhat (?:is|are|does)\b", r"\bmeaning\b", r"\bdefin"),
}
# Currencies written in English or as codes (case-insensitive in money patterns).
CURRENCIES = ("dollars?", "euros?", "pounds?", "reais", "USD", "EUR", "GBP", "RMB", "CNY", "BRL")
# Scales written after a number of a sum ("3 billion", "2bn").
MONEY_SCALES = ("[mb]illion", "bn")
# Words that name an organization in English text (besides acronyms).
ORG_WORDS = ("Agency", "Office", "Council", "Institute", "Foundation")
# Phrases that define a term.
DEFINITION_WORDS = (r"\brefers? to\b", r"\bmeans\b")
# A line that opens a table of contents; one after which trailing boilerplate begins (case-insensitive).
TOC_START = ("contents", "table of contents")
TAIL_MARKERS = ("references",)
# Words that label a figure or a table, and image placeholders.
CAPTION_WORDS = ("figure", "table")
