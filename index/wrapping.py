"""Hard-wrapped text: lines broken by layout (a PDF's text layer, a text file wrapped at a fixed
width) rather than at the end of a paragraph.

A document is hard-wrapped when many of its lines run to nearly one common width and stop
mid-sentence. In such a document a line that reaches that width and does not end a sentence
continues into the next line: its paragraph, and the sentence in it, go on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from index.lang.scripts import CJK_BOUNDARY

# A line ending in one of these (closing quotes and brackets aside) ends its paragraph.
PARAGRAPH_END = "。！？!?；;…:："
CLOSERS = "”’」』）)】》\"'*"
MIN_LINES = 8
FULL_WIDTH_SHARE = 0.75  # of the document's wrap width: a line this wide was wrapped, not ended
WRAPPED_SHARE = 0.25  # of the non-blank lines that must be wrapped for a document to count as hard-wrapped
MAX_WRAP_WIDTH = 200  # wider "lines" are paragraphs written on one line
# A line that opens a numbered heading, an enumerated item or a bullet starts a block of its own.
BLOCK_START = re.compile(
    r"^(?:[一二三四五六七八九十]+、|第[一二三四五六七八九十百\d]+[章节条部编]|\d+(?:\.\d+)*[.、．\s]"
    r"|[(（][一二三四五六七八九十\d]+[)）]|[-*•·]\s|#)"
)


def display_width(text: str) -> int:
    """Columns a line takes: two for a wide (CJK) character, one for the rest."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def ends_paragraph(line: str) -> bool:
    core = line.rstrip(CLOSERS + " \t")
    return not core or core[-1] in PARAGRAPH_END


def wrap_width(lines: Sequence[str]) -> int | None:
    """The width a hard-wrapped document's lines were broken at, or None when it is not hard-wrapped."""
    widths = sorted(display_width(line) for line in lines if line.strip())
    if len(widths) < MIN_LINES:
        return None
    width = widths[int(0.9 * (len(widths) - 1))]
    if width > MAX_WRAP_WIDTH:
        return None
    wrapped = sum(
        1 for line, after in zip(lines, lines[1:])
        if after.strip() and display_width(line) >= FULL_WIDTH_SHARE * width and not ends_paragraph(line)
    )
    return width if wrapped >= WRAPPED_SHARE * len(widths) else None


def continues(line: str, width: int | None, after: str = "") -> bool:
    """Whether a line of a document wrapped at `width` goes on into the next line (`after`)."""
    if width is None or not after.strip() or BLOCK_START.match(after.lstrip()):
        return False
    return display_width(line.strip()) >= FULL_WIDTH_SHARE * width and not ends_paragraph(line)


def unwrap(text: str) -> str:
    """The text with each layout line break inside a paragraph removed: joined directly between CJK
    characters, by one space between Latin words. Paragraph breaks and blank lines stay."""
    lines = [line.rstrip() for line in text.split("\n")]
    width = wrap_width(lines)
    if width is None:
        return "\n".join(lines)
    out = [lines[0]]
    for previous, line in zip(lines, lines[1:]):
        if continues(previous, width, line):
            line = line.lstrip()
            tight = CJK_BOUNDARY.match(line[:1]) or CJK_BOUNDARY.match(out[-1][-1:])
            out[-1] = out[-1] + ("" if tight else " ") + line
        else:
            out.append(line)
    return "\n".join(out)
