"""The one text normalization shared by indexing and querying.

Documents and questions go through the same function so that the model and the
keyword index always compare like with like: NFKC (full-width Latin and digits
to ASCII), Traditional to Simplified Chinese, invisible characters removed,
whitespace collapsed. It never touches source text that a citation points at.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
WHITESPACE = re.compile(r"\s+")
CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}]) (?=[{CJK}])")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def normalize(text: str) -> str:
    """Normalize text for embedding and tokenizing (not for display)."""
    text = unicodedata.normalize("NFKC", text)
    text = INVISIBLE.sub("", text)
    text = to_simplified(text)
    text = WHITESPACE.sub(" ", text).strip()
    return SPACE_BETWEEN_CJK.sub("", text)
