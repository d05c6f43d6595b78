"""The language tables of index/lang: the character classes take the characters they are meant for and no
others, no other module writes a Han range of its own, and the word tables hold each entry once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.lang import en, patterns, scripts, zh

ROOT = Path(__file__).resolve().parent.parent

BASIC = "中"  # U+4E2D, CJK Unified Ideographs
EXT_A = "㐀"  # U+3400, Extension A
COMPAT = "\uf900"  # 豈, a CJK Compatibility Ideograph
EXT_B = "\U00020000"  # 𠀀, Extension B
KANGXI = "\u2f08"  # ⼈, the Kangxi radical for 人
KANA = "あ"
LATIN = "a"
FULLWIDTH_COMMA = "，"  # U+FF0C
IDEOGRAPHIC_STOP = "。"  # U+3002


def accepts(klass: str, ch: str) -> bool:
    return bool(re.fullmatch(f"[{klass}]", ch))


@pytest.mark.parametrize(
    ("ch", "basic", "word", "wide", "any_plane"),
    [
        (BASIC, True, True, True, True),
        (EXT_A, False, True, True, True),
        (COMPAT, False, False, True, True),
        (EXT_B, False, False, False, True),
        (KANGXI, False, False, False, False),
        (KANA, False, False, False, False),
        (LATIN, False, False, False, False),
        (FULLWIDTH_COMMA, False, False, False, False),
    ],
)
def test_han_classes_reach_as_named(ch: str, basic: bool, word: bool, wide: bool, any_plane: bool) -> None:
    assert accepts(scripts.HAN_BASIC, ch) is basic
    assert accepts(scripts.HAN_WORD, ch) is word
    assert accepts(scripts.HAN_WIDE, ch) is wide
    assert accepts(scripts.HAN_ANY, ch) is any_plane
    assert bool(scripts.HAN_CHAR.fullmatch(ch)) is basic
    assert bool(scripts.WIDE_HAN_CHAR.fullmatch(ch)) is wide
    assert bool(scripts.ANY_HAN_CHAR.fullmatch(ch)) is any_plane


def test_han_words_and_tokens() -> None:
    assert scripts.HAN_RUN.fullmatch(BASIC + EXT_A)
    assert not scripts.HAN_RUN.fullmatch(BASIC)  # one character is no word
    assert not scripts.HAN_RUN.fullmatch(BASIC + COMPAT)
    assert scripts.HAN_ONLY.match("人工智能") and not scripts.HAN_ONLY.match("人工智能AI")


@pytest.mark.parametrize("ch", [BASIC, EXT_A, COMPAT, FULLWIDTH_COMMA, IDEOGRAPHIC_STOP])
def test_cjk_text_takes_han_and_its_punctuation(ch: str) -> None:
    assert accepts(scripts.CJK_TEXT, ch)
    assert scripts.SPACE_BETWEEN_CJK.search(f"{BASIC} {ch}")


@pytest.mark.parametrize("ch", [KANA, KANGXI, LATIN, EXT_B])
def test_cjk_text_leaves_other_scripts(ch: str) -> None:
    assert not accepts(scripts.CJK_TEXT, ch)
    assert not scripts.SPACE_BETWEEN_CJK.search(f"{BASIC} {ch}")


@pytest.mark.parametrize(("ch", "wide"), [(KANGXI, True), (KANA, True), (BASIC, True), (COMPAT, True),
                                          (FULLWIDTH_COMMA, True), (LATIN, False), (EXT_B, False)])
def test_line_joining_boundary_is_any_wide_east_asian_character(ch: str, wide: bool) -> None:
    assert bool(scripts.CJK_BOUNDARY.match(ch)) is wide


def test_latin_classes() -> None:
    assert scripts.LATIN_WORD.findall("ASL-4 of the EU") == ["ASL", "of", "the", "EU"]
    assert scripts.LATIN_TOKEN.findall("ASL-4 G20") == ["ASL-4", "G20"]
    assert scripts.LATIN_LETTER.match("é") and not scripts.LATIN_LETTER.match("е")  # Cyrillic е
    assert scripts.NON_LATIN_LETTER.match("е") and not scripts.NON_LATIN_LETTER.match(BASIC)


# What a Han range looks like in source: an escape of the first or last code point of a Han block, or a
# range written with the characters themselves.
HAN_RANGE = re.compile(r"\\u(?:4e00|9fff|9fa5|3400|4dbf|f900|faff)|\\U00020000|[一㐀豈]-")


def test_no_module_defines_its_own_han_range() -> None:
    offenders = []
    for package in ("index", "service"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name.startswith("index/lang/"):
                continue
            offenders += [
                f"{name}:{n}"
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if HAN_RANGE.search(line)
            ]
    assert offenders == []


def tables(module: object) -> list[tuple[str, tuple[str, ...]]]:
    """Every word table of a language module: its tuples, and the tuples inside its dicts."""
    found = []
    for name, value in vars(module).items():
        if not name.isupper():
            continue
        if isinstance(value, tuple):
            found.append((name, value))
        elif isinstance(value, dict):
            found += [(f"{name}[{key}]", v) for key, v in value.items() if isinstance(v, tuple)]
            found.append((f"{name} keys", tuple(value)))
    return found


@pytest.mark.parametrize("module", [zh, en], ids=["zh", "en"])
def test_word_tables_hold_each_entry_once(module: object) -> None:
    found = tables(module)
    assert len(found) >= 5
    repeated = {
        name: sorted({w for w in table if table.count(w) > 1}) for name, table in found if len(set(table)) != len(table)
    }
    assert repeated == {}


@pytest.mark.parametrize(
    "name", ["CLASSIFIERS", "COUNTED", "HEADING_NUMERALS", "NUMERAL_CHARS", "COUNT_UNITS", "FOCUS_STOPS"],
)
def test_character_sets_hold_each_character_once(name: str) -> None:
    chars = getattr(zh, name)
    assert len(set(chars)) == len(chars)


def test_kind_cues_cover_the_same_kinds_in_both_languages() -> None:
    assert set(zh.KIND_CUES) == set(en.KIND_CUES)
    assert set(zh.GRAIN_CUES) == set(en.GRAIN_CUES)


def test_cues_combine_both_languages() -> None:
    assert patterns.SCAFFOLDING.sub(" ", "请问 What is 峰会").split() == ["峰会"]
    assert patterns.TIME_CUE.search("峰会何时举行") and patterns.TIME_CUE.search("When was the summit held")
    assert not patterns.TIME_CUE.search("峰会在哪里举行")
    assert (
        patterns.KIND_CUES["org"].search("Which agency leads it") and patterns.KIND_CUES["org"].search("哪个机构牵头")
    )


def test_the_two_answer_tables_differ_only_for_a_bare_count() -> None:
    """Abstention takes a count in Chinese numerals as an answer to "how many"; ranking favours digits only."""
    assert patterns.ANSWER_SHAPES["number"].search("共有三家企业")
    assert not patterns.FAVOURED_SHAPES["number"].search("共有三家企业")
    assert patterns.FAVOURED_SHAPES["number"].search("共有3家企业")
    assert {
        k for k in patterns.ANSWER_SHAPES if patterns.ANSWER_SHAPES[k] is not patterns.FAVOURED_SHAPES[k]
    } == {"number"}
