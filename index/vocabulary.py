"""The corpus's own words with a vector each, so that a question word the documents never use can
be looked up by meaning ("核弹" → 核武器, "排名" → 排行榜) for the keyword side.

The vectors come from the index's embedding model, written as float16 beside the other tables;
they are built once per version and reused by text from the previous version.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.lang.scripts import HAN_RUN as HAN_WORD

WORDS_FILE = "vocabulary.txt"
VECTORS_FILE = "vocabulary.npy"


def is_han_word(token: str) -> bool:
    """Two or more Han characters: the words whose meaning neighbours are worth looking up."""
    return bool(HAN_WORD.fullmatch(token))


def vocabulary_words(tokens: Iterable[str]) -> list[str]:
    """The Han words of the keyword vocabulary, in a stable order."""
    return sorted({t for t in tokens if is_han_word(t)})


def save(directory: Path, words: list[str], vectors: np.ndarray) -> None:
    (directory / WORDS_FILE).write_text("\n".join(words), encoding="utf-8")
    np.save(directory / VECTORS_FILE, vectors.astype(np.float16), allow_pickle=False)


class Vocabulary:
    """Corpus words and their unit vectors; nearest words by cosine."""

    def __init__(self, words: list[str], vectors: np.ndarray) -> None:
        self.words = words
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    @classmethod
    def load(cls, directory: Path) -> Vocabulary:
        """An empty vocabulary for index versions built before words had vectors."""
        if not (directory / WORDS_FILE).exists():
            return cls([], np.zeros((0, 1), np.float32))
        words = [w for w in (directory / WORDS_FILE).read_text(encoding="utf-8").split("\n") if w]
        vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
        if len(vectors) != len(words):
            raise ValueError(f"{directory / VECTORS_FILE}: {len(vectors)} vectors for {len(words)} words")
        return cls(words, vectors)

    def nearest(self, vectors: np.ndarray, threshold: float, per_word: int) -> list[list[str]]:
        """For each vector, up to `per_word` corpus words at a cosine of at least `threshold`, closest first."""
        if not self.words or not len(vectors):
            return [[] for _ in range(len(vectors))]
        similarity = np.asarray(vectors, dtype=np.float32) @ self.vectors.T
        found = []
        k = min(per_word, len(self.words))
        for row in similarity:
            top = np.argpartition(-row, k - 1)[:k]
            best = top[np.argsort(-row[top], kind="stable")]
            found.append([self.words[i] for i in best if row[i] >= threshold])
        return found
