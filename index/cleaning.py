"""Deciding which regions of a document are indexed, and what the model sees of them.

Cleaning reads a document line by line and labels each line: body text, a heading
(with its level), or something that is not indexed: a table of contents, page
running heads, image placeholders and credits, and the social-media boilerplate
that trails web articles. Body lines become paragraphs; a paragraph cut in two by a
page break is joined back into one logical paragraph made of several pieces.

Nothing here rewrites the source: every result is a range of offsets into the
original text. `model_text` derives the normalized text the embedding model and
the keyword index see for a range, leaving out excluded regions and markup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.lang import zh
from index.lang.names import PERSON_NAMES
from index.lang.patterns import (
    CAPTION,
    CAPTION_OR_PLACEHOLDER,
    FURNITURE_LINE,
    INLINE_CREDIT,
    META_LINE,
    TAIL_MARKER,
    TOC_START,
)
from index.normalize import normalize
from index.wrapping import continues, wrap_width

MAX_HEADING_CHARS = 40
MAX_BYLINE_CHARS = 80
MIN_CUT_LINE = 60  # a paragraph cut by a page break is a full-width line
TERMINAL = "。！？!?；;…"
CLOSERS = "”’」』）)】》\"'*"

TOC_ENTRY = re.compile(r"(\t|\.{3,}|…{2,}| {2,})\s*([0-9]{1,4}|[IVXLC]{1,6})\s*$")

CN_NUM = zh.HEADING_NUMERALS
MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+\S")
CHAPTER = re.compile(rf"^第[{CN_NUM}\d]+[章编篇卷部](\s|$)")
TWO_DIGIT = re.compile(r"^0\d(\s*\S.*)?$")
CN_ENUM = re.compile(rf"^[{CN_NUM}]+、\S")
CN_PAREN_ENUM = re.compile(rf"^[(（][{CN_NUM}]+[)）]\s*\S")
DIGIT_ENUM = re.compile(r"^\d{1,2}([.、．]\s*|\s*)(?=[^\d.\s%])\S")
BARE_NUMBER = re.compile(r"^(0?\d)$")
LIST_ITEM = re.compile(rf"^([-*•·]\s|\d{{1,2}}[.、．)）]|[(（]\d{{1,2}}[)）]|[①-⑳]|[(（][{CN_NUM}]+[)）])")
MARKUP = re.compile(r"\*\*|__|^#{1,6}\s+|^\s*[-*•]\s+|^\s*>\s?", re.MULTILINE)
LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
ANGLE_URL = re.compile(r"<(https?://[^>\s]+)>")

# Heading levels: chapters above article titles above enumerations; plain
# unnumbered headings nest under whatever section is open.
LEVEL_CHAPTER, LEVEL_ARTICLE, LEVEL_CN_ENUM, LEVEL_CN_PAREN, LEVEL_DIGIT, LEVEL_PLAIN = 1, 2, 3, 4, 5, 6


@dataclass(frozen=True)
class Line:
    """One line of the source: offsets of its content (without the line break)."""

    start: int
    end: int
    text: str

    @property
    def stripped(self) -> str:
        return clean_inline(self.text).strip()


@dataclass
class Heading:
    """A section heading: its level, display title and source range."""

    level: int
    title: str
    start: int
    end: int
    byline: str | None = None


@dataclass
class Paragraph:
    """A logical paragraph: one or more source ranges read as continuous text."""

    pieces: list[tuple[int, int]]
    joinable: bool = field(default=True, repr=False)

    @property
    def start(self) -> int:
        return self.pieces[0][0]

    @property
    def end(self) -> int:
        return self.pieces[-1][1]


@dataclass
class CleanDocument:
    """The structure of one document: headings and paragraphs in reading order, and the excluded ranges."""

    text: str
    blocks: list[Heading | Paragraph] = field(default_factory=list)
    excluded: list[tuple[int, int]] = field(default_factory=list)

    def model_text(self, start: int, end: int) -> str:
        return model_text(self.text, start, end, self.excluded)


def clean_inline(text: str) -> str:
    """Drop inline markup (bold, links, heading marks) from a line for classification or display."""
    text = LINK.sub(r"\1", text)
    text = ANGLE_URL.sub(r"\1", text)
    return MARKUP.sub("", text)


def model_text(text: str, start: int, end: int, excluded: list[tuple[int, int]]) -> str:
    """Normalized text of text[start:end] without the excluded ranges and markup."""
    parts, cursor = [], start
    for ex_start, ex_end in excluded:
        if ex_end <= cursor or ex_start >= end:
            continue
        parts.append(text[cursor:max(cursor, ex_start)])
        cursor = max(cursor, ex_end)
    parts.append(text[cursor:end] if cursor < end else "")
    return normalize(clean_inline("\n".join(p for p in parts if p)))


def split_lines(text: str) -> list[Line]:
    """Lines with exact offsets; \\n, \\r\\n and \\r all end a line."""
    lines, pos = [], 0
    for match in re.finditer(r"\r\n|\r|\n", text):
        lines.append(Line(pos, match.start(), text[pos:match.start()]))
        pos = match.end()
    lines.append(Line(pos, len(text), text[pos:]))
    return [trim_line(line) for line in lines]


def trim_line(line: Line) -> Line:
    """Narrow a line's range to its content without surrounding whitespace."""
    content = line.text.strip()
    if not content:
        return Line(line.start, line.start, "")
    lead = len(line.text) - len(line.text.lstrip())
    return Line(line.start + lead, line.start + lead + len(content), content)


def ends_open(text: str) -> bool:
    """True when a line stops mid-sentence (no terminal punctuation, no colon)."""
    core = text.rstrip(CLOSERS + " ")
    return bool(core) and core[-1] not in TERMINAL + ":：,，、"


def is_short_title(text: str, limit: int = MAX_HEADING_CHARS) -> bool:
    return 0 < len(text) <= limit and not re.search(r"[。；;]", text) and text[-1] not in "。！!；;:：,，、"


def numbered_level(text: str) -> int | None:
    """The level of a numbered heading style, or None for unnumbered text."""
    if CHAPTER.match(text):
        return LEVEL_CHAPTER
    if TWO_DIGIT.match(text):
        return LEVEL_ARTICLE
    if CN_ENUM.match(text):
        return LEVEL_CN_ENUM
    if CN_PAREN_ENUM.match(text):
        return LEVEL_CN_PAREN
    if DIGIT_ENUM.match(text):
        return LEVEL_DIGIT
    return None


class _Reader:
    """A cursor over the labelled lines of one document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.width = wrap_width([line.text for line in self.lines])  # None unless the text is hard-wrapped
        self.excluded: list[tuple[int, int]] = []
        self.blocks: list[Heading | Paragraph] = []
        self.stack: list[Heading] = []

    # -- excluded regions -------------------------------------------------
    def exclude(self, start: int, end: int) -> None:
        if end > start:
            self.excluded.append((start, end))

    def tail_start(self) -> int:
        """Index of the first line of trailing boilerplate (len(lines) when none)."""
        half = len(self.text) // 2
        for i, line in enumerate(self.lines):
            if line.start >= half and TAIL_MARKER.match(line.stripped):
                return i
        return len(self.lines)

    def toc_lines(self) -> set[int]:
        """Indexes of table-of-contents lines: after a 目录 marker, or runs of page-numbered lines."""
        toc: set[int] = set()
        i = 0
        while i < len(self.lines):
            run = self._toc_run(i)
            if run:
                toc.update(run)
                i = max(run) + 1
            else:
                i += 1
        return toc

    def _toc_run(self, i: int) -> list[int]:
        marker = bool(TOC_START.match(self.lines[i].stripped))
        j = i + 1 if marker else i
        run, entries = ([i] if marker else []), 0
        while j < len(self.lines):
            line = self.lines[j]
            if not line.text:
                run.append(j)
            elif TOC_ENTRY.search(line.text):
                run.append(j)
                entries += 1
            else:
                break
            j += 1
        while run and not self.lines[run[-1]].text and run[-1] != i:
            run.pop()
        return run if (marker and entries >= 1) or entries >= 3 else []

    # -- headings ---------------------------------------------------------
    def heading_at(self, i: int, limit: int) -> tuple[Heading, int] | None:
        """A heading starting at line i, with the index of the line after it (bylines included)."""
        line = self.lines[i]
        text = line.stripped
        markdown = MARKDOWN_HEADING.match(line.text)
        if markdown:
            return Heading(len(markdown.group(1)), text, line.start, line.end), i + 1
        if BARE_NUMBER.match(text):
            return self._numbered_block(i, limit)
        level = numbered_level(text)
        if level is not None and is_short_title(text):
            return Heading(level, text, line.start, line.end), i + 1
        if level is None and is_short_title(text) and not self.never_heading(line):
            return self._plain_heading(i, limit)
        return None

    def _numbered_block(self, i: int, limit: int) -> tuple[Heading, int] | None:
        """A bare section number ("01", "2") followed by a title that may wrap after a colon."""
        number = self.lines[i]
        j = self.next_content(i + 1, limit)
        if j is None or not is_short_title(self.lines[j].stripped.rstrip(":："), MAX_HEADING_CHARS):
            return None
        title, end = self.lines[j].stripped, self.lines[j].end
        k = self.next_content(j + 1, limit)
        if title[-1] in ":：" and k is not None and is_short_title(self.lines[k].stripped):
            title, end, j = f"{title}{self.lines[k].stripped}", self.lines[k].end, k
        level = LEVEL_ARTICLE if len(number.stripped) == 2 else LEVEL_DIGIT
        return Heading(level, f"{number.stripped} {title}", number.start, end), j + 1

    def _plain_heading(self, i: int, limit: int) -> tuple[Heading, int] | None:
        """An unnumbered short line standing alone before body text; a byline after it marks an article title."""
        line = self.lines[i]
        previous = self.previous_paragraph_open()
        if previous:
            return None
        j = self.next_content(i + 1, limit)
        if j is None:
            return None
        byline, after = self._byline(j, limit)
        if byline is not None:
            return Heading(LEVEL_ARTICLE, line.stripped, line.start, line.end, byline=byline), after
        if line.stripped[-1] in "?？":
            return None
        following = self.lines[j].stripped
        if self.heading_like(j) and not is_short_title(following):
            return None
        return Heading(LEVEL_PLAIN, line.stripped, line.start, line.end), i + 1

    def _byline(self, j: int, limit: int) -> tuple[str | None, int]:
        """Author line(s) right under a title and right above body text, if any."""
        parts, k = [], j
        while k is not None and k < limit:
            text = self.lines[k].stripped
            if not (0 < len(text) <= MAX_BYLINE_CHARS) or re.search(r"[。；;!?！？]", text):
                return None, j
            if text[-1] in ":：" or numbered_level(text) is not None or MARKDOWN_HEADING.match(self.lines[k].text):
                return None, j
            if self.never_heading(self.lines[k]) and not META_LINE.match(text):
                return None, j
            parts.append(text)
            if text[-1] not in ",，、":
                break
            k = self.next_content(k + 1, limit)
        body = self.next_content(k + 1, limit) if k is not None else None
        if body is None:
            return None, j
        byline = " ".join(parts)
        if not (self.body_like(self.lines[body].stripped) or PERSON_NAMES.match(byline)):
            return None, j
        return byline, k + 1

    @staticmethod
    def never_heading(line: Line) -> bool:
        """List items, captions and byline-style metadata lines are body text."""
        text = line.stripped
        return bool(
            LIST_ITEM.match(line.text) or CAPTION.match(text) or META_LINE.match(text) or INLINE_CREDIT.search(text)
        )

    @staticmethod
    def body_like(text: str) -> bool:
        """Text that reads as prose rather than as a title or a name."""
        return len(text) > MAX_HEADING_CHARS or bool(re.search(r"[。！？!?；;:：]", text))

    def heading_like(self, j: int) -> bool:
        text = self.lines[j].stripped
        return bool(MARKDOWN_HEADING.match(self.lines[j].text) or numbered_level(text) or BARE_NUMBER.match(text))

    def next_content(self, i: int, limit: int) -> int | None:
        """The next non-blank line that is not excluded, before limit."""
        while i < limit:
            if self.lines[i].text and i not in self.skip:
                return i
            i += 1
        return None

    def wraps_into(self, line: Line) -> bool:
        """Whether, in a hard-wrapped text, the last paragraph's last line was broken by layout and goes on
        in `line`."""
        if self.width is None or not self.blocks or not isinstance(self.blocks[-1], Paragraph):
            return False
        start, end = self.blocks[-1].pieces[-1]
        return continues(self.text[start:end], self.width, line.text)

    def wraps_on(self, i: int) -> bool:
        """Whether, in a hard-wrapped text, line i was broken by layout and goes on in the next line."""
        return (
            self.width is not None and i + 1 < len(self.lines)
            and continues(self.lines[i].text, self.width, self.lines[i + 1].text)
        )

    def previous_paragraph_open(self) -> bool:
        """Whether the last block is a paragraph that stops mid-sentence."""
        if not self.blocks or not isinstance(self.blocks[-1], Paragraph):
            return False
        start, end = self.blocks[-1].pieces[-1]
        return ends_open(self.text[start:end])

    def push_heading(self, heading: Heading) -> None:
        while self.stack and self.stack[-1].level >= heading.level:
            self.stack.pop()
        self.stack.append(heading)
        self.blocks.append(heading)

    def is_running_head(self, text: str) -> bool:
        """A line repeating a heading that is still open, or cutting a sentence in two, is a page header."""
        if any(h.title == text for h in self.stack):
            return True
        return self.previous_paragraph_open() and any(isinstance(b, Heading) and b.title == text for b in self.blocks)

    # -- body ---------------------------------------------------------------
    def add_body(self, line: Line) -> None:
        start, end = line.start, line.end
        credit = INLINE_CREDIT.search(line.text)
        if credit and credit.start() > 0:
            end = line.start + len(line.text[:credit.start()].rstrip())
            self.exclude(end, line.end)
        last = self.blocks[-1] if self.blocks else None
        page_cut = (
            isinstance(last, Paragraph) and last.joinable and self.previous_paragraph_open()
            and not LIST_ITEM.match(line.text)
        )
        if page_cut or self.wraps_into(line):
            last.pieces.append((start, end))
        else:
            self.blocks.append(Paragraph([(start, end)]))
        self.blocks[-1].joinable = not credit and len(line.stripped) >= MIN_CUT_LINE and line.text[-1].isalnum()

    def run(self) -> CleanDocument:
        tail = self.tail_start()
        if tail < len(self.lines):
            self.exclude(self.lines[tail].start, len(self.text))
        self.skip = self.toc_lines()
        for k in sorted(self.skip):
            self.exclude(self.lines[k].start, self.lines[k].end)
        i = 0
        while i < tail:
            line = self.lines[i]
            if not line.text or i in self.skip:
                i += 1
                continue
            if FURNITURE_LINE.match(line.stripped) or not line.stripped:
                self.exclude(line.start, line.end)
                i += 1
                continue
            if self.is_running_head(line.stripped):
                self.exclude(line.start, line.end)
                i += 1
                continue
            if self.wraps_into(line) or self.wraps_on(i):  # a wrapped line is never a heading
                self.add_body(line)
                i += 1
                continue
            found = self.heading_at(i, tail)
            if found:
                heading, i = found
                self.push_heading(heading)
                continue
            self.add_body(line)
            i += 1
        self.excluded.sort()
        return CleanDocument(self.text, self.blocks, self.excluded)


def clean(text: str) -> CleanDocument:
    """Label a document's regions: headings, paragraphs, and excluded ranges."""
    return _Reader(text).run()


def is_caption(text: str) -> bool:
    """Whether a sentence is a figure's or table's caption or an image placeholder ("图1 …", "图片")."""
    return bool(CAPTION_OR_PLACEHOLDER.match(text))

