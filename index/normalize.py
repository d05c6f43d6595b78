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

from index.lang.scripts import LATIN_LETTER, LATIN_OR_MARK, NON_LATIN_LETTER, SCRIPT_WORD, SPACE_BETWEEN_CJK

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

# CJK radical forms that stand for whole characters, as PDF text layers write them (⻚ for 页, ⻛ for 风).
# NFKC folds the Kangxi radicals (⼈ → 人) but has no mapping for these; the targets are the unified
# ideographs Unicode's EquivalentUnifiedIdeograph.txt gives.
RADICAL_FORMS = str.maketrans({
    "\u2e9f": "母", "\u2ea0": "民", "\u2ec4": "西", "\u2ec5": "见", "\u2ec6": "角", "\u2ec8": "讠", "\u2ec9": "贝",
    "\u2eca": "足", "\u2ecb": "车", "\u2ed3": "长", "\u2ed4": "门", "\u2eda": "页", "\u2edb": "风", "\u2edc": "飞",
    "\u2edd": "食", "\u2ee0": "饣", "\u2ee2": "马", "\u2ee3": "骨", "\u2ee4": "鬼", "\u2ee5": "鱼", "\u2ee6": "鸟",
    "\u2ee7": "卤", "\u2ee8": "麦", "\u2ee9": "黄", "\u2eec": "齐", "\u2eee": "齿", "\u2ef0": "龙", "\u2ef3": "龟",
})


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


def fold_compatibility(text: str) -> str:
    """NFKC, and the CJK radical forms NFKC leaves alone folded to the characters they stand for."""
    return unicodedata.normalize("NFKC", text).translate(RADICAL_FORMS)


def fold(text: str) -> str:
    """Invisible characters removed, NFKC (radical forms included), look-alike letters inside Latin
    words folded to Latin: everything `normalize` does but Traditional to Simplified and whitespace."""
    text = fold_compatibility(INVISIBLE.sub("", text))
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
