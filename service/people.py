"""The people of an index's bylines: each author line's keyword tokens and names, each name with the author
lines that carry it, and what a question says about them. Built once per index version, when the index is
opened, from the chunks' authors and the index's tokenizer."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from index.lang.names import BYLINE_SEPARATORS, CAPITALIZED, DOTTED_NAME, LATIN_NAME, NAME_PART
from index.lang.scripts import HAN_CHAR
from index.normalize import normalize
from service.query import Query


def name_parts(author: str) -> tuple[str, ...]:
    """The name parts of an author line as the text writes them ("邓肯·卡斯-贝格斯", "Duncan", "Cass-Beggs")."""
    return tuple(n for n in BYLINE_SEPARATORS.split(normalize(author)) if len(n) >= 2 and NAME_PART.fullmatch(n))


def person_names(parts: tuple[str, ...], author: str) -> set[str]:
    """The names of an author line that name its people: its Chinese names, and each bracketed Latin
    name whole and by its family name (a given name such as "Daniel" names too many people)."""
    names = {part for part in parts if HAN_CHAR.search(part)}
    for group in LATIN_NAME.findall(author):
        words = group.split()
        names.add(" ".join(words))
        if len(words[-1]) >= 3:
            names.add(words[-1])
    return names


def names_in(name: str, question: str, tokens: set[str], capitalized: set[str]) -> bool:
    """Whether a question names this person: a Chinese name written or among its keywords, a Latin
    family name as one of its capitalized words, a whole Latin name as written."""
    if HAN_CHAR.search(name):
        return name in question or name in tokens
    return name in capitalized if " " not in name else name in question


@dataclass(frozen=True)
class People:
    """The bylines of one index version and the people they name."""

    authors: tuple[str, ...]  # each chunk's author line, "" when it has none, by chunk position
    tokens: Mapping[str, frozenset[str]]  # author line → its keyword tokens
    names: Mapping[str, tuple[str, ...]]  # author line → its name parts as written
    people: Mapping[str, frozenset[str]]  # name → the author lines that carry it
    dotted: Mapping[str, tuple[str, ...]]  # transliterated author name ("莉安托涅特·蔡") → its keyword tokens

    @classmethod
    def build(cls, authors: Sequence[str | None], tokenize: Callable[[str], list[str]]) -> People:
        """The people of the given chunk authors (by chunk position), with keyword tokens cut by `tokenize`.

        A name is a Chinese name of a byline or, of a bracketed Latin name ("(Elizabeth Seger)"), the whole
        and the family name, not the given name. Transliterated names get their own tokens: names without
        "·" are in the tokenizer's dictionary and cut whole anyway."""
        lines = sorted({a for a in authors if a})
        names = {a: name_parts(a) for a in lines}
        found: dict[str, set[str]] = {}
        for author in lines:
            for name in sorted(person_names(names[author], normalize(author))):
                found.setdefault(name, set()).add(author)
        people = {name: frozenset(carrying) for name, carrying in found.items()}
        dotted = sorted({d for name in people for d in DOTTED_NAME.findall(name)})
        return cls(
            authors=tuple(a or "" for a in authors),
            tokens=MappingProxyType({a: frozenset(tokenize(a)) for a in lines}),
            names=MappingProxyType(names),
            people=MappingProxyType(people),
            dotted=MappingProxyType({d: tuple(tokenize(d)) for d in dotted}),
        )

    def byline_tokens(self, position: int) -> frozenset[str]:
        """The keyword tokens of a chunk's author line (empty when it has none)."""
        return self.tokens.get(self.authors[position], frozenset())

    def byline_names(self, position: int) -> tuple[str, ...]:
        """A chunk's author names as the text writes them ("邓肯·卡斯-贝格斯", "Duncan Cass-Beggs")."""
        return self.names.get(self.authors[position], ())

    def with_author_names(self, query: Query) -> Query:
        """A question naming an author gets the name's own tokens: the segmenter may join a name's last
        part to the next word ("莉安托涅特·蔡向联合国" gives 蔡向, and the byline has 蔡)."""
        added = tuple(dict.fromkeys(
            t for name, tokens in self.dotted.items() if name in query.normalized
            for t in tokens if t not in query.tokens
        ))
        return replace(query, tokens=query.tokens + added) if added else query

    def named_in(self, query: Query) -> tuple[str, ...]:
        """The byline names a question uses: a Chinese name written or translated into its keywords
        ("Liao Lu" → 廖璐), a Latin family name as a capitalized word past the first ("What does Seger
        argue"), or a whole Latin name."""
        latin = set(CAPITALIZED.findall(query.normalized)[1:])
        tokens = set(query.tokens) - set(query.expanded)  # a corpus word standing in for another names no one
        return tuple(name for name in self.people if names_in(name, query.normalized, tokens, latin))

    def authors_of(self, names: tuple[str, ...]) -> frozenset[str]:
        """The author lines that carry one of these names."""
        return frozenset(a for name in names for a in self.people[name])

    def without_names(self, query: Query, names: tuple[str, ...]) -> Query:
        """The query without the keywords of these people's bylines: once the passages by or about them rank
        first, the name only favours the shortest of them (BM25 weighs a word by the passage's length)."""
        if not names:
            return query
        spoken = frozenset(t for author in self.authors_of(names) for t in self.tokens[author])
        return replace(query, tokens=tuple(t for t in query.tokens if t not in spoken))

    def about(self, names: tuple[str, ...], text_of: Callable[[int], str]) -> Callable[[int], bool]:
        """Whether a chunk (by position; `text_of` gives its text) is by one of these people (its byline) or
        names one of them in its text."""
        authors = self.authors_of(names)
        return lambda position: self.authors[position] in authors or any(n in text_of(position) for n in names)
