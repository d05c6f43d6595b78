"""The one text normalization shared by indexing and querying.

Documents and questions go through the same function so that the model and the
keyword index always compare like with like: invisible characters removed, NFKC
(full-width Latin and digits to ASCII), Cyrillic and Greek look-alikes inside Latin
words folded to Latin, Traditional to Simplified Chinese, whitespace collapsed. It
never touches source text that a citation points at. `normalize` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

# What a reader cannot see and what carries no text, removed before anything else: every format
# character (Unicode category Cf: zero-width spaces and joiners, bidi marks, embeddings, overrides and
# isolates, the BOM, soft hyphens, tags), the other default-ignorable code points (variation
# selectors, the combining grapheme joiner, Hangul fillers), control characters that are not
# whitespace (NUL, ESC, DEL, C1) and surrogate code points (a lone surrogate is no character; JSON's
# "\ud800" makes one). Removed before NFKC, so that what NFKC composes stays composed.
INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
    "\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ud800-\udfff"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
WHITESPACE = re.compile(r"\s+")
CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK}]) (?=[{CJK}])")

# Cyrillic and Greek letters drawn like Latin ones. They are folded to Latin only inside a word that
# has Latin letters and otherwise nothing but such look-alikes ("Sеoul" with a Cyrillic е); a word
# written wholly in Cyrillic or Greek ("Россия", even "Аре") is left as it is.
LOOKALIKES = {
    **dict(zip("АВЕКМНОРСТХУЅІЈԚԜҮҺӀ", "ABEKMHOPCTXYSIJQWYHI")),
    **dict(zip("аеорсухѕіјԛԝүһӏԁ", "aeopcyxsijqwyhld")),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX")),
    **dict(zip("οναιρυ", "ovaipu")),
}
FOLD = str.maketrans(LOOKALIKES)
LATIN = r"A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
LATIN_LETTER = re.compile(f"[{LATIN}]")
SCRIPT_WORD = re.compile(rf"[{LATIN}\u0300-\u036f\u0370-\u03ff\u0400-\u052f]+")
LATIN_OR_MARK = re.compile(rf"[{LATIN}\u0300-\u036f]")
NON_LATIN_LETTER = re.compile(r"[\u0370-\u03ff\u0400-\u052f]")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional to Simplified Chinese, to a fixed point: OpenCC's table maps a few characters to
    characters it maps again (薴 → 苧 → 苎), so one pass would leave text it changes on the next."""
    converted = _t2s().convert(text)
    for _ in range(3):
        again = _t2s().convert(converted)
        if again == converted:
            break
        converted = again
    return converted


def _fold_word(match: re.Match[str]) -> str:
    word = match.group()
    if not LATIN_LETTER.search(word) or not all(LATIN_OR_MARK.match(c) or c in LOOKALIKES for c in word):
        return word
    return word.translate(FOLD)


def fold(text: str) -> str:
    """Invisible characters removed, NFKC, look-alike letters inside Latin words folded to Latin:
    everything `normalize` does but Traditional to Simplified and whitespace."""
    text = unicodedata.normalize("NFKC", INVISIBLE.sub("", text))
    if NON_LATIN_LETTER.search(text):
        folded = SCRIPT_WORD.sub(_fold_word, text)
        if folded != text:
            text = unicodedata.normalize("NFKC", folded)
    return text


def normalize(text: str) -> str:
    """Normalize text for embedding and tokenizing (not for display)."""
    text = to_simplified(fold(text))
    text = WHITESPACE.sub(" ", text).strip()
    return SPACE_BETWEEN_CJK.sub("", text)
