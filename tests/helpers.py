"""Test helpers: a small deterministic embedder for unit tests of chunking and storage only."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

SEOUL = "000_4a4f11ac61068251"  # the bundled corpus's document on the Seoul AI summit


class HashEmbedder:
    """Character-bigram hashing into a few dimensions: deterministic, instant, no model."""

    name = "hash-embedder"
    fingerprint = "hash-embedder-v1"
    dimension = 32

    def __init__(self, fail_after: int | None = None, delay: float = 0.0) -> None:
        self.calls = 0
        self.fail_after = fail_after
        self.delay = delay

    def encode(self, texts: list[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("embedding failed on purpose")
        time.sleep(self.delay)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for a, b in zip(text, text[1:] + " "):
                out[row, int(hashlib.md5((a + b).encode()).hexdigest(), 16) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]

    def encode_words(self, words: list[str]) -> np.ndarray:
        return self.encode(words)


def glosses_prelude(path: Path) -> str:
    """Python lines that make a child process's `cedict_glosses` the table pickled at `path` (see
    `pickle_glosses`): reading CC-CEDICT again costs each test subprocess seconds before it does what
    the test is about, and the table is the same in every process."""
    return (
        "import pickle as _pickle, pathlib as _pathlib, index.lexicon as _lexicon\n"
        f"_glosses = _pickle.loads(_pathlib.Path({str(path)!r}).read_bytes())\n"
        "_lexicon.cedict_glosses = lambda: _glosses\n"
    )


def pickle_glosses(path: Path) -> Path:
    """CC-CEDICT's gloss table of this process, written for `glosses_prelude`."""
    import pickle

    from index.lexicon import cedict_glosses

    path.write_bytes(pickle.dumps(cedict_glosses(), protocol=pickle.HIGHEST_PROTOCOL))
    return path
