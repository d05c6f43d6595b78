"""Structure-aware chunking: whole sentences, grouped within one section, with exact offsets.

Each document is cleaned into headings and paragraphs; every paragraph is split
into sentences; sentences are packed into chunks of about `min_chars` to
`max_chars` characters that never cross a section. A paragraph that fits stays
whole; a longer one is split into balanced runs of sentences; short neighbours in
the same section are merged. Every chunk and sentence satisfies
`document[start:end] == text`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass

from index.cleaning import CleanDocument, Heading, Paragraph, clean
from index.sentences import Span, sentence_spans


@dataclass(frozen=True)
class ChunkerSettings:
    """Chunk size bounds in characters of source text."""

    min_chars: int = 150
    max_chars: int = 400

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document, with the chunk that holds it."""

    doc_id: str
    start: int
    end: int
    text: str
    chunk: int
    embed_text: str
    holds: tuple[str, ...] = ()  # the kinds of answer it holds (index.sentence_kinds), filled in by the build


@dataclass(frozen=True)
class Chunk:
    """A passage: whole sentences of one section, cited by exact source offsets."""

    chunk_id: str
    doc_id: str
    section: tuple[str, ...]
    author: str | None
    start: int
    end: int
    text: str
    first_sentence: int
    last_sentence: int
    embed_text: str

    @property
    def section_title(self) -> str:
        return " / ".join(self.section)


@dataclass(frozen=True)
class ChunkedDocument:
    doc_id: str
    chunks: list[Chunk]
    sentences: list[Sentence]


@dataclass
class _Section:
    path: tuple[str, ...]
    author: str | None
    paragraphs: list[list[Span]]


def sections_of(cleaned: CleanDocument) -> list[_Section]:
    """Group paragraphs under their heading path; the nearest byline above is the author."""
    stack: list[Heading] = []
    sections: list[_Section] = [_Section((), None, [])]
    for block in cleaned.blocks:
        if isinstance(block, Heading):
            while stack and stack[-1].level >= block.level:
                stack.pop()
            stack.append(block)
            author = next((h.byline for h in reversed(stack) if h.byline), None)
            sections.append(_Section(tuple(h.title for h in stack), author, []))
        elif isinstance(block, Paragraph):
            sections[-1].paragraphs.append(block.pieces)
    return [s for s in sections if s.paragraphs]


def balanced_runs(sentences: list[Span], max_chars: int) -> list[list[Span]]:
    """Split one paragraph's sentences into runs of similar length, each at most max_chars."""
    total = sentences[-1][1] - sentences[0][0]
    if total <= max_chars:
        return [sentences]
    target = total / math.ceil(total / max_chars)
    runs, current = [], []
    for span in sentences:
        if current and (span[1] - current[0][0] > max_chars or current[-1][1] - current[0][0] >= target):
            runs.append(current)
            current = []
        current.append(span)
    runs.append(current)
    return runs


def pack(runs: list[list[Span]], settings: ChunkerSettings) -> list[list[Span]]:
    """Merge neighbouring runs when either is below min_chars and together they fit max_chars."""
    chunks: list[list[Span]] = []
    for run in runs:
        if chunks:
            last = chunks[-1]
            small = min(last[-1][1] - last[0][0], run[-1][1] - run[0][0]) < settings.min_chars
            if small and run[-1][1] - last[0][0] <= settings.max_chars:
                last.extend(run)
                continue
        chunks.append(list(run))
    return chunks


def chunk_id(doc_id: str, text: str, seen: dict[str, int]) -> str:
    """An id that depends only on the document and the chunk's text (and which repeat it is)."""
    # surrogatepass: a lone surrogate (no character, but a Python string may hold one) hashes too
    digest = hashlib.sha1(f"{doc_id}\0{text}".encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()[:12]
    seen[digest] = seen.get(digest, 0) + 1
    return f"{doc_id[:3]}-{digest}" + (f"-{seen[digest]}" if seen[digest] > 1 else "")


def context_prefix(section: tuple[str, ...]) -> str:
    """The section path, as the model and the keyword index see it before a chunk's text."""
    return " / ".join(section)


def chunk_document(doc_id: str, text: str, settings: ChunkerSettings | None = None) -> ChunkedDocument:
    """Clean, split and chunk one document."""
    settings = settings or ChunkerSettings()
    cleaned = clean(text)
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    seen: dict[str, int] = {}
    for section in sections_of(cleaned):
        runs = []
        for pieces in section.paragraphs:
            spans = [s for s in sentence_spans(text, pieces, settings.max_chars) if cleaned.model_text(*s)]
            if spans:
                runs.extend(balanced_runs(spans, settings.max_chars))
        for group in pack(runs, settings):
            start, end = group[0][0], group[-1][1]
            index = len(chunks)
            first = len(sentences)
            for s_start, s_end in group:
                sentences.append(
                    Sentence(doc_id, s_start, s_end, text[s_start:s_end], index, cleaned.model_text(s_start, s_end))
                )
            prefix = context_prefix(section.path)
            body = cleaned.model_text(start, end)
            chunks.append(
                Chunk(
                    chunk_id=chunk_id(doc_id, text[start:end], seen),
                    doc_id=doc_id,
                    section=section.path,
                    author=section.author,
                    start=start,
                    end=end,
                    text=text[start:end],
                    first_sentence=first,
                    last_sentence=len(sentences),
                    embed_text=f"{prefix}\n{body}" if prefix else body,
                )
            )
    return ChunkedDocument(doc_id, chunks, sentences)
