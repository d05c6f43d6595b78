"""The people table of an index's bylines (service/people.py), on a few author lines of known shape."""

from __future__ import annotations

import pytest

from index.tokenizing import KeywordTokenizer
from service.people import People
from service.query import parse_query

AUTHORS = [
    "邓肯·卡斯-贝格斯(Duncan Cass-Beggs)", None, "廖璐", "邓肯·卡斯-贝格斯(Duncan Cass-Beggs)", "Daniel Privitera",
]


@pytest.fixture(scope="module")
def tokenizer() -> KeywordTokenizer:
    return KeywordTokenizer()


@pytest.fixture(scope="module")
def people(tokenizer: KeywordTokenizer) -> People:
    return People.build(AUTHORS, tokenizer.tokenize)


def test_each_chunk_has_its_bylines_names_and_tokens(people: People) -> None:
    assert people.byline_names(0) == ("邓肯·卡斯-贝格斯", "Duncan", "Cass-Beggs")
    assert people.byline_names(1) == () and people.byline_tokens(1) == frozenset()
    assert people.byline_tokens(2) and people.byline_tokens(0) == people.byline_tokens(3)


def test_a_latin_name_counts_whole_and_by_family_name_not_by_given_name(people: People) -> None:
    assert {"邓肯·卡斯-贝格斯", "Duncan Cass-Beggs", "Cass-Beggs", "廖璐"} <= set(people.people)
    assert "Duncan" not in people.people
    assert "Daniel" not in people.people  # an unbracketed Latin byline names no one by itself
    assert people.authors_of(("Cass-Beggs",)) == frozenset({AUTHORS[0]})


def test_a_question_names_a_person_by_a_chinese_name_or_a_capitalized_family_name(
    people: People, tokenizer: KeywordTokenizer,
) -> None:
    assert people.named_in(parse_query("廖璐认为什么？", tokenizer.tokenize)) == ("廖璐",)
    assert "Cass-Beggs" in people.named_in(parse_query("What does Cass-Beggs argue?", tokenizer.tokenize))
    assert people.named_in(parse_query("What does Duncan Smith argue?", tokenizer.tokenize)) == ()


def test_by_or_about_a_person(people: People) -> None:
    texts = ["", "廖璐在会上说", "", "", "无关的文字"]
    about = people.about(("廖璐",), texts.__getitem__)
    assert [about(p) for p in range(len(AUTHORS))] == [False, True, True, False, False]


def test_a_named_persons_byline_words_leave_the_query(people: People, tokenizer: KeywordTokenizer) -> None:
    query = parse_query("廖璐认为发展中国家应当怎样参与治理？", tokenizer.tokenize)
    stripped = people.without_names(query, ("廖璐",))
    assert "廖璐" in query.tokens and "廖璐" not in stripped.tokens and "治理" in stripped.tokens
    assert people.without_names(query, ()) == query


def test_a_transliterated_name_gets_its_own_tokens(people: People, tokenizer: KeywordTokenizer) -> None:
    assert "邓肯·卡斯" in people.dotted
    query = parse_query("邓肯·卡斯向联合国提出了什么？", tokenizer.tokenize)
    named = people.with_author_names(query)
    assert set(people.dotted["邓肯·卡斯"]) <= set(named.tokens) and named.tokens[: len(query.tokens)] == query.tokens
