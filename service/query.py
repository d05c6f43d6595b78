"""Understanding a question: the one normalization shared with the index, keyword tokens
without question scaffolding, what kind of answer it expects, and the words it asks about."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from index.lexicon import Translated
from index.normalize import fold, normalize, to_simplified

AnswerType = Literal["time", "number", "money"]
TimeGrain = Literal["day", "month", "year"]
Language = Literal["zh-Hans", "zh-Hant", "en", "und"]
HAN_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

CLASSIFIER = "个位家名项次种类条点件国座届年月天日号"
# Interrogatives, particles and references to "this article / that meeting": they shape a
# question rather than name its subject. Removed from the keyword side only; the model
# still reads the whole question.
SCAFFOLDING = re.compile(
    rf"请问|请列举|列举|什么时候|何时何地|何时|何地|何处|何种|何为|何人|何年|为何|为什么|如何|怎么样|怎样|怎么"
    rf"|哪一?[{CLASSIFIER}些里儿]|哪方面|哪几[{CLASSIFIER}]?|哪|多少[{CLASSIFIER}]?|几[{CLASSIFIER}]|第几"
    rf"|是谁|是什么|是多少|是否|是不是|有没有|能否|可否|谁|什么|啥|吗|呢|吧"
    rf"|这篇|该文|本文|文中|这次|那场|那份|那次|那届|有位|有人"
    r"|\b(?:what|which|who|whom|whose|when|where|why|how|many|much|does|did|do|is|are|was|were)\b",
    re.IGNORECASE,
)
TIME_CUE = re.compile(
    r"何时|什么时[候间]|什么日期|哪个时间|何年|哪一?[年月天日号]|几[月号年]|^\W*(?:and |but |so )?when\b|\b(?:what|which) (?:year|month|date|day)\b"
    r"|\bsince when\b|\bhow long ago\b", re.IGNORECASE
)
# A sum of money: "多少罚款", "经费是多少", "how much money".
MONEY_WORDS = "钱|资金|经费|预算|罚款|罚金|投资|拨款|资助|融资|金额|费用|美元|欧元|英镑|日元|人民币"
MONEY_CUE = re.compile(
    rf"多少(?:{MONEY_WORDS})|(?:{MONEY_WORDS})[\u4e00-\u9fff]{{0,4}}(?:是|为|有|达)多少|\bhow much (?:money|funding|cash)\b"
    r"|\bhow (?:much|many) (?:dollars|euros|pounds|yuan)\b",
    re.IGNORECASE,
)
NUMBER_CUE = re.compile(rf"多少|(?<!哪)几[{CLASSIFIER}]|第几|\bhow (?:many|much)\b", re.IGNORECASE)
# What a count is of ("多少家" → 家, "第几" → 第) and how fine a time is asked for ("哪一天" → day).
COUNTED = "个位家名项次种类条点件座届篇台部"
COUNT_UNIT = re.compile(rf"(?:多少|(?<!哪)几)\s*([{COUNTED}])|(第)几")
ENGLISH_UNITS = {"hours": "小时", "minutes": "分钟", "days": "天", "weeks": "周", "months": "个月", "years": "年", "times": "次"}
ENGLISH_COUNT = re.compile(rf"\bhow many ({'|'.join(ENGLISH_UNITS)})\b", re.IGNORECASE)
TIME_GRAIN = (
    ("day", re.compile(r"哪一?[天日号]|几[日号]|\bwhat (?:day|date)\b|\bon which (?:day|date)\b", re.IGNORECASE)),
    ("month", re.compile(r"哪一?个?月|几月|\b(?:what|which) month\b", re.IGNORECASE)),
    ("year", re.compile(r"哪一?年|何年|\b(?:what|which) year\b", re.IGNORECASE)),
)
# "除了何时…之外": an interrogative inside an "apart from" clause names what is set aside, not what is asked.
SET_ASIDE = re.compile(r"(?<![消删排清解免去剔废拆破根])除了?(?!非)[^，,。？?]{1,30}?(?:之外|以外|外)")
REASON_CUE = re.compile(r"为什么|为何|何以|怎么会|什么原因|原因是|\bwhy\b", re.IGNORECASE)
LIST_CUE = re.compile(r"哪些|哪几|列举|分别|[二两三四五六七八九十几][个项类种点条大方]|\bwhat are\b|\bwhich (?:are|were)\b|\blist\b", re.IGNORECASE)
# Who, where, which organization, what is: kinds of answer the question asks for beside a time or a count.
KIND_CUES = {
    "person": re.compile(r"谁|哪位|何人|什么人|哪些人|\bwho(?:m|se)?\b", re.IGNORECASE),
    "place": re.compile(
        r"哪里|哪儿|在哪|何地|何处|什么地方|哪[个座]?城市|哪个?地方|\bwhere\b|\b(?:what|which) (?:city|place|country)\b", re.IGNORECASE
    ),
    "org": re.compile(
        r"哪[个家些]?(?:机构|组织|部门|委员会|公司|企业|实验室|单位|国家)|哪家|什么(?:机构|组织|部门)|由谁|"
        r"\b(?:what|which) (?:organi[sz]ation|agency|body|bodies|compan(?:y|ies)|institution|countr(?:y|ies)|committee)\b",
        re.IGNORECASE,
    ),
    "definition": re.compile(
        r"什么是|是什么|指什么|什么叫|啥叫|啥是|是啥|何为|何谓|什么意思|含义|定义|\bwhat (?:is|are|does)\b|\bmeaning\b|\bdefin", re.IGNORECASE
    ),
}


# What a "who / how much" question asks about sits right next to its interrogative:
# "首任所长是谁", "多少罚款". ("什么X" names the answer's kind, not a condition on it.)
FOCUS_BEFORE = re.compile(r"([\u4e00-\u9fff]{2,6})(?:是谁|是多少|为多少|有多少)")
FOCUS_AFTER = re.compile(rf"多少[{CLASSIFIER}]?([\u4e00-\u9fff]{{2,6}})")
FOCUS_STOP = re.compile(r".*[的之在对]")
# Adverbs that sit between a subject and its interrogative ("代表大约有多少", "成员一共是多少").
FOCUS_TRAILING = re.compile(r"(?:大约|大概|约|一共|总共|共|最多|最少|至少|目前|现在|如今|到底|究竟|具体|分别|都|又|还|已经|已|总计|合计)+$")


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
    phrases += [re.split(r"[的之在对]", m.group(1))[0] for m in FOCUS_AFTER.finditer(normalized)]
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
        bool(REASON_CUE.search(normalized)), language, translated, count_unit(asked), time_grain(asked), kinds=asked_kinds(asked),
    )
