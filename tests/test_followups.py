"""Follow-up questions read with the conversation (service/followups.py), with the real index's tokenizer and
lexicon: substitutions, references back, questions that change the subject, chains of three turns."""

from __future__ import annotations

import pytest

from helpers import SEOUL
from service.conversation import ask_in_conversation, attempts
from service.followups import Resolved, resolve_with

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
    assert resolved.question.endswith("何时生效?") and "它" not in resolved.question and resolved.bare == "何时生效?"
    assert "科罗拉多州" in resolved.carried and "州长" not in resolved.carried and "签署" not in resolved.carried
    pointed = resolve_with(backend, "按照这部法案，罚款最高能罚多少？", ["巴西参议院是哪一天通过人工智能法案的？"])
    assert any("法" in t for t in pointed.carried)


def test_a_question_that_changes_the_subject_is_not_changed(backend) -> None:
    for previous, question in [
        ("首尔峰会的主题是什么？", "中国派哪位官员率团参加首届人工智能安全峰会？"),
        ("布莱切利宣言说了什么？", VENUE),
    ]:
        assert not resolve_with(backend, question, [previous]).changed


def test_a_chain_of_three_turns(backend) -> None:
    resolved = resolve_with(backend, "那第三届呢？", [VENUE, "那第二届呢？"])
    assert resolved.question.startswith("第三届全球人工智能安全峰会在哪里举行")


def test_a_reference_back_is_answered_within_the_previous_questions_documents(asker) -> None:
    question, history = "它的主题是什么？", ["首尔峰会最终产出了哪三份文件？"]
    alone = asker.ask(question)
    answered, resolved = ask_in_conversation(asker, question, history)
    # asked in its bare words there, or with the previous question's subject when those alone do not answer
    assert resolved.documents == (SEOUL,) and resolved.question.endswith("主题是什么?")
    assert set(resolved.carried) <= set(resolved.question.split())
    assert answered.answer is not None and any(THEME in s.sentence.text for s in answered.answer.sentences)
    assert alone.answer is None or not any(THEME in s.sentence.text for s in alone.answer.sentences)
    assert all(p.doc_id in resolved.documents for p in answered.passages)


def test_an_ordinal_written_out_replaces_the_previous_one(backend) -> None:
    resolved = resolve_with(backend, "那下一届呢？定在何时何地？", ["第二届人工智能安全峰会是在哪里召开的？"])
    assert resolved.question.startswith("下一届人工智能安全峰会") and resolved.question.endswith("定在何时何地?")
    assert resolved.replaced == ("第二届",) and "第二届" not in resolved.question


def test_a_substitution_naming_its_own_subject_replaces_the_whole_subject(backend) -> None:
    resolved = resolve_with(backend, "那Anthropic的RSP第一版呢？", ["OpenAI的准备框架测试版是什么时候发布的？"])
    assert resolved.question.startswith("Anthropic的RSP第一版") and "发布" in resolved.question
    assert "准备框架" not in resolved.question and "测试版" not in resolved.question and "openai" in resolved.replaced


def test_a_title_built_on_the_replaced_subject_goes_with_it(backend) -> None:
    resolved = resolve_with(backend, "那日本AI战略本部呢？", ["韩国国家人工智能委员会由谁当委员长"])
    assert resolved.question.startswith("日本AI战略本部由谁") and "委员" not in resolved.question


def test_an_open_possessive_is_added_not_put_in_place_of_the_subject(backend) -> None:
    resolved = resolve_with(backend, "那二十国集团的呢？", ["《经合组织人工智能原则》是在哪次会议上通过的？"])
    assert "经合组织人工智能原则" in resolved.question and "集团" in resolved.question


def test_a_lone_name_replaces_the_previous_subjects_leading_modifier(backend) -> None:
    resolved = resolve_with(backend, "那首尔呢？", ["布莱切利人工智能安全峰会的主题是什么？"])
    assert resolved.question.startswith("首尔人工智能安全峰会的主题") and resolved.replaced == ("布莱切利",)


def test_a_latin_subject_is_carried(backend) -> None:
    resolved = resolve_with(backend, "它是什么时候发布的？", ["ISO/IEC 42001是什么标准？"])
    assert resolved.refers_back and "42001" in resolved.carried and "标准" not in resolved.carried


def test_at_the_meeting_refers_back_but_inside_a_name_it_does_not(backend) -> None:
    resolved = resolve_with(backend, "会上宣布了多少私人投资？", ["巴黎那个AI行动峰会在哪开的？"])
    assert resolved.refers_back and "巴黎" in resolved.carried and "会上" not in resolved.question
    standalone = "首届人工智能安全峰会上，来自全球的代表大约有多少名？"
    assert not resolve_with(backend, standalone, ["韩国AI基本法哪些行为会被罚款"]).changed


def test_the_readings_of_a_reference_back_go_from_its_own_words_to_every_document() -> None:
    resolved = Resolved(
        "欧洲 公约 何时生效?", "它何时生效？", ("欧洲", "公约"), previous="公约是什么？", bare="何时生效?"
    )
    readings = attempts(resolved, frozenset({"b", "a"}))
    assert [(r.question, r.documents, r.carried) for r in readings] == [
        ("何时生效?", ("a", "b"), ()),
        ("欧洲 公约 何时生效?", ("a", "b"), ("欧洲", "公约")),
        ("欧洲 公约 何时生效?", (), ("欧洲", "公约")),
    ]
    assert [r.documents for r in attempts(resolved, frozenset())] == [()]


def test_a_reference_back_its_documents_do_not_answer_in_its_own_words_gains_the_subject(asker) -> None:
    question, history = "它一共提出了多少项主张？", ["中国的《全球人工智能治理倡议》是什么时候提出的？"]
    answered, resolved = ask_in_conversation(asker, question, history)
    assert "全球人工智能治理倡议" in resolved.carried and resolved.question.startswith("中国 全球人工智能治理倡议")
    assert answered.answer is not None and any("11项主张" in s.sentence.text for s in answered.answer.sentences)


def test_a_question_that_finds_no_answer_alone_is_read_back_to_the_previous_one(asker) -> None:
    """No reference word, two subject-less terms: asked alone it abstains, so it is asked again within the documents
    the previous question is answered from."""
    question, history = "中国代表是谁？", ["首届全球人工智能安全峰会在哪里举行？"]
    assert asker.ask(question).answer is None
    answered, resolved = ask_in_conversation(asker, question, history)
    focus = {p.doc_id for p in asker.search(history[0], 3)}
    assert resolved.asked == question and resolved.documents and set(resolved.documents) <= focus
    assert answered.answer is not None and all(p.doc_id in resolved.documents for p in answered.passages)


def test_a_question_answered_alone_is_not_read_back(asker) -> None:
    question, history = "美方由谁带队？", ["中美人工智能政府间对话首次会议在哪里举行？"]
    answered, resolved = ask_in_conversation(asker, question, history)
    assert resolved.question == question and resolved.documents == () and resolved.carried == ()
    assert answered.answer is not None and "查布拉" in answered.answer.text
