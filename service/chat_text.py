"""An answer as plain text for a chat tool: the quoted answer sentences with their [n] markers, then the
numbered sources. Shared by the MCP `ask` tool and the chat-completions endpoint so the two never drift.

Everything taken from a document (sentences, passages, titles, sections) is marked as quoted source text:
a document may contain words that read like instructions, and the reader must see them as quotations. Its
Markdown syntax is escaped, so a renderer shows its characters and never a link, an image, HTML, code or a
block of its own, and a document's "[1]" cannot be taken for a marker. Sentences and passages are shown in
their display form (service/display.py: a link to nowhere reads as its label). (Structured data stays raw.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from service.schemas import AskOut, ConversationOut, PassageOut

NO_ANSWER = "The documents do not answer this question."
QUOTED_ANSWER = "Quoted from the documents (each sentence is followed by the number of its source):"


# Markdown syntax anywhere in a line: links and images ([ ]), HTML and autolinks (< >), code spans, emphasis,
# strikethrough, table cells, entities and escapes. A backslash before ASCII punctuation makes it a literal.
INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>&|~])")
# Syntax that opens a line: headings, list items, thematic breaks, setext underlines ("1." and "1)" too).
BLOCK_SYNTAX = re.compile(r"^(\d{1,9}(?=[.)])|(?=[#+=-]))")


def inert(line: str) -> str:
    """One line of document text as Markdown that renders as exactly its characters (its indentation, which
    Markdown would read as code, dropped)."""
    return BLOCK_SYNTAX.sub(r"\1\\", INLINE_SYNTAX.sub(r"\\\1", line.lstrip(" \t")), count=1)


def quoted(text: str) -> str:
    """Document text as a Markdown block quote, every line of it marked and inert."""
    return "\n".join(f"> {inert(line)}" if line.strip() else ">" for line in (text.splitlines() or [""]))


# In one line of a paragraph a "|" makes no table (a table needs a delimiter row), so titles and sections keep
# theirs unescaped: plain-text clients show "美国观察|…", not "美国观察\|…".
LINE_SYNTAX = re.compile(r"([\\`*_\[\]<>&~])")


def literal(text: str) -> str:
    """A short piece of document text (a title, a section) as one quoted line: a JSON string, Markdown-inert."""
    return LINE_SYNTAX.sub(r"\\\1", json.dumps(text, ensure_ascii=False))


def source_line(p: PassageOut, link: str) -> str:
    section = f", section {literal(p.section)}" if p.section else ""
    return f"[{p.n}] {literal(p.title)}{section}, {p.doc_id} characters {p.start}–{p.end}: {link}"


def answer_text(out: AskOut, link: Callable[[PassageOut], str], with_passages: bool = False) -> str:
    """The answer (or the line saying there is none) and the numbered sources; with_passages adds each
    passage's text, quoted, under its source line."""
    if out.answer is None:
        head = NO_ANSWER + (" Nearest passages:" if out.passages else "")
    else:
        sentences = "\n".join(f"{quoted((s.display or s.text).strip())} [{s.passage}]" for s in out.answer.sentences)
        head = f"{QUOTED_ANSWER}\n{sentences}\n\nSources:"
    sources = [
        source_line(p, link(p)) + (f"\n{quoted(p.display or p.text)}" if with_passages else "") for p in out.passages
    ]
    return "\n".join([head, ("\n\n" if with_passages else "\n").join(sources)]) if sources else head


def conversation_note(conversation: ConversationOut | None) -> str:
    """A first line saying which terms a follow-up question took from the conversation (empty when none)."""
    if conversation is None:
        return ""
    if conversation.documents:
        within = ", ".join(conversation.documents)
        return (
            "Read with the earlier questions: searched within the documents the previous question is answered from "
            f"({within}).\n\n"
        )
    carried = ", ".join(literal(t) for t in conversation.carried) or "none"
    replacing = (
        f" (in place of {', '.join(literal(t) for t in conversation.replaced)})" if conversation.replaced else ""
    )
    return (
        f"Read with the earlier questions: searched as {literal(conversation.searched)}; "
        f"terms from the conversation: {carried}{replacing}.\n\n"
    )
