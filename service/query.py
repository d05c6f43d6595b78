"""Understanding a question: the one normalization shared with the index, keyword tokens
without question scaffolding, and whether it asks for a list."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.normalize import normalize

# Words that shape a question rather than name its subject: interrogatives, particles,
# and references to "this article / that meeting". Dropped from the keyword side only;
# the model still reads the whole question.
SCAFFOLDING = frozenset(
    """请问 请 问 是什么 什么 啥 哪 哪位 哪家 哪个 哪些 哪里 哪儿 哪一 哪种 哪类 哪方面 哪几 谁 何时 何地 何处 何种 何为
    为何 为什么 如何 怎样 怎么 怎么样 多少 几 几个 吗 呢 吧 是否 是不是 有没有 能否 可否 请列举 列举 这篇 该文 本文 文中
    文章 这次 那场 那份 那次 有位 有人 谈到 提到""".split()
)
LIST_CUE = re.compile(r"哪些|哪几|列举|包括什么|有什么|分别|几[个项类种点条方面]|[二两三四五六七八九十][个项类种点条大]|which (?:are|were)|list|what are", re.I)


@dataclass(frozen=True)
class Query:
    """A question as each side of retrieval sees it."""

    text: str
    normalized: str
    tokens: tuple[str, ...]
    wants_list: bool


def parse_query(question: str, tokenize: Callable[[str], list[str]]) -> Query:
    """Normalize the question and cut its keyword tokens with the index's own tokenizer."""
    normalized = normalize(question)
    tokens = tokenize(normalized)
    content = [t for t in tokens if t not in SCAFFOLDING]
    return Query(question, normalized, tuple(content or tokens), bool(LIST_CUE.search(normalized)))
