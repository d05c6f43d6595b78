"""Search over the real index of the bundled corpus with the real model."""

from __future__ import annotations

import re
from types import SimpleNamespace

from helpers import SEOUL
from service.answer_types import answer_pattern
from service.fusion import reciprocal_rank_fusion
from service.pipeline import retrieve, search
from service.query import parse_query
from service.ranking import Candidate
from service.retrieval import favour_answer_type

BLETCHLEY_NEWS = "001_3760a4cddfae1401"
REPORT = "003_522f828de9b5a839"


def test_rrf_on_hand_made_rankings() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a"]], k=1)
    scores = dict(fused)
    assert scores["a"] == 1 / 2 + 1 / 3
    assert scores["c"] == 1 / 4 + 1 / 2
    assert scores["b"] == 1 / 3
    assert [item for item, _ in fused] == ["a", "c", "b"]


def test_rrf_weights() -> None:
    fused = reciprocal_rank_fusion([["a"], ["b"]], k=0, weights=[1.0, 2.0])
    assert fused == [("b", 2.0), ("a", 1.0)]


def test_keyword_mode_finds_a_rare_term(retriever) -> None:
    passages = search(retriever, "FakeCatcher", k=3, mode="keyword")
    assert passages and "FakeCatcher" in passages[0].chunk.text
    assert passages[0].doc_id == REPORT


def test_dense_mode_finds_a_paraphrased_question(retriever) -> None:
    # the document says: "于当地时间11月2日在二战期间英国的密码破译中心——布莱奇利园落下帷幕"
    passages = search(retriever, "第一次讨论AI安全的国际会议在哪个战时破解密码的地方结束？", k=5, mode="dense")
    assert any(p.doc_id == BLETCHLEY_NEWS and "密码破译中心" in p.chunk.text for p in passages)


def test_hybrid_search_puts_the_seoul_document_first(retriever) -> None:
    passages = search(retriever, "首尔峰会的主题是什么", k=5)
    assert passages[0].doc_id == SEOUL
    assert any("“安全、创新、包容”为主题" in p.chunk.text for p in passages)


def test_every_passage_is_an_exact_slice(retriever) -> None:
    for question in ["中美人工智能对话在哪里举行", "What did the Bletchley declaration say?", "粤港澳大湾区"]:
        for mode in ("hybrid", "dense", "keyword"):
            for p in search(retriever, question, k=10, mode=mode):
                assert retriever.backend.texts[p.doc_id][p.chunk.start:p.chunk.end] == p.chunk.text


def test_document_filter(retriever) -> None:
    passages = search(retriever, "人工智能治理", k=10, doc_ids=frozenset({REPORT}))
    assert passages and {p.doc_id for p in passages} == {REPORT}
    assert search(retriever, "人工智能治理", k=5, mode="keyword", doc_ids=frozenset({"no-such-doc"})) == []


def test_an_authors_own_name_lifts_no_single_sentence_of_the_essay(retriever) -> None:
    """A question naming an essay's author: the sentence that repeats the name (a biography line)
    earns nothing from it over the essay's other sentences, which match it through the byline."""
    from service.ranking import byline_mask, score_candidates
    from service.query import parse_query

    backend = retriever.backend
    chunk = next(c for c in backend.chunks if c.author and "(" in c.author)
    name = chunk.author.split("(")[0]
    naming = [
        i for i, s in enumerate(backend.sentences) if name in s.text and backend.chunks[s.chunk].author == chunk.author
    ]
    assert naming, "the corpus names the author in the essay"
    positions = sorted({backend.sentences[i].chunk for i in naming} | {backend.chunk_positions[chunk.chunk_id]})
    query = parse_query(f"{name}认为什么", backend.tokenize)
    name_tokens = [t for t in query.tokens if t in retriever.people.byline_tokens(positions[0])]
    assert name_tokens

    def sentence_score(bylines) -> dict[int, float]:  # noqa: ANN001
        scored = score_candidates(backend, query, None, positions, retriever.weights.for_mode("keyword"), bylines)
        return {s.position: s.score for c in scored for s in c.sentences}

    plain, masked = sentence_score(None), sentence_score(retriever.people.byline_tokens)
    assert all(plain[i] > min(plain.values()) for i in naming), "without bylines the naming sentences stand out"
    assert len(set(masked.values())) == 1, "with bylines no sentence gains from the author's name"
    mask = byline_mask(name_tokens + ["无关"], [frozenset(name_tokens), frozenset()], __import__("numpy").array([0, 1]))
    assert mask.tolist() == [[True, False]] * len(name_tokens) + [[False, False]]


def test_a_sentence_naming_its_own_author_is_marked_as_biography(retriever) -> None:
    import numpy as np

    from service.ranking import sentences_naming_their_author

    backend = retriever.backend
    bio = next(i for i, s in enumerate(backend.sentences) if "贝格斯 (Duncan Cass-Beggs)" in s.text)
    chunk = backend.sentences[bio].chunk
    assert "邓肯·卡斯-贝格斯" in retriever.people.byline_names(chunk)
    other = next(i for i, s in enumerate(backend.sentences) if s.chunk == chunk and i != bio and "贝格斯" not in s.text)
    marked = sentences_naming_their_author(backend, retriever.people.byline_names)
    assert marked[bio] and not marked[other]
    assert np.array_equal(marked, retriever.naming_author)
    authorless = [row for row, s in enumerate(backend.sentences) if not backend.chunks[s.chunk].author]
    assert authorless and not marked[authorless].any()


def test_people_first_keeps_each_groups_order() -> None:
    from service.ranking import Candidate
    from service.retrieval import people_first

    candidates = [Candidate(p, "d", float(-p), ()) for p in range(6)]
    ordered = people_first(candidates, lambda position: position in {2, 5})
    assert [c.position for c in ordered] == [2, 5, 0, 1, 3, 4]


def test_a_question_naming_an_author_finds_that_authors_passages_first(retriever) -> None:
    """Chinese names written in the question, Latin ones as capitalized words: the first passage is by that
    author (or names them), and every passage by or about them comes before any other."""
    backend = retriever.backend
    authors = sorted({c.author for c in backend.chunks if c.author and "(" in c.author})
    assert len(authors) >= 5
    for author in authors[:5]:
        chinese, latin = author.split("(")[0], author.split("(")[1].split(")")[0].split(",")[0]
        surname = latin.split()[-1]
        for question in (
            f"{chinese}认为发展中国家应当怎样参与治理？", f"What does {latin} argue about developing countries?",
        ):
            query = retrieve(retriever, question, k=3).query
            assert chinese in retriever.people.named_in(query) or surname in retriever.people.named_in(query), question
            about = [
                p.chunk.author == author or chinese in p.chunk.text or surname in p.chunk.text
                for p in search(retriever, question, k=5)
            ]
            assert about[0] and about == sorted(about, reverse=True), (question, about)


def test_a_corpus_word_standing_in_for_an_unknown_one_names_no_author(retriever) -> None:
    from dataclasses import replace

    query = retrieve(retriever, "人工智能治理的挑战是什么？", k=3).query
    # a Chinese name: those count as named when they are among the keywords (a Latin one must be written)
    author = next(
        name for name in retriever.people.people
        if re.search(r"^[\u4e00-\u9fff]{2,4}$", name) and name not in query.normalized
    )
    assert retriever.people.named_in(replace(query, tokens=query.tokens + (author,))) == (author,)
    assert retriever.people.named_in(replace(query, tokens=query.tokens + (author,), expanded=(author,))) == ()


def test_a_named_authors_own_name_leaves_the_ranking_to_the_rest_of_the_question(retriever) -> None:
    """Once the passages by a named author rank first, their byline's words are left out of the scoring
    (BM25 would only favour the shortest of them); the question's other words stay."""
    author = next(c.author for c in retriever.backend.chunks if c.author and "(" in c.author)
    chinese = author.split("(")[0]
    query = retrieve(retriever, f"{chinese}认为发展中国家应当怎样参与治理？", k=3).query
    named = retriever.people.named_in(query)
    stripped = retriever.people.without_names(query, named)
    byline = retriever.people.byline_tokens(
        next(i for i, c in enumerate(retriever.backend.chunks) if c.author == author)
    )
    assert byline & set(query.tokens) and not byline & set(stripped.tokens)
    assert {"发展中国家", "治理"} <= set(stripped.tokens)
    assert retriever.people.without_names(query, ()) == query


def test_a_given_name_alone_names_no_author(retriever) -> None:
    """"Daniel" of "Daniel Castro" is not the byline's "Daniel Privitera": a Latin name counts by its family
    name or whole, and a question naming someone else's family name keeps the plain ranking."""
    from index.lang.names import LATIN_NAME

    full = next(
        name for c in retriever.backend.chunks if c.author for name in LATIN_NAME.findall(c.author)
        if len(name.split()) == 2
    )
    given, family = full.split()
    assert retriever.people.named_in(
        retrieve(retriever, f"What does {given} Zhang argue about AI governance?", k=3).query
    ) == ()
    assert family in retriever.people.named_in(
        retrieve(retriever, f"What does {given} {family} argue about AI governance?", k=3).query
    )


def test_a_passage_holding_what_a_when_or_how_many_question_asks_for_gains() -> None:
    texts = ["倡议提出了中国方案。", "倡议为全球治理提出了11项主张。", "倡议于2023年10月发布。"]
    chunks = [SimpleNamespace(embed_text=t) for t in texts]
    candidates = [Candidate(i, "d", score, ()) for i, score in enumerate((3.0, 2.5, 2.2))]

    def order(question: str, bonus: float = 1.0) -> list[int]:
        query = parse_query(question, list)
        return [c.position for c in favour_answer_type(candidates, answer_pattern(query), chunks, bonus)]

    assert order("倡议一共提出了多少项主张？") == [1, 0, 2]  # "11项" counts in the asked measure word
    assert order("倡议是哪一年发布的？") == [2, 0, 1]
    assert order("倡议是哪一年发布的？", bonus=0.0) == [0, 1, 2]
    assert order("倡议提出了什么方案？") == [0, 1, 2]  # no kind of answer asked for: the order stands
