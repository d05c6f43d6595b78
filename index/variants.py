"""Name variants mined from the corpus: two spellings of one foreign name, linked at build time.

Transliterations differ between documents (布莱切利 / 布莱奇利 for Bletchley). The evidence comes
from the corpus alone: the same role with one sound changed. Two keyword tokens that share an affix
which is a word of its own (…宣言, …峰会) and whose remaining cores, three characters or more, differ
in a single character that reads nearly alike (切 qie / 奇 qi) are two spellings of one name. Short
cores and differing affixes are left alone, so ordinary words that differ by a character
(可行性 / 可信性, 研究院 / 研究员) are never linked.

The cores join the keyword tokenizer's dictionary, so each spelling is one token wherever it stands,
and a question's keyword side gains the other spellings of its tokens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations

from index.lang.scripts import HAN_ONLY

MIN_CORE = 3
MIN_AFFIX = 2


def reading(character: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(character, style=Style.NORMAL)[0]


def sounds_alike(a: str, b: str) -> bool:
    """Toneless readings that differ by at most one letter (qi / qie, li / lie)."""
    x, y = reading(a), reading(b)
    if x == y:
        return True
    if abs(len(x) - len(y)) > 1:
        return False
    if len(x) == len(y):
        return sum(p != q for p, q in zip(x, y)) <= 1
    short, long = sorted((x, y), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def cores(a: str, b: str, vocabulary: set[str]) -> tuple[str, str] | None:
    """The differing cores of two same-length tokens that share a word as prefix or suffix, when
    the cores differ in one similar-sounding character; else None."""
    diff = [i for i, (p, q) in enumerate(zip(a, b)) if p != q]
    if len(diff) != 1 or not sounds_alike(a[diff[0]], b[diff[0]]):
        return None
    i = diff[0]
    for cut in range(len(a) - MIN_AFFIX, MIN_CORE - 1, -1):  # shared suffix a[cut:]
        if cut > i and a[cut:] in vocabulary and cut >= MIN_CORE:
            return a[:cut], b[:cut]
    for cut in range(MIN_AFFIX, len(a) - MIN_CORE + 1):  # shared prefix a[:cut]
        if cut <= i and a[:cut] in vocabulary:
            return a[cut:], b[cut:]
    return None


def sound_variants(vocabulary: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of cores from tokens that differ in one similar-sounding character and share an affix word."""
    words = {t for t in vocabulary if HAN_ONLY.match(t)}
    buckets: dict[tuple[int, str], list[str]] = defaultdict(list)
    for token in words:
        if len(token) >= MIN_CORE + MIN_AFFIX:
            for i in range(len(token)):
                buckets[(i, token[:i] + "\0" + token[i + 1:])].append(token)
    found = set()
    for group in buckets.values():
        for a, b in combinations(sorted(group), 2):
            pair = cores(a, b, words)
            if pair:
                found.add(tuple(sorted(pair)))
    return sorted(found)


def variant_map(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Each spelling → its other spellings (both directions)."""
    linked: dict[str, set[str]] = defaultdict(set)
    for a, b in pairs:
        linked[a].add(b)
        linked[b].add(a)
    return {k: sorted(v) for k, v in sorted(linked.items())}
