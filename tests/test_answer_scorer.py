"""The answer scorer: its features on hand-made sentences, the shipped model reproduced by its refit
script, and what it quotes and refuses on the real index with the real model."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from index.sentence_kinds import sentence_kinds
from index.cleaning import is_caption
from service.answer_features import (
    SENTENCE_FEATURES, Words, conflicts, constraints, kind_features, kind_near, proximity, question_slot, slot_features,
    stating,
)
from service.answer_scorer import MODEL_FILE, AnswerScorer, Linear, choose
from service.asking import Asker
from service.query import parse_query
from service.settings import PROJECT_ROOT

def test_a_sentence_holds_the_kinds_of_answer_it_states() -> None:
    assert {"place", "time", "year", "month"} <= set(
        sentence_kinds("2024年5月14日,中美人工智能政府间对话首次会议在瑞士日内瓦举行。")
    )
    assert "money" in sentence_kinds("违规企业最高可被处以3500万欧元罚款。")
    assert (
        "number" in sentence_kinds("该承诺由16家公司签署。")
        and "money" not in sentence_kinds("该承诺由16家公司签署。")
    )
    assert "person" in sentence_kinds("美国总统拜登签署了行政命令。")
    assert "org" in sentence_kinds("欧洲委员会部长委员会通过了公约。")
    assert "definition" in sentence_kinds("所谓沙盒,是指在受控环境中测试新技术的机制。")
    assert "reason" in sentence_kinds("由于规则分散,企业合规成本上升。")
    plain = sentence_kinds("各方同意继续保持沟通。")
    assert not {"time", "number", "money", "place", "definition"} & set(plain)


def test_kind_features_match_what_is_asked_against_what_is_held() -> None:
    where = parse_query("对话在哪里举行？", list)
    names = [f for f in SENTENCE_FEATURES if f.startswith("asks_")] + ["asked_missing"]
    place = dict(zip(names, kind_features(where, ("place", "time"))))
    assert place["asks_place_holds"] == 1 and place["asked_missing"] == 0
    missing = dict(zip(names, kind_features(where, ("time",))))
    assert missing["asks_place_holds"] == 0 and missing["asked_missing"] == 1
    when = dict(zip(names, kind_features(parse_query("公约哪一天开放签署？", list), ("time", "year"))))
    # a year is not a day
    assert when["asks_time_holds"] == 1 and when["asks_grain_holds"] == 0 and when["asked_missing"] == 1


def test_proximity_and_constraints() -> None:
    assert proximity("首尔峰会的主题是安全", ("首尔", "峰会")) == 1.0
    # 4 matched characters over 11
    assert proximity("首尔在半岛的南方而峰会在北方", ("首尔", "峰会")) == pytest.approx(4 / 11)
    assert proximity("首尔峰会", ("首尔",)) == 0.0  # one word has no distance
    assert constraints(parse_query("2025年巴黎峰会第二届会议有哪些国家签署了宣言", list)) == ["2025年", "第二届"]
    assert constraints(parse_query("When did the OECD adopt its principles in Paris?", list)) == ["oecd"]
    assert constraints(parse_query("xAI发布的前沿安全框架叫什么名字", list)) == ["xai"]


def test_an_answer_of_the_asked_kind_must_stand_beside_the_words_it_answers_about() -> None:
    chair = "瑞士联邦通信办公室的托马斯·施耐德(Thomas Schneider)担任该委员会主席。"
    assert kind_near(chair, ["person"], ("主席",)) == 1.0
    far = "委员会于2022年设立。专家们随后开会讨论了许多与主席职位无关的议题。"
    assert kind_near(far, ["time"], ("主席",)) == 0.0  # the year is far from the word it would answer about
    # the question's own year answers nothing
    assert kind_near("2024年,委员会主席发言。", ["time"], ("2024", "主席")) == 0.0
    assert kind_near(chair, [], ("主席",)) == 0.0


def test_a_neighbouring_year_ordinal_or_version_contradicts_the_question() -> None:
    assert conflicts(["第四届"], "第三届峰会将由西班牙主办") == 1.0
    assert conflicts(["第四届"], "第四届峰会将由西班牙主办") == 0.0
    assert conflicts(["第四届"], "第三次会议在巴黎举行") == 0.0  # another measure word is another frame
    assert conflicts(["2024年"], "2025年7月26日,2025世界人工智能大会在上海开幕") == 1.0
    assert conflicts(["asl-4"], "anthropic宣布启用asl-3级别的防护") == 1.0
    assert conflicts(["xai"], "google deepmind发布前沿安全框架") == 0.0  # a bare name has no siblings to read
    assert conflicts([], "2025年") == 0.0


def test_words_weigh_what_a_text_lacks() -> None:
    words = Words(("cai", "委员会", "主席"), np.array([5.0, 1.0, 2.0]), np.ones(3, dtype=bool))
    assert words.share_in("cai委员会主席") == 1.0 and words.share_in("委员会主席") == pytest.approx(3 / 8)
    assert words.heaviest_missing("委员会主席") == 1.0  # the rarest word is the one missing
    assert words.heaviest_missing("cai委员会") == pytest.approx(2 / 5)
    assert words.heaviest_missing("cai委员会主席") == 0.0
    assert words.common().tokens == ("委员会", "主席") and words.rare().tokens == ("cai",)


def test_the_words_beside_the_interrogative_must_be_said() -> None:
    import jieba

    slot = question_slot(parse_query("得克萨斯人工智能委员会的7名成员由谁任命？", list), jieba.lcut)
    assert slot is not None and slot.beside == ("成员", "任命")
    assert slot_features(slot, "该法设立了由7名成员组成的委员会。")[2] == 0.5  # says who sits on it, not who appoints
    assert slot_features(slot, "成员由州长任命。") == [1.0, 1.0, 1.0]
    ends = question_slot(parse_query("人工智能委员会主席是谁？", list), jieba.lcut)
    assert ends is not None and ends.right == "" and ends.beside == ("主席",)


def test_captions_and_image_placeholders_are_never_evidence() -> None:
    assert is_caption("图1 人工智能治理框架") and is_caption("图片") and is_caption("Figure 3: adoption by year")
    assert not is_caption("图灵奖得主认为风险很大。") and not is_caption("Image generation models raise new questions.")
    assert not stating("图2 各国立法进度") and not stating("这部法律何时生效?") and stating("该法于2026年生效。")


def test_choose_takes_the_best_and_close_companions_only() -> None:
    logits = np.array([-3.0, 2.0, 1.6, -1.0])
    assert choose(logits, 2) == [1, 2]  # p(2.0)=0.88, p(1.6)=0.83: close enough
    assert choose(logits, 1) == [1]
    assert choose(np.array([3.0, -4.0]), 2) == [0]  # p(-4)=0.018 is far below a tenth of p(3)=0.95
    assert choose(np.zeros(0), 2) == []


def fit_script():  # noqa: ANN201 - the module scripts/fit_answer_scorer.py
    spec = importlib.util.spec_from_file_location(
        "fit_answer_scorer", PROJECT_ROOT / "scripts" / "fit_answer_scorer.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_shipped_model_is_what_the_refit_script_makes_from_its_table(tmp_path: Path) -> None:
    script = fit_script()
    shipped = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    rows = script.read_rows(script.TRAINING_FILE)
    refit = script.fit(rows, shipped["trained_on"], shipped["outside"]).to_dict()
    # lbfgs stops within its tolerance, and another CPU's floating-point kernels take another path there
    # (a Zen 4 EPYC refit a Xeon's coefficients to within 5e-5): the model is the same to well within 1e-3.
    assert refit["threshold"] == pytest.approx(shipped["threshold"], abs=1e-4)
    for part in ("sentence", "answer", "scope"):
        assert refit[part]["features"] == shipped[part]["features"]
        for key in ("mean", "scale"):
            assert np.allclose(refit[part][key], shipped[part][key], atol=1e-6), (part, key)
        assert np.allclose(refit[part]["coef"], shipped[part]["coef"], atol=1e-3), part
        assert refit[part]["intercept"] == pytest.approx(shipped[part]["intercept"], abs=1e-3)


def test_outside_questions_asked_of_a_training_corpus_join_its_training_sets() -> None:
    script = fit_script()
    rows = [script.Row(name, "c", "q", "unanswerable", False, False, False, [], np.zeros((0, 1)), np.zeros(0, bool),
                       np.zeros(0, int), np.zeros(0, int))
            for name in ("corpus2", "offtopic.jsonl@corpus2", "offtopic.jsonl@corpus3")]
    assert script.with_outside_sets(rows, ["corpus2"]) == ["corpus2", "offtopic.jsonl@corpus2"]
    assert (
        script.is_outside("offtopic.jsonl@corpus3", ["offtopic.jsonl"])
        and not script.is_outside("corpus3", ["offtopic.jsonl"])
    )


def test_the_scope_model_tells_questions_on_the_documents_from_chit_chat_on_every_corpus() -> None:
    """Over the gathered questions of every corpus (held out or not): the outside questions' scope probability
    falls below the abstention threshold, that of answerable questions almost never does."""
    script = fit_script()
    scorer = AnswerScorer.load()
    rows = script.read_rows(script.TRAINING_FILE)
    scope = {r.set: [] for r in rows}
    for r in rows:
        scope[r.set].append(scorer.in_scope(script.question_row(r, np.zeros(0))) < scorer.threshold)
    corpora = [name for name in scope if name.startswith("offtopic.jsonl@")]
    assert corpora and all(np.mean(scope[name]) >= 0.8 for name in [*corpora, "offtopic.jsonl"])
    answerable = [scorer.in_scope(script.question_row(r, np.zeros(0))) < scorer.threshold for r in rows if r.answerable]
    assert np.mean(answerable) <= 0.01


def test_an_answer_is_never_surer_than_its_question_is_in_scope() -> None:
    shipped = AnswerScorer.load()
    sure = Linear(shipped.answer.features, np.zeros(len(shipped.answer.features)),
                  np.ones(len(shipped.answer.features)), np.zeros(len(shipped.answer.features)), 4.0)
    doubtful = Linear(shipped.scope.features, np.zeros(len(shipped.scope.features)),
                      np.ones(len(shipped.scope.features)), np.zeros(len(shipped.scope.features)), -2.0)
    scorer = AnswerScorer(shipped.sentence, sure, doubtful, 0.5)
    row = np.zeros(len(shipped.answer.features))
    assert scorer.answers(row) == pytest.approx(0.982, abs=1e-3)
    assert scorer.probability(row) == pytest.approx(scorer.in_scope(row)) == pytest.approx(0.119, abs=1e-3)


def test_the_shipped_model_loads_and_rejects_another_feature_list(tmp_path: Path) -> None:
    scorer = AnswerScorer.load()
    assert 0 < scorer.threshold < 1 and scorer.trained_on
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["sentence"]["features"] = data["sentence"]["features"][:-1]
    other = tmp_path / "scorer.json"
    other.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError, match="features"):
        AnswerScorer.load(other)


def test_a_where_question_quotes_the_sentence_that_names_the_place(asker: Asker) -> None:
    result = asker.ask("中美人工智能政府间首次对话在哪里举行？")
    assert result.answer is not None
    assert any("日内瓦" in s.sentence.text for s in result.answer.sentences)


def test_a_who_question_quotes_the_sentence_that_names_the_person(asker: Asker) -> None:
    result = asker.ask("中美人工智能政府间对话的美方代表团由谁带队？")
    assert result.answer is not None
    assert any("查布拉" in s.sentence.text for s in result.answer.sentences)


@pytest.mark.parametrize("question", ["hi", "今天天气怎么样？", "How do I bake sourdough bread?"])
def test_chit_chat_and_questions_outside_the_documents_abstain(asker: Asker, question: str) -> None:
    result = asker.ask(question)
    assert result.answer is None and result.verdict.problems
    assert result.verdict.confidence < AnswerScorer.load().threshold


def test_confidence_is_the_answer_probability(asker: Asker) -> None:
    answered = asker.ask("首尔峰会的主题是什么？")
    assert answered.answer is not None and answered.answer.confidence == answered.verdict.confidence
    assert asker.scorer.threshold <= answered.answer.confidence <= 1
