"""Text as a reader should see it, beside the exact text that is cited: source artefacts that carry no
information are cleaned for display only, never in a citation's text or offsets.

- A Markdown link to nowhere (`[《布莱切利人工智能安全宣言》](#)`, an empty or `javascript:` target), left by
  an HTML-to-text conversion, reads as its label. A link to a real address stays as written: where it points
  is information, and hiding it behind a label is what a hostile document would want.
- An author line is cut at the metadata that trails it on web pages ("作者:何文翔、李亚琦 发布时间:2024-06-17
  来源:…+收藏本文" reads "何文翔、李亚琦").
"""

from __future__ import annotations

import re

EMPTY_LINK = re.compile(r"(?<!!)\[([^\[\]\n]{1,200})\]\(\s*(?:#[^()\s]*|javascript:[^()]*)?\s*\)")
AUTHOR_LABEL = re.compile(r"^\s*(?:(?:作者|文|撰文)\s*[:：|｜/]|by\b\s*[:：]?)\s*", re.IGNORECASE)
AUTHOR_TAIL = re.compile(
    r"\s*(?:[|｜]\s*)?(?:发布时间|发布日期|发表时间|日期|时间|来源|出处|责任编辑|编辑|阅读|浏览|点击)\s*[:：].*$|\s*\+?\s*收藏本文.*$"
    r"|\s*[|｜]?\s*\b(?:published|posted|updated|source)\b\s*[:：]?.*$",
    re.IGNORECASE,
)


def readable(text: str) -> str:
    """Text with its links to nowhere read as their labels."""
    return EMPTY_LINK.sub(r"\1", text)


def display_or_none(text: str) -> str | None:
    """The readable text when it differs from the exact text, else None (nothing to clean)."""
    shown = readable(text)
    return shown if shown != text else None


def clean_author(author: str | None) -> str | None:
    """An author line without its label and without the publication metadata that trails it."""
    if not author:
        return author
    cleaned = AUTHOR_TAIL.sub("", AUTHOR_LABEL.sub("", author)).strip(" \t,，;；|｜")
    return cleaned or author.strip()
