"""The shapes of people's names in bylines and text: how an author line separates its names, what a
part of a name looks like in Chinese and in Latin letters, and a Latin name bracketed after its Chinese form."""

from __future__ import annotations

import re

from index.lang.scripts import HAN_BASIC

# What separates the names of an author line: brackets, commas, enumeration commas, semicolons, spaces.
BYLINE_SEPARATORS = re.compile(r"[(),，、;；\s]+")
# What separates the names of a byline when mining them for the tokenizer's dictionary: commas and
# spaces, and a bracketed part (an affiliation or a Latin spelling) as a whole.
NAME_SPLIT = re.compile(r"[、，,\s]+|\([^)]*\)|（[^）]*）")
# A part of a byline that names someone: Chinese characters, or a capitalized Latin word of four letters
# or more ("Cass-Beggs", not "from" or "The" of "The following article is from …").
NAME_PART = re.compile(rf".*[{HAN_BASIC}].*|[A-Z][A-Za-z'\-]{{3,}}")
# A transliterated name: its parts joined by "·", which the segmenter never crosses ("伊丽莎白·西格").
DOTTED_NAME = re.compile(rf"[{HAN_BASIC}]+(?:·[{HAN_BASIC}]+)+")
# A Latin name in brackets after its Chinese form: "伊丽莎白·西格(Elizabeth Seger)".
LATIN_NAME = re.compile(rf"\(\s*([A-Z][^(){HAN_BASIC},;]*?)\s*\)")
# A capitalized Latin word (a question's way of naming someone: "What does Seger argue").
CAPITALIZED = re.compile(r"[A-Z][A-Za-z'\-]+")
# A line made only of Chinese names, each perhaps with a bracketed affiliation, separated by commas:
# a byline even when no prose follows it.
PERSON_NAMES = re.compile(rf"^([{HAN_BASIC}·・\-]{{2,16}}\s?(\([^()]{{2,60}}\))?\s*[、，,]?\s*)+$")
