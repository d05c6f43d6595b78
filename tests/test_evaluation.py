"""The evaluation harness: relevance rule, metric plumbing (by ranx) and the question-set validator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.evaluation import (
    Gold,
    Question,
    QuestionResult,
    QuestionSetError,
    Returned,
    coverage,
    judge,
    load_questions,
    occurrences,
    relevant,
    summarize,
)

ROOT = Path(__file__).resolve().parent.parent
TEXT = "甲" * 100 + "这是答案所在的句子共十个" + "乙" * 1000


def gold(span: str = "这是答案所在的句子共十个") -> Gold:
    return Gold("d", span, occurrences(TEXT, span))


def test_coverage_at_the_edges() -> None:
    g = gold()  # characters 100..112
    assert coverage(Returned("d", 100, 112), g) == 1.0
    assert coverage(Returned("d", 106, 300), g) == 0.5  # exactly half: counts
    assert relevant(Returned("d", 106, 300), g)
    assert not relevant(Returned("d", 107, 300), g)  # just under half
    assert not relevant(Returned("other", 100, 112), g)  # wrong document
    assert not relevant(Returned("d", 0, 801), g)  # longer than 800 characters
    assert relevant(Returned("d", 0, 800), g)


def test_first_hit_at_rank_three_gives_mrr_one_third() -> None:
    q = Question("q1", "?", "factoid", (gold(),))
    passages = [Returned("d", 500, 600), Returned("x", 0, 10), Returned("d", 90, 120), Returned("d", 100, 112)]
    judged = judge(passages, q.golds)
    assert judged == [None, None, "g0", None]  # a span already covered does not count twice
    figures = summarize([QuestionResult(q, judged, 5.0)])["overall"]
    assert figures["mrr@10"] == pytest.approx(1 / 3)
    assert figures["hit_rate@1"] == 0 and figures["hit_rate@3"] == 1 and figures["hit_rate@5"] == 1


def test_two_span_answer_needs_both_for_full_ndcg() -> None:
    second = Gold("d", "乙" * 20, ((500, 520),))
    q = Question("q2", "?", "list", (gold(), second))
    one = summarize([QuestionResult(q, judge([Returned("d", 100, 112)], q.golds), 1.0)])["overall"]["ndcg@10"]
    both = summarize(
        [QuestionResult(q, judge([Returned("d", 100, 112), Returned("d", 495, 530)], q.golds), 1.0)]
    )["overall"]["ndcg@10"]
    assert one < both == pytest.approx(1.0)


def test_unanswerable_questions_are_left_out_of_retrieval_metrics() -> None:
    answered = Question("a", "?", "factoid", (gold(),))
    unanswerable = Question("u", "?", "unanswerable", ())
    results = [QuestionResult(answered, ["g0"], 1.0), QuestionResult(unanswerable, [None], 1.0)]
    summary = summarize(results)
    assert summary["overall"]["hit_rate@1"] == 1.0 and summary["overall"]["answerable"] == 1


def test_validator_reports_spans_not_found_by_id(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "ok", "question": "?", "type": "factoid", "answers": [{"doc": "d.txt", "span": "这是答案"}]},
        {"id": "bad", "question": "?", "type": "factoid", "answers": [{"doc": "d.txt", "span": "不存在的文字"}]},
        {"id": "ok", "question": "?", "type": "unanswerable", "answers": []},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    with pytest.raises(QuestionSetError) as caught:
        load_questions(path, {"d": TEXT})
    assert "bad: span not found" in str(caught.value) and "ok: duplicate id" in str(caught.value)


@pytest.mark.parametrize("name", ["tests/data/questions.jsonl", "../shared/eval/dev.jsonl"])
def test_question_sets_are_valid(name: str, corpus_documents) -> None:
    path = ROOT / name
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    texts = {d.doc_id: d.text for d in corpus_documents}
    questions = load_questions(path, texts)
    assert len(questions) >= 72


def test_project_question_set_covers_every_type() -> None:
    rows = [json.loads(line) for line in (ROOT / "tests/data/questions.jsonl").read_text(encoding="utf-8").splitlines()]
    types = {r["type"] for r in rows}
    assert {"factoid", "paraphrase", "explain", "list", "english", "traditional", "multi-doc", "unanswerable"} <= types
    assert sum(r["type"] == "unanswerable" for r in rows) >= 15 and len(rows) >= 80
