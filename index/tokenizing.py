"""Keyword tokens for BM25: jieba segmentation with a dictionary mined from the corpus.

The user dictionary holds the corpus's own names, found by their form: titles in
《》, short quoted terms, and the people and bodies named in bylines. It is saved beside the index so questions are cut exactly like the text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

import jieba
from bm25s.stopwords import STOPWORDS_EN

from index.normalize import normalize

# Function words and question scaffolding; content words such as 安全 stay searchable.
STOPWORDS_ZH = frozenset(
    """的 地 得 了 着 过 是 在 和 与 及 以及 并 并且 或 或者 而 而且 但 但是 也 都 又 还 就 才 被 把 将 对 对于 于 以 从 到 向 为 为了
    由 之 其 这 那 这个 那个 这些 那些 此 该 各 每 某 个 们 我 你 他 她 它 我们 你们 他们 她们 它们 自己 有 没有 没 不 很 更 最 等 等等
    一个 一种 一些 中 上 下 里 内 外 吗 呢 吧 啊 呀 嘛 么 请问 请 问 什么 哪 哪些 哪个 哪里 哪儿 如何 怎么 怎样 怎么样 为什么 为何 谁 几 多少
    是否 是不是 能否 可否 有没有 呢 即 则 如 若 如果 因为 所以 因此 通过 进行 方面 一下 之一 当中 其中 有关 关于 所 所谓 曾 已 已经 会 能 可 可以 要 应 应该""".split()
)
STOPWORDS = STOPWORDS_ZH | frozenset(STOPWORDS_EN)
TOKEN = re.compile(r"[\w\u4e00-\u9fff]")

BOOK_TITLE = re.compile(r"《([^《》\n]{2,40})》")
QUOTED = re.compile(r"[“\"]([\u4e00-\u9fffA-Za-z0-9]{2,10})[”\"]")
NAME_SPLIT = re.compile(r"[、，,\s]+|\([^)]*\)|（[^）]*）")

log = logging.getLogger(__name__)


def mine_terms(texts: Iterable[str], bylines: Iterable[str] = ()) -> list[str]:
    """Multi-character names and terms of the corpus, for jieba's user dictionary."""
    terms: set[str] = set()
    for text in texts:
        norm = normalize(text)
        terms.update(m.group(1) for m in BOOK_TITLE.finditer(norm))
        terms.update(m.group(1) for m in QUOTED.finditer(norm))
    for byline in bylines:
        terms.update(p for p in NAME_SPLIT.split(normalize(byline)) if 2 <= len(p) <= 12 and re.search(r"[\u4e00-\u9fff]", p))
    return sorted(t for t in terms if 2 <= len(t) <= 40 and "\n" not in t)


class KeywordTokenizer:
    """jieba (search mode) over normalized text, with the corpus dictionary, minus stop-words."""

    def __init__(self, user_terms: Iterable[str] = ()) -> None:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.user_terms = sorted(set(user_terms))
        for term in self.user_terms:
            self._jieba.add_word(term, freq=20000)

    @classmethod
    def from_file(cls, path: Path) -> KeywordTokenizer:
        terms = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        return cls(t for t in terms if t)

    def save(self, path: Path) -> None:
        path.write_text("\n".join(self.user_terms) + "\n", encoding="utf-8")

    def words(self, text: str) -> list[str]:
        """jieba's precise segmentation (each character in one word), for finding term boundaries."""
        return [w for w in self._jieba.cut(normalize(text)) if w.strip()]

    def tokenize(self, text: str, normalized: bool = False) -> list[str]:
        norm = (text if normalized else normalize(text)).lower()
        return [t for t in (w.strip() for w in self._jieba.cut_for_search(norm)) if t and TOKEN.search(t) and t not in STOPWORDS]
