"""Sentence boundaries with exact offsets, for Chinese and Latin-script text.

A sentence ends at 。！？!?… (and ASCII '.' before a space or line end), with any
closing quotes or brackets kept on the sentence they close. A sentence longer
than a limit is cut at the last clause mark (；，、: …) that keeps it under the
limit, and only there is a sentence ever cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

CLOSERS = "”’」』）)】》\"'*"
END = re.compile(rf"(\.\.\.|……|[。！？!?]+|…+|(?<![0-9A-Z])\.(?=\s|$))[{re.escape(CLOSERS)}]*")
SOFT_BREAK = re.compile(rf"[；;，,、:：]+[{re.escape(CLOSERS)}]*")
SPACE = " \t\u3000\u00a0\r\n"

Span = tuple[int, int]


def trim(text: str, start: int, end: int) -> Span | None:
    """Narrow a range to its non-whitespace content; None when nothing is left."""
    while start < end and text[start] in SPACE:
        start += 1
    while end > start and text[end - 1] in SPACE:
        end -= 1
    return (start, end) if end > start else None


def split_range(text: str, start: int, end: int) -> tuple[list[Span], int]:
    """Complete sentences inside text[start:end], and where the unfinished remainder begins."""
    spans, cursor = [], start
    for match in END.finditer(text, start, end):
        span = trim(text, cursor, match.end())
        if span:
            spans.append(span)
        cursor = match.end()
    return spans, cursor


def split_pieces(text: str, pieces: Iterable[Span]) -> list[Span]:
    """Sentences of a logical paragraph whose pieces are separate source ranges.

    A sentence left open at the end of one piece continues into the next, so its
    span covers whatever lies between the pieces (a page header, say).
    """
    sentences: list[Span] = []
    open_start: int | None = None
    for piece_start, piece_end in pieces:
        spans, rest = split_range(text, piece_start, piece_end)
        if spans and open_start is not None:
            spans[0] = (open_start, spans[0][1])
            open_start = None
        sentences.extend(spans)
        leftover = trim(text, rest, piece_end)
        if leftover:
            open_start = leftover[0] if open_start is None else open_start
            last_end = leftover[1]
    if open_start is not None:
        sentences.append((open_start, last_end))
    return sentences


def cut_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a sentence longer than limit at clause marks, or hard at the limit when it has none."""
    start, end = span
    parts: list[Span] = []
    while end - start > limit:
        window_end = start + limit
        cut = None
        for match in SOFT_BREAK.finditer(text, start + limit // 3, window_end):
            cut = match.end()
        cut = cut or window_end
        piece = trim(text, start, cut)
        if piece:
            parts.append(piece)
        start = cut
    rest = trim(text, start, end)
    if rest:
        parts.append(rest)
    return parts


def sentence_spans(text: str, pieces: Iterable[Span], limit: int) -> list[Span]:
    """Sentence ranges of one logical paragraph, none longer than limit."""
    return [part for span in split_pieces(text, pieces) for part in cut_long(text, span, limit)]
