"""Finding passages for a question: dense and keyword candidates, fused, re-ranked with sentence evidence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from index.backend import ChunkRecord, SearchBackend, SentenceRecord
from index.cleaning import is_caption
from index.embedding import Embedder
from index.normalize import normalize
from service.answer_types import answer_pattern
from service.expansion import WordNeighbours
from service.fusion import reciprocal_rank_fusion
from service.query import Query, parse_query
from service.ranking import Candidate, ScoredSentence, Weights, score_candidates
from service.settings import Mode, Settings

EVIDENCE_PER_PASSAGE = 3
BYLINE_SEPARATORS = re.compile(r"[(),，、;；\s]+")
# A part of a byline that names someone: Chinese characters, or a capitalized Latin word ("Cass-Beggs",
# not "from" or "The" of "The following article is from …").
NAME_PART = re.compile(r".*[\u4e00-\u9fff].*|[A-Z][A-Za-z'\-]{3,}")
# A transliterated name: its parts joined by "·", which the segmenter never crosses.
DOTTED_NAME = re.compile(r"[\u4e00-\u9fff]+(?:·[\u4e00-\u9fff]+)+")
HAN = re.compile(r"[\u4e00-\u9fff]")
# A Latin name in brackets after its Chinese form: "伊丽莎白·西格(Elizabeth Seger)".
LATIN_NAME = re.compile(r"\(\s*([A-Z][^()\u4e00-\u9fff,;]*?)\s*\)")


@dataclass(frozen=True)
class Evidence:
    """A sentence of a passage that bears on the question; its offsets are the document's."""

    sentence: SentenceRecord
    score: float


@dataclass(frozen=True)
class Passage:
    """A ranked passage with its citation (document, section, exact offsets) and its evidence."""

    rank: int
    position: int
    chunk: ChunkRecord
    score: float
    title: str
    evidence: tuple[Evidence, ...] = ()
    url: str | None = None

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass(frozen=True)
class Retrieval:
    """Everything one search produced: the parsed question, every scored candidate, the passages returned."""

    query: Query
    candidates: list[Candidate]
    passages: list[Passage]
    vector: np.ndarray | None = None  # the question's embedding (None in keyword mode)


def favour_answer_type(candidates: list[Candidate], pattern: re.Pattern[str] | None, chunks: list[ChunkRecord], bonus: float) -> list[Candidate]:
    """The passages that hold what the question's kind asks for (a time, a count) gain `bonus`; the
    order is then by score again. A "when" question's answer names a time, its near misses often none."""
    if pattern is None or not bonus:
        return candidates
    raised = [replace(c, score=c.score + bonus) if pattern.search(chunks[c.position].embed_text) else c for c in candidates]
    return sorted(raised, key=lambda c: -c.score)


def diversify(candidates: list[Candidate], k: int, margin: float) -> list[Candidate]:
    """When the top k all come from one document, give the last place to the best passage of
    another document that scores within `margin` of the k-th."""
    top = candidates[:k]
    if k < 2 or len(top) < k or len({c.doc for c in top}) > 1:
        return top
    other = next((c for c in candidates[k:] if c.doc != top[0].doc), None)
    if other is None or other.score < top[-1].score - margin:
        return top
    return top[:-1] + [other]


def person_names(parts: tuple[str, ...], author: str) -> set[str]:
    """The names of an author line that name its people: its Chinese names, and each bracketed Latin
    name whole and by its family name (a given name such as "Daniel" names too many people)."""
    names = {part for part in parts if HAN.search(part)}
    for group in LATIN_NAME.findall(author):
        words = group.split()
        names.add(" ".join(words))
        if len(words[-1]) >= 3:
            names.add(words[-1])
    return names


def names_in(name: str, question: str, tokens: set[str], capitalized: set[str]) -> bool:
    """Whether a question names this person: a Chinese name written or among its keywords, a Latin
    family name as one of its capitalized words, a whole Latin name as written."""
    if HAN.search(name):
        return name in question or name in tokens
    return name in capitalized if " " not in name else name in question


def people_first(candidates: list[Candidate], about: Callable[[int], bool]) -> list[Candidate]:
    """The candidates by or about the people a question names, ahead of the rest; each group keeps its order."""
    return sorted(candidates, key=lambda c: not about(c.position))


def evidence_of(candidate: Candidate, margin: float) -> list[ScoredSentence]:
    """The passage's best sentence, and the next ones that score nearly as well."""
    best, *rest = candidate.sentences
    return [best] + [s for s in rest[: EVIDENCE_PER_PASSAGE - 1] if s.score >= best.score - margin and s.score > 0]


class Retriever:
    """Search over one loaded index with one embedding model."""

    def __init__(self, backend: SearchBackend, embedder: Embedder, settings: Settings) -> None:
        self.backend = backend
        self.embedder = embedder
        self.settings = settings
        self.weights = Weights(settings.weight_dense, settings.weight_keyword, settings.weight_sentence_dense, settings.weight_sentence_keyword)
        self._bylines: dict[str, frozenset[str]] = {}
        self._names: dict[str, tuple[str, ...]] = {}
        self.neighbours = WordNeighbours(backend, embedder, settings.expand_threshold, settings.expand_words)

    def byline_tokens(self, position: int) -> frozenset[str]:
        """The keyword tokens of a chunk's author line (empty when it has none), cut once per author."""
        return self.author_tokens(self.backend.chunks[position].author or "")

    def author_tokens(self, author: str) -> frozenset[str]:
        if author not in self._bylines:
            self._bylines[author] = frozenset(self.backend.tokenize(author)) if author else frozenset()
        return self._bylines[author]

    def byline_names(self, position: int) -> tuple[str, ...]:
        """A chunk's author names as the text writes them ("邓肯·卡斯-贝格斯", "Duncan Cass-Beggs")."""
        return self.names_of(self.backend.chunks[position].author or "")

    def names_of(self, author: str) -> tuple[str, ...]:
        """The name parts of an author line, cut once per author."""
        if author not in self._names:
            self._names[author] = tuple(n for n in BYLINE_SEPARATORS.split(normalize(author)) if len(n) >= 2 and NAME_PART.fullmatch(n))
        return self._names[author]

    @cached_property
    def author_names(self) -> dict[str, tuple[str, ...]]:
        """Each transliterated author name of the index's bylines ("莉安托涅特·蔡") with its keyword tokens
        (names without "·" are in the tokenizer's dictionary and cut whole anyway)."""
        names = {dotted for name in self.people for dotted in DOTTED_NAME.findall(name)}
        return {n: tuple(self.backend.tokenize(n)) for n in sorted(names)}

    def with_author_names(self, query: Query) -> Query:
        """A question naming an author gets the name's own tokens: the segmenter may join a name's last
        part to the next word ("莉安托涅特·蔡向联合国" gives 蔡向, and the byline has 蔡)."""
        added = tuple(dict.fromkeys(
            t for name, tokens in self.author_names.items() if name in query.normalized for t in tokens if t not in query.tokens
        ))
        return replace(query, tokens=query.tokens + added) if added else query

    @cached_property
    def people(self) -> dict[str, frozenset[str]]:
        """Each name the index's bylines carry → the author lines that carry it: the Chinese names, and
        of a bracketed Latin name ("(Elizabeth Seger)") the whole and the family name, not the given name."""
        found: dict[str, set[str]] = {}
        for author in sorted({c.author for c in self.backend.chunks if c.author}):
            for name in sorted(person_names(self.names_of(author), normalize(author))):
                found.setdefault(name, set()).add(author)
        return {name: frozenset(authors) for name, authors in found.items()}

    def named_people(self, query: Query) -> tuple[str, ...]:
        """The byline names a question uses: a Chinese name written or translated into its keywords
        ("Liao Lu" → 廖璐), a Latin family name as a capitalized word past the first ("What does Seger
        argue"), or a whole Latin name."""
        latin = set(re.findall(r"[A-Z][A-Za-z'\-]+", query.normalized)[1:])
        tokens = set(query.tokens) - set(query.expanded)  # a corpus word standing in for another names no one
        return tuple(name for name in self.people if names_in(name, query.normalized, tokens, latin))

    def authors_of(self, names: tuple[str, ...]) -> frozenset[str]:
        """The author lines that carry one of these names."""
        return frozenset(a for name in names for a in self.people[name])

    def by_people(self, names: tuple[str, ...]) -> Callable[[int], bool]:
        """Whether a chunk's byline carries one of these names."""
        authors, chunks = self.authors_of(names), self.backend.chunks
        return lambda position: chunks[position].author in authors

    def without_names(self, query: Query, names: tuple[str, ...]) -> Query:
        """The query without the keywords of these people's bylines: once the passages by or about them rank
        first, the name only favours the shortest of them (BM25 weighs a word by the passage's length)."""
        if not names:
            return query
        spoken = frozenset(t for author in self.authors_of(names) for t in self.author_tokens(author))
        return replace(query, tokens=tuple(t for t in query.tokens if t not in spoken))

    def about_people(self, names: tuple[str, ...]) -> Callable[[int], bool]:
        """Whether a chunk is by one of these people (its byline) or names one of them in its text."""
        by, chunks = self.by_people(names), self.backend.chunks
        return lambda position: by(position) or any(n in chunks[position].embed_text for n in names)

    def embed_query(self, question: str) -> np.ndarray:
        return self.embedder.encode_query(question)

    def candidates(self, query: Query, vector: np.ndarray | None, mode: Mode, doc_ids: frozenset[str] | None) -> list[Candidate]:
        """Chunks found by either retriever, scored and ordered by the configured fusion."""
        depth = self.settings.candidates
        dense = self.backend.dense(vector, depth, doc_ids) if vector is not None else []
        keyword = self.backend.keyword(list(query.tokens), depth, doc_ids) if mode != "dense" else []
        positions = list(dict.fromkeys([h.chunk for h in dense] + [h.chunk for h in keyword]))
        named = self.named_people(query)
        scored = score_candidates(
            self.backend, self.without_names(query, named), vector, positions, self.weights.for_mode(mode), self.byline_tokens,
            self.byline_names,
        )
        scored = favour_answer_type(scored, answer_pattern(query), self.backend.chunks, self.settings.weight_answer_type)
        if self.settings.fusion == "rrf" and mode == "hybrid":  # rank fusion: the scores do not order
            order = reciprocal_rank_fusion([[h.chunk for h in dense], [h.chunk for h in keyword]], k=self.settings.rrf_k)
            by_position = {c.position: c for c in scored}
            scored = [by_position[p] for p, _ in order]
        return people_first(scored, self.about_people(named)) if named else scored

    def retrieve(self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None) -> Retrieval:
        k = k or self.settings.top_k
        mode = mode or self.settings.mode
        query = parse_query(question, self.backend.tokenize, self.backend.translate, self.backend.spellings)
        if not query.normalized.strip():  # nothing visible is left to search for
            return Retrieval(query, [], [])
        vector = self.embed_query(query.normalized) if mode != "keyword" else None
        if mode != "dense":  # after the question's vector: both model runs back to back are faster
            query = self.neighbours.expand(self.with_author_names(query))
        scored = self.candidates(query, vector, mode, doc_ids)
        chosen = diversify(scored, k, self.settings.diversity_margin)
        passages = [self.passage(rank, c) for rank, c in enumerate(chosen, start=1)]
        return Retrieval(query, scored, passages, vector)

    def passage(self, rank: int, candidate: Candidate) -> Passage:
        chunk = self.backend.chunks[candidate.position]
        sentences = tuple(s for s in candidate.sentences if not is_caption(self.backend.sentences[s.position].embed_text))
        shown = replace(candidate, sentences=sentences)
        evidence = tuple(
            Evidence(self.backend.sentences[s.position], s.score) for s in evidence_of(shown, self.settings.evidence_margin)
        ) if sentences else ()
        meta = self.backend.documents[chunk.doc_id]
        return Passage(rank, candidate.position, chunk, candidate.score, meta.title, evidence, meta.url)

    def search(self, question: str, k: int | None = None, mode: Mode | None = None, doc_ids: frozenset[str] | None = None) -> list[Passage]:
        return self.retrieve(question, k, mode, doc_ids).passages
