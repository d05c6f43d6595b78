"""Unknown question words reach the keyword side through the corpus words nearest in meaning."""

from __future__ import annotations

import numpy as np

from index.vocabulary import Vocabulary, vocabulary_words
from service.expansion import WordNeighbours
from service.pipeline import search
from service.query import parse_query
from service.retrieval import Retriever


def test_vocabulary_keeps_han_words_and_finds_the_nearest_above_a_threshold() -> None:
    assert vocabulary_words(["峰会", "的", "AI", "首尔峰会", "峰会", "2024年"]) == ["峰会", "首尔峰会"]
    words = Vocabulary(["甲乙", "丙丁", "戊己"], np.eye(3, dtype=np.float32))
    query = np.array([[0.8, 0.6, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    assert words.nearest(query, 0.5, 2) == [["甲乙", "丙丁"], ["戊己"]]
    assert words.nearest(query, 0.7, 2) == [["甲乙"], ["戊己"]]
    assert words.nearest(query, 0.5, 1) == [["甲乙"], ["戊己"]]
    assert Vocabulary([], np.zeros((0, 1))).nearest(query, 0.5, 2) == [[], []]


def test_built_index_stores_a_vector_for_each_corpus_word(retriever: Retriever) -> None:
    vocabulary = retriever.backend._vocabulary
    assert (
        len(vocabulary.words) > 1000
        and vocabulary.vectors.shape == (len(vocabulary.words), retriever.embedder.dimension)
    )
    assert all(retriever.backend.knows(w) for w in vocabulary.words[:200])
    assert np.allclose(np.linalg.norm(vocabulary.vectors[:50], axis=1), 1.0, atol=1e-2)


def test_an_unknown_word_brings_in_its_corpus_synonym(retriever: Retriever) -> None:
    """The documents say 核武器, never 核弹."""
    backend = retriever.backend
    assert not backend.knows("核弹") and backend.knows("核武器")
    query = retriever.neighbours.expand(parse_query("美国把防止核弹被擅自引爆的装置告诉了谁？", backend.tokenize))
    assert "核武器" in query.expanded and set(query.expanded) <= set(query.tokens)
    assert any("核武器" in p.chunk.text for p in search(retriever, "美国把防止核弹被擅自引爆的装置告诉了谁？", 5))


def test_known_words_are_left_alone_and_a_threshold_above_one_turns_it_off(retriever: Retriever) -> None:
    backend = retriever.backend
    plain = parse_query("首尔峰会的主题是什么？", backend.tokenize)
    assert retriever.neighbours.expand(plain) == plain
    off = WordNeighbours(backend, retriever.embedder, threshold=1.5, per_word=2)
    unknown = parse_query("美国把防止核弹被擅自引爆的装置告诉了谁？", backend.tokenize)
    assert off.expand(unknown) == unknown


def test_a_question_naming_an_author_gets_the_names_own_tokens(retriever: Retriever) -> None:
    """jieba cuts "莉安托涅特·蔡向联合国" into …蔡向…; the byline holds 莉安托涅特·蔡."""
    backend = retriever.backend
    query = parse_query("莉安托涅特·蔡向联合国提交的计划提出了什么？", backend.tokenize)
    assert "蔡" not in query.tokens and "莉安托涅特·蔡" in retriever.people.dotted
    named = retriever.people.with_author_names(query)
    assert "蔡" in named.tokens and named.tokens[: len(query.tokens)] == query.tokens
    plain = parse_query("首尔峰会的主题是什么？", backend.tokenize)
    assert retriever.people.with_author_names(plain) == plain
