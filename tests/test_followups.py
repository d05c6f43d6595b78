"""Follow-up questions read with the conversation (service/followups.py), with the real index's tokenizer and
lexicon: substitutions, references back, questions that change the subject, chains of three turns."""

from __future__ import annotations

import pytest

from helpers import SEOUL
from service.conversation import ask_in_conversation
from service.followups import resolve_with

VENUE = "第一届全球人工智能安全峰会在哪里举行？"
THEME = "安全、创新、包容"


@pytest.fixture(scope="module")
def backend(retriever):
    return retriever.backend


def test_without_history_a_question_is_asked_as_it_is(backend) -> None:
    for question in ("那第二届呢？", "它什么时候生效？", VENUE):
        resolved = resolve_with(backend, question, [])
        assert resolved.question == question and not resolved.changed and resolved.carried == ()


def test_a_substitution_keeps_the_previous_question(backend) -> None:
    resolved = resolve_with(backend, "那第二届呢？", [VENUE])
    assert resolved.question.startswith("第二届全球人工智能安全峰会在哪里举行")
    assert resolved.replaced == ("第一届",) and "峰会" in resolved.carried
    places = resolve_with(backend, "那日本呢？", ["韩国的人工智能安全研究所是哪一年设立的？"])
    assert places.question.startswith("日本的人工智能安全研究所") and places.replaced == ("韩国",)


def test_an_english_substitution_uses_the_lexicon(backend) -> None:
    resolved = resolve_with(backend, "What about the UK?", ["美国在人工智能安全方面的立场是什么？"])
    assert "英国" in resolved.question and "美国" not in resolved.question and resolved.replaced == ("美国",)


def test_a_reference_back_gains_the_previous_subject_not_its_predicate(backend) -> None:
    resolved = resolve_with(backend, "它何时生效？", ["科罗拉多州的人工智能法是哪位州长签署的？"])
    assert resolved.question.endswith("它何时生效？")
    assert "科罗拉多州" in resolved.carried and "州长" not in resolved.carried and "签署" not in resolved.carried
    pointed = resolve_with(backend, "按照这部法案，罚款最高能罚多少？", ["巴西参议院是哪一天通过人工智能法案的？"])
    assert any("法" in t for t in pointed.carried)


def test_a_question_that_changes_the_subject_is_not_changed(backend) -> None:
    for previous, question in [("首尔峰会的主题是什么？", "中国派哪位官员率团参加首届人工智能安全峰会？"), ("布莱切利宣言说了什么？", VENUE)]:
        assert not resolve_with(backend, question, [previous]).changed


def test_a_chain_of_three_turns(backend) -> None:
    resolved = resolve_with(backend, "那第三届呢？", [VENUE, "那第二届呢？"])
    assert resolved.question.startswith("第三届全球人工智能安全峰会在哪里举行")


def test_a_reference_back_is_answered_within_the_previous_questions_documents(asker) -> None:
    question, history = "它的主题是什么？", ["首尔峰会最终产出了哪三份文件？"]
    alone = asker.ask(question)
    answered, resolved = ask_in_conversation(asker, question, history)
    assert resolved.documents == (SEOUL,) and resolved.question == question
    assert answered.answer is not None and any(THEME in s.sentence.text for s in answered.answer.sentences)
    assert alone.answer is None or not any(THEME in s.sentence.text for s in alone.answer.sentences)
    assert all(p.doc_id in resolved.documents for p in answered.passages)
