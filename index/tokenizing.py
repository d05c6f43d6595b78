"""Keyword tokens for BM25: jieba segmentation with a dictionary mined from the corpus.

The user dictionary holds the corpus's own names, found by their form: titles in
《》, short quoted terms, and the people and bodies named in bylines. It is saved beside the index so
questions are cut exactly like the text.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import jieba
from bm25s.stopwords import STOPWORDS_EN

from index.lang import zh
from index.lang.names import NAME_SPLIT
from index.lang.patterns import BOOK_TITLE, QUOTED
from index.lang.scripts import HAN_CHAR, TOKEN_CHAR
from index.normalize import normalize

# Function words and question scaffolding; content words such as 安全 stay searchable.
STOPWORDS_ZH = frozenset(zh.STOPWORDS)
STOPWORDS = STOPWORDS_ZH | frozenset(STOPWORDS_EN)
TOKEN = TOKEN_CHAR

log = logging.getLogger(__name__)


def mine_terms(texts: Iterable[str], bylines: Iterable[str] = ()) -> list[str]:
    """Multi-character names and terms of the corpus, for jieba's user dictionary."""
    terms: set[str] = set()
    for text in texts:
        norm = normalize(text)
        terms.update(m.group(1) for m in BOOK_TITLE.finditer(norm))
        terms.update(m.group(1) for m in QUOTED.finditer(norm))
    for byline in bylines:
        terms.update(p for p in NAME_SPLIT.split(normalize(byline)) if 2 <= len(p) <= 12 and HAN_CHAR.search(p))
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
        return [
            t for t in (w.strip() for w in self._jieba.cut_for_search(norm))
            if t and TOKEN.search(t) and t not in STOPWORDS
        ]
