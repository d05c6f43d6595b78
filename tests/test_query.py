"""Question parsing: scaffolding leaves the keyword side, answer cues and focus are found."""

from __future__ import annotations

import re

from service.query import parse_query


def words(text: str) -> list[str]:
    """Space-separated words without punctuation, like the keyword tokenizer's output."""
    return [w for w in re.split(r"[\s?？,，]+", text) if w]


def cut(text: str) -> list[str]:
    """Characters pairs stand in for words: enough to see what reaches the tokenizer."""
    return [text[i:i + 2] for i in range(0, len(text), 2) if text[i:i + 2].strip()]


def test_scaffolding_leaves_the_keyword_side_only() -> None:
    query = parse_query("请问首尔峰会的主题是什么？", words)
    assert query.tokens == ("首尔峰会的主题",)
    assert query.normalized == "请问首尔峰会的主题是什么?"  # NFKC turns the full-width mark; the text itself stays


def test_traditional_question_is_normalized_before_tokenizing() -> None:
    query = parse_query("首爾峰會的主題是什麼？", words)
    assert query.tokens == ("首尔峰会的主题",)


def test_answer_type_cues() -> None:
    assert parse_query("峰会是何时举行的", cut).answer_type == "time"
    assert parse_query("会议是在哪一年召开的", cut).answer_type == "time"
    assert parse_query("共有多少家公司签署", cut).answer_type == "number"
    assert parse_query("应坚持哪几项原则", cut).answer_type is None  # a list, not a count
    assert parse_query("When was the Seoul summit held?", cut).answer_type == "time"
    assert parse_query("In which year was it founded?", cut).answer_type == "time"
    assert parse_query("What should a country respect when providing AI services?", cut).answer_type is None
    assert parse_query("报告是在什么时间发布的", cut).answer_type == "time"
    assert parse_query("研究所每年的经费预算是多少？", cut).answer_type == "money"
    assert parse_query("How much money did the lab commit to the programme?", cut).answer_type == "money"
    assert parse_query("参与投资的机构有多少家？", cut).answer_type == "number"  # a count of bodies, not a sum
    assert parse_query("How many hours did the dialogue last?", cut).unit == "小时"  # a measure word in Chinese
    assert parse_query("How many countries signed it?", cut).unit is None
    assert parse_query("应坚持哪几项原则", cut).wants_list


def test_an_interrogative_set_aside_by_an_apart_from_clause_is_not_asked() -> None:
    set_aside = parse_query("除了何时允许开发超级智能之外，人类还必须回答的第二个问题是什么？", cut)
    assert set_aside.answer_type is None
    assert parse_query("除了人类监督之外，何时开始规模化监督？", cut).answer_type == "time"
    assert parse_query("法案将消除哪一年颁布的法律中的障碍？", cut).answer_type == "time"


def test_focus_is_the_phrase_next_to_the_interrogative() -> None:
    assert parse_query("研究所的首任所长是谁", lambda t: [t]).focus == ("首任所长",)
    assert parse_query("最高可以处以多少罚款", lambda t: [t]).focus == ("罚款",)
    assert parse_query("这份报告提出了什么方法", lambda t: [t]).focus == ()  # "什么X" names the kind of answer
    # adverbs before the interrogative are not the focus
    assert parse_query("来自全球的代表大约有多少", lambda t: [t]).focus == ("代表",)


def test_a_question_of_only_scaffolding_keeps_its_tokens() -> None:
    assert parse_query("是什么？", words).tokens == ("是什么",)
