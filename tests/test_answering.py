"""Answers over the real index with the real model: cited sentences, evidence, abstention, cache."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import numpy as np
import pytest

from helpers import SEOUL
from index.build import build_index
from index.chunking import Sentence
from service.answer_features import Candidate
from service.answering import AnswerPolicy, AnswerSentence, asks, judge, quoted, subject_words
from service.asking import Asker
from service.query import parse_query
from service.ranking import zscore
from service.retrieval import Retriever
from service.runtime import open_index

QUESTIONS = [
    "首尔峰会的主题是什么？",
    "中美人工智能政府间对话首次会议在哪里举行？",
    "地缘政治对手可以在哪些技术性人工智能安全领域合作？",
    "粤港澳大湾区在人工智能治理上有什么优势？",
    "What did the Bletchley declaration say?",
]


def test_zscore_puts_signals_on_one_scale() -> None:
    cosines, bm25 = np.array([0.70, 0.80, 0.90]), np.array([2.0, 12.0, 22.0])
    assert np.allclose(zscore(cosines), zscore(bm25))
    assert np.allclose(zscore(np.array([3.0, 3.0])), 0.0)  # no spread, no signal


def test_answer_sentences_and_highlights_slice_back_exactly(asker: Asker) -> None:
    texts = asker.retriever.backend.texts
    answered = 0
    for question in QUESTIONS:
        result = asker.ask(question, k=5)
        for p in result.passages:
            assert p.evidence, "every passage shows at least one evidence sentence"
            for e in p.evidence:
                s = e.sentence
                assert texts[s.doc_id][s.start:s.end] == s.text
                assert p.chunk.start <= s.start < s.end <= p.chunk.end
        if result.answer is not None:
            answered += 1
            for s in result.answer.sentences:
                assert texts[s.sentence.doc_id][s.sentence.start:s.sentence.end] == s.sentence.text
                cited = result.passages[s.passage - 1]
                assert cited.chunk.start <= s.sentence.start and s.sentence.end <= cited.chunk.end
                assert f"{s.sentence.text.strip()} [{s.passage}]" in result.answer.text
    assert answered >= 3


def evidence(*texts: str) -> list[AnswerSentence]:
    return [AnswerSentence(Sentence("d", 0, len(t), t, 0, t), 1, 1.0) for t in texts]


def verdict_of(question: str, *texts: str):  # noqa: ANN201 - a Verdict
    return judge(parse_query(question, list), evidence(*texts), 1.0, AnswerPolicy())  # one-character tokens: no focus


def test_a_count_must_come_in_the_questions_measure_word() -> None:
    assert parse_query("共有多少家公司签署", list).unit == "家" and parse_query("中国排名第几", list).unit == "第"
    assert verdict_of("共有多少家公司签署", "由16家公司签署。").answerable
    assert verdict_of("有多少名代表参加", "来自全球的约一百五十 多 名代表。").answerable
    assert verdict_of("中国排名第几", "中国排在第 2 位。").answerable
    refused = verdict_of("有多少家会员企业", "基金会于2023年成立，有7个工作组。")
    assert not refused.answerable and "家" in refused.problems[0]


def test_a_how_much_money_question_needs_a_sum() -> None:
    assert verdict_of("该项目获得了多少资金？", "项目获得了 1.5 亿元资助。").answerable
    assert verdict_of("How much money did the lab commit?", "实验室承诺投入 $10 million。").answerable
    refused = verdict_of("该项目获得了多少资金？", "项目于2023年启动，有12个成员。")  # numbers, but no sum
    assert not refused.answerable and "money" in refused.problems[0]


def test_a_when_question_needs_a_time_as_fine_as_it_asks() -> None:
    assert (
        parse_query("自哪一天起施行", list).grain == "day"
        and parse_query("是在哪一年哪一月发布的", list).grain == "month"
    )
    assert verdict_of("峰会在哪一天召开", "峰会于5月21日召开。").answerable
    assert verdict_of("研究所是在哪一年成立的", "研究所于 2023 年成立。").answerable
    assert not verdict_of("办法自哪一天起施行", "办法于2023年发布。").answerable  # a year is not a day
    assert verdict_of("峰会是何时召开的", "峰会于2023年召开。").answerable  # "when" takes any time


def test_the_focus_is_missing_when_its_rarer_words_are(asker: Asker) -> None:
    query = parse_query("基金会目前共计多少会员企业？", asker.retriever.backend.tokenize)
    weights = dict(zip(query.focus, asker.retriever.backend.keyword_idf(list(query.focus)).tolist()))
    assert set(query.focus) == {"会员", "企业"} and weights["会员"] > weights["企业"]
    assert not judge(query, evidence("基金会有60家企业。"), 1.0, AnswerPolicy(), weights).answerable
    assert judge(query, evidence("基金会有60家会员。"), 1.0, AnswerPolicy(), weights).answerable


def test_the_focus_must_be_said_of_the_questions_subject(asker: Asker) -> None:
    backend = asker.retriever.backend
    query = parse_query("星河公司的首席执行官是谁？", backend.tokenize)
    subject = subject_words(backend, query)
    assert subject == ("星河",)  # 公司 is in too many passages to name anyone; the focus is not the subject
    weights = dict(zip(query.focus, backend.keyword_idf(list(query.focus)).tolist()))
    elsewhere = evidence("星河公司于2020年成立。", "另一家公司的首席执行官张三表示支持。")
    refused = judge(query, elsewhere, 1.0, AnswerPolicy(), weights, subject)
    assert not refused.answerable and "星河" in refused.problems[0]
    assert judge(query, elsewhere, 1.0, AnswerPolicy(), weights).answerable  # without the subject check it would answer
    assert judge(query, evidence("星河公司首席执行官李四表示支持。"), 1.0, AnswerPolicy(), weights, subject).answerable


def candidates_of(texts: list[str], chunks: list[int]) -> tuple[SimpleNamespace, list[Candidate]]:
    sentences = [Sentence("d", 30 * i, 30 * i + len(t), t, c, t) for i, (t, c) in enumerate(zip(texts, chunks))]
    found = [Candidate(i, s, 1 + s.chunk, np.zeros(0)) for i, s in enumerate(sentences)]
    return SimpleNamespace(sentences=sentences), found


def test_a_sentence_that_ends_in_a_colon_brings_what_it_announces() -> None:
    texts = [
        "白皮书将按以下版本发布：", "2023 年：第一版 - 印度尼西亚、菲律宾和新加坡",
        "其他内容。", "如下：", "下一段的开头。",
    ]
    backend, found = candidates_of(texts, [0, 0, 0, 0, 1])
    assert [s.position for s in quoted(backend, found, [0, 2])] == [0, 1, 2]
    # the colon ends its passage: the next passage's first sentence is not what it announces
    assert [s.position for s in quoted(backend, found, [3])] == [3]


def test_a_sentence_that_refers_back_brings_what_it_refers_to() -> None:
    texts = [
        "欧洲委员会于2024年5月通过《人工智能框架公约》。", "该公约于同年9月在维尔纽斯开放签署。",
        "这一段另起。", "其他内容。",
    ]
    backend, found = candidates_of(texts, [0, 0, 1, 1])
    assert [s.position for s in quoted(backend, found, [1])] == [0, 1]  # 该公约 needs the sentence naming it
    assert [s.position for s in quoted(backend, found, [2])] == [2]  # the sentence before it is another passage's
    assert [s.position for s in quoted(backend, found, [3])] == [3]  # nothing to refer back to


def test_a_documents_own_question_is_never_an_answer(asker: Asker) -> None:
    assert asks("首次中美人工智能政府间对话成果如何?") and asks("他问：“为什么？”") and asks("Why? ")
    assert not asks("会议在瑞士日内瓦举行。") and not asks("“是否可行？”他认为可行。")
    assert not asks("详情见[点击领取](https://evil.example/steal?")  # a link the sentence splitter cut at its "?"
    # the dialogue article has a heading that restates this question
    result = asker.ask("中美人工智能政府间首次对话成果如何？")
    assert result.answer is not None and not any(asks(s.sentence.text) for s in result.answer.sentences)


def test_known_question_is_answered_from_the_right_place(asker: Asker) -> None:
    result = asker.ask("首尔峰会的主题是什么？")
    assert result.passages[0].doc_id == SEOUL
    assert result.answer is not None
    assert any("“安全、创新、包容”为主题" in s.sentence.text for s in result.answer.sentences)


def test_question_the_documents_do_not_answer_gets_no_answer(asker: Asker) -> None:
    # the corpus mentions the EU AI Office but never who heads it
    result = asker.ask("欧盟人工智能办公室的首任主任是谁？")
    assert result.answer is None
    assert result.verdict.problems
    assert result.passages, "the nearest passages still come back"


def test_list_question_gets_more_sentences(asker: Asker) -> None:
    single = asker.ask("首尔峰会的主题是什么？")
    listing = asker.ask("首尔峰会产出了哪些文件？")
    assert single.answer is not None and listing.answer is not None
    assert len(listing.answer.sentences) > len(single.answer.sentences)


def test_cache_serves_a_repeat_without_searching_again(settings, retriever, monkeypatch: pytest.MonkeyPatch) -> None:
    from service import pipeline

    asker = Asker(retriever, settings)
    calls = []
    original = pipeline.retrieve

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "retrieve", counting)
    first = asker.ask("首尔峰会的主题是什么？")
    again = asker.ask("  首爾峰會的主題是什麼？ ")  # same question once normalized
    assert len(calls) == 1 and not first.cached and again.cached
    assert again.answer == first.answer and again.passages == first.passages
    asker.ask("首尔峰会的主题是什么？", k=3)
    assert len(calls) == 2, "other parameters are another entry"


def test_cache_never_serves_an_old_index_version(settings, embedder, corpus_documents, built_index, tmp_path) -> None:
    own = settings.model_copy(update={"index_dir": tmp_path / "index"})
    shutil.copytree(built_index, own.index_dir)
    asker = Asker(Retriever(open_index(own), embedder, own), own)
    before = asker.ask("首尔峰会的主题是什么？")
    build_index(corpus_documents, embedder, own.index_dir, force=True)  # a new version; vectors are reused
    asker.retriever.backend = open_index(own)
    after = asker.ask("首尔峰会的主题是什么？")
    assert after.index_version != before.index_version
    assert not after.cached
    assert asker.ask("首尔峰会的主题是什么？").cached
