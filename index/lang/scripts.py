"""Unicode character classes of the scripts govqa reads, each defined once, and the compiled patterns
built from them. A class is the body of a regex character class (no brackets), so that patterns
elsewhere combine them: rf"[{HAN_BASIC}·]".

Several Han classes exist because modules need different reaches: tokens and cue words look at the
basic block only (normalized text is Simplified and NFKC-folded, so compatibility ideographs rarely
survive), word shapes take Extension A, script detection takes the compatibility block too, and
encoding checks on raw bytes take every ideograph plane.
"""

from __future__ import annotations

import re

# CJK Unified Ideographs: the basic block, where nearly all modern Chinese characters are.
HAN_BASIC = r"\u4e00-\u9fff"
# CJK Unified Ideographs Extension A: rarer characters, some in names.
HAN_EXT_A = r"\u3400-\u4dbf"
# CJK Compatibility Ideographs: duplicates of unified ones, from legacy encodings (NFKC folds most).
HAN_COMPAT = r"\uf900-\ufaff"
# Extensions B to G, beyond the Basic Multilingual Plane.
HAN_SUPPLEMENTARY = r"\U00020000-\U0003134f"
# CJK radicals, Kangxi radicals and everything up to the basic block (CJK symbols and punctuation, kana,
# bopomofo, Hangul compatibility letters, Extension A): what a wide East Asian line is made of.
CJK_WIDE_START = r"\u2e80-\u9fff"
# CJK symbols and punctuation: the ideographic space, 、。「」《》【】 and so on.
CJK_PUNCTUATION = r"\u3000-\u303f"
# Halfwidth and fullwidth forms: ，！？（）：； and fullwidth Latin and digits.
FULLWIDTH = r"\uff00-\uffef"

# The characters of a Chinese word: basic block and Extension A.
HAN_WORD = HAN_EXT_A + HAN_BASIC
# A Han character as script detection counts it: a word character or a compatibility ideograph.
HAN_WIDE = HAN_WORD + HAN_COMPAT
# Any ideograph in any plane: for checks on raw decoded text.
HAN_ANY = HAN_WIDE + HAN_SUPPLEMENTARY
# Chinese text as spacing rules see it: Han characters with CJK and fullwidth punctuation.
CJK_TEXT = CJK_PUNCTUATION + HAN_WIDE + FULLWIDTH
# A character after which a wrapped line joins the next one without a space.
CJK_BREAK = CJK_WIDE_START + HAN_COMPAT + FULLWIDTH

# Latin letters with the Latin-1, Extended-A/B and Extended Additional accented letters.
LATIN_LETTERS = r"A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff"
# Combining diacritical marks (a decomposed accent).
COMBINING_MARKS = r"\u0300-\u036f"
# Greek and Cyrillic (with the Cyrillic Supplement): the scripts with letters drawn like Latin ones.
GREEK_CYRILLIC = r"\u0370-\u03ff\u0400-\u052f"

# One basic Han character; a Han word of two or more characters (Extension A included); a token of
# basic Han characters only.
HAN_CHAR = re.compile(rf"[{HAN_BASIC}]")
HAN_RUN = re.compile(rf"[{HAN_WORD}]{{2,}}")
HAN_ONLY = re.compile(rf"^[{HAN_BASIC}]+$")
# A Han character as script detection counts it; an ideograph of any plane.
WIDE_HAN_CHAR = re.compile(rf"[{HAN_WIDE}]")
ANY_HAN_CHAR = re.compile(rf"[{HAN_ANY}]")
# A wide East Asian character, beside which a line break joins without a space.
CJK_BOUNDARY = re.compile(rf"[{CJK_BREAK}]")
# A space between two Chinese characters or punctuation marks (a justified or hand-spaced line).
SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{CJK_TEXT}]) (?=[{CJK_TEXT}])")
# Spaces and tabs beside a Chinese character, as a justified PDF line puts them.
SPACE_BESIDE_CJK = re.compile(rf"(?<=[{CJK_TEXT}])[ \t]+|[ \t]+(?=[{CJK_TEXT}])")
# A character that makes a keyword token: a word character (Han included) or a basic Han character.
TOKEN_CHAR = re.compile(rf"[\w{HAN_BASIC}]")

# A Latin word of two letters or more (script detection counts these against Han characters).
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# A Latin word that may go on with digits ("G20"); with hyphens too ("ASL-4").
LATIN_ALNUM = re.compile(r"[A-Za-z][A-Za-z0-9]*")
LATIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9\-]*")
# One Latin letter (accented ones too); a word of Latin, Greek or Cyrillic letters and marks; a Latin
# letter or mark; a Greek or Cyrillic letter. normalize folds look-alike letters with these.
LATIN_LETTER = re.compile(f"[{LATIN_LETTERS}]")
SCRIPT_WORD = re.compile(rf"[{LATIN_LETTERS}{COMBINING_MARKS}{GREEK_CYRILLIC}]+")
LATIN_OR_MARK = re.compile(rf"[{LATIN_LETTERS}{COMBINING_MARKS}]")
NON_LATIN_LETTER = re.compile(rf"[{GREEK_CYRILLIC}]")
