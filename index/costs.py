"""What a document will cost to index, measured before anything is embedded, and the limits on it.

Valid text can still be ruinous: 1 MB of `好。` is 174,762 sentences (five minutes of embedding, a
300 MB index version), a 19 MB line of `a` tens of thousands of hard-cut pieces. A document is
measured by chunking it exactly as the build will (in the extraction worker, under its limits), and
an upload is refused (413, naming the limit and its setting) when one document has too many
sentences, chunks or too long a sentence, or the whole upload would grow the index too much.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.chunking import ChunkerSettings, chunk_document
from index.ingest import DocumentTooLarge
from index.sentences import END

UNBROKEN = re.compile(r"[^\n。！？!?…]+")  # a stretch with no sentence end and no line break
# a character is stored about this many times over in the JSON tables (text, model text, keyword text; UTF-8)
TEXT_BYTES_PER_CHAR = 16


@dataclass(frozen=True)
class CostLimits:
    """Limits on one document and on one upload."""

    max_sentences: int = 20_000
    max_chunks: int = 5_000
    max_sentence_chars: int = 50_000
    max_growth_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class DocumentCost:
    """A document's size as the index will hold it."""

    chars: int
    sentences: int
    chunks: int
    longest_sentence: int

    def growth_bytes(self, dimension: int) -> int:
        """Estimated bytes it adds to an index version: a float32 vector per chunk and sentence, and its text
        stored several times."""
        return (self.sentences + self.chunks) * 4 * dimension + self.chars * TEXT_BYTES_PER_CHAR


def longest_sentence(text: str) -> int:
    """The longest stretch of the text without a sentence end or a line break."""
    return max((m.end() - m.start() for m in UNBROKEN.finditer(text)), default=0)


def measure(text: str, chunker: ChunkerSettings, limits: CostLimits, name: str) -> DocumentCost:
    """Chunk the text as the build will and count, refusing as soon as a limit is passed."""
    longest = longest_sentence(text)
    if longest > limits.max_sentence_chars:
        raise DocumentTooLarge(f"{name}: a sentence of {longest} characters (no sentence end or line break), "
                               f"more than the limit of {limits.max_sentence_chars} (GOVQA_MAX_SENTENCE_CHARS)")
    ends = sum(1 for _ in zip(END.finditer(text), range(2 * limits.max_sentences + 1)))
    if ends > 2 * limits.max_sentences:  # far over: say so without chunking it all (1 MB of `好。` takes seconds)
        raise too_many_sentences(name, f"over {2 * limits.max_sentences}", limits)
    chunked = chunk_document("doc", text, chunker)
    cost = DocumentCost(len(text), len(chunked.sentences), len(chunked.chunks), longest)
    if cost.sentences > limits.max_sentences:
        raise too_many_sentences(name, str(cost.sentences), limits)
    if cost.chunks > limits.max_chunks:
        raise DocumentTooLarge(f"{name}: {cost.chunks} passages, more than the limit of {limits.max_chunks} "
                               f"per document (GOVQA_MAX_DOCUMENT_CHUNKS)")
    return cost


def too_many_sentences(name: str, count: str, limits: CostLimits) -> DocumentTooLarge:
    return DocumentTooLarge(f"{name}: {count} sentences, more than the limit of {limits.max_sentences} per document "
                            f"(GOVQA_MAX_DOCUMENT_SENTENCES)")


def check_growth(costs: list[tuple[str, DocumentCost]], dimension: int, limits: CostLimits) -> int:
    """The estimated growth of an upload's documents together; refused when over the limit."""
    total = sum(cost.growth_bytes(dimension) for _, cost in costs)
    if total > limits.max_growth_bytes:
        names = ", ".join(name for name, _ in costs)
        raise DocumentTooLarge(f"{names}: indexing would add about {total / 2**20:.0f} MiB to the index, "
                               f"more than the limit of {limits.max_growth_bytes / 2**20:.0f} MiB per upload "
                               "(GOVQA_MAX_INDEX_GROWTH_BYTES)")
    return total
