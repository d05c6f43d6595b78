"""Question words the documents never use, joined on the keyword side by the corpus words nearest
in meaning: "核弹" finds passages that say 核武器, "排名" those that say 排行榜.

BM25 can only match words a document contains; a paraphrased question often uses others. Each
unknown word of two or more Han characters is embedded with the index's model and compared with
the vectors of the corpus's own words (built with the index); neighbours at a cosine of at least
the threshold join the keyword tokens. The dense side still reads the question as written.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from index.backend import IndexWords
from index.embedding import Embedder
from index.vocabulary import is_han_word
from service.query import Query

CACHED_WORDS = 4096


class WordNeighbours:
    """Nearest corpus words for unknown question words, remembered per word for one index version."""

    def __init__(self, backend: IndexWords, embedder: Embedder, threshold: float, per_word: int) -> None:
        self.backend = backend
        self.embedder = embedder
        self.threshold = threshold
        self.per_word = per_word
        self._known: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def unknown(self, tokens: tuple[str, ...]) -> list[str]:
        """The question's Han words that the keyword index has never seen, each once."""
        return [t for t in dict.fromkeys(tokens) if is_han_word(t) and not self.backend.knows(t)]

    def lookup(self, words: list[str]) -> dict[str, tuple[str, ...]]:
        """Neighbours of each word, embedding in one batch only the words not looked up before."""
        with self._lock:
            found = {w: self._known[w] for w in words if w in self._known}
        new = [w for w in words if w not in found]
        if new:
            neighbours = self.backend.similar_words(self.embedder.encode_words(new), self.threshold, self.per_word)
            with self._lock:
                for word, near in zip(new, neighbours):
                    found[word] = self._known[word] = tuple(near)
                while len(self._known) > CACHED_WORDS:
                    self._known.popitem(last=False)
        return found

    def expand(self, query: Query) -> Query:
        """The query with the neighbours of its unknown words added to the keyword tokens."""
        unknown = self.unknown(query.tokens)
        if not unknown or self.threshold > 1:
            return query
        neighbours = self.lookup(unknown)
        added = tuple(dict.fromkeys(n for w in unknown for n in neighbours[w] if n not in query.tokens))
        return replace(query, tokens=query.tokens + added, expanded=added) if added else query
