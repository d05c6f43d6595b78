"""The command line against the real session index (GOVQA_INDEX_DIR points at it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from servers import serve

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture()
def index_env(monkeypatch: pytest.MonkeyPatch, settings, built_index) -> None:
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(built_index))


def test_ask_prints_the_api_json(index_env, retriever) -> None:
    result = runner.invoke(app, ["ask", "首尔峰会的主题是什么？", "--json", "-k", "3"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["answer"]["sentences"] and len(body["passages"]) == 3
    for s in body["answer"]["sentences"]:
        assert retriever.backend.texts[s["doc_id"]][s["start"]:s["end"]] == s["text"]


def test_ask_plain_text_marks_evidence(index_env) -> None:
    result = runner.invoke(app, ["ask", "首尔峰会的主题是什么？", "-k", "2"])
    assert result.exit_code == 0, result.output
    first, *rest = result.stdout.splitlines()
    assert "[1]" in first and "安全、创新、包容" in first
    assert any(line.startswith("[1] ") for line in rest) and "«" in result.stdout


def test_bad_mode_is_a_usage_error(index_env) -> None:
    result = runner.invoke(app, ["ask", "问题", "--mode", "magic"])
    assert result.exit_code == 2 and "mode" in result.output


def test_eval_in_process_and_over_http_agree(index_env, settings, tmp_path: Path) -> None:
    lines = (ROOT / "tests" / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    sample = tmp_path / "sample.jsonl"
    sample.write_text("\n".join(lines[::20]) + "\n", encoding="utf-8")
    local = runner.invoke(app, ["eval", str(sample), "--json", str(tmp_path / "local.json")])
    assert local.exit_code == 0, local.output
    for url in serve(settings):
        remote = runner.invoke(app, ["eval", str(sample), "--url", url, "--json", str(tmp_path / "remote.json")])
        assert remote.exit_code == 0, remote.output
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("local", "remote"))
    for figure in ("hit_rate@1", "hit_rate@5", "mrr@10", "answer_hit", "abstained", "false_abstain"):
        assert a["overall"][figure] == pytest.approx(b["overall"][figure], nan_ok=True), figure
    assert a["overall"]["questions"] == b["overall"]["questions"] == len(lines[::20])
    compared = runner.invoke(app, ["eval", "--compare", str(tmp_path / "local.json"), str(tmp_path / "remote.json")])
    assert compared.exit_code == 0, compared.output
    overall = next(line for line in compared.stdout.splitlines() if line.startswith("overall")).split()
    assert overall[1:7] == ["+0.000"] * 6  # hit@1 … nDCG@10 agree exactly


def test_missing_index_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "nothing"))
    result = runner.invoke(app, ["ask", "问题"])
    assert result.exit_code == 1
    assert "govqa build" in result.output and "Traceback" not in result.output


def test_eval_ingests_a_corpus_directory_and_reports_each_set(index_env, tmp_path: Path) -> None:
    corpus = tmp_path / "tiny"
    (corpus / "docs").mkdir(parents=True)
    (corpus / "docs" / "accord.md").write_text(
        "# 星河协议\n\n星河协议于2031年3月在里斯本签署，共有十二个国家加入。协议设立审查委员会，每年发布一份风险报告。\n",
        encoding="utf-8",
    )
    (corpus / "docs" / "office.html").write_text(
        "<html><head><title>监管办公室</title></head><body><article><h1>监管办公室</h1>"
        "<p>监管办公室设在维也纳，首任主任由理事会任命。办公室负责协调各国的测试标准。</p></article></body></html>",
        encoding="utf-8",
    )
    rows = [
        {"id": "t1", "question": "星河协议在哪里签署？", "type": "factoid", "answers": [{"doc": "accord.md", "span": "在里斯本签署"}]},
        {"id": "t2", "question": "监管办公室设在哪里？", "type": "factoid", "answers": [{"doc": "office.html", "span": "监管办公室设在维也纳"}]},
    ]
    (corpus / "questions.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    out = tmp_path / "run.json"
    result = runner.invoke(app, ["eval", str(corpus), str(corpus), "--scratch", str(tmp_path / "scratch"), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "tiny (" in result.output and "macro average over 2 sets" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    tiny = report["sets"]["tiny"]["overall"]
    assert tiny["questions"] == 2 and tiny["hit_rate@5"] == 1.0  # the file names resolved to the uploads' ids
    assert len(list((tmp_path / "scratch").iterdir())) == 1  # the second pass reused the scratch index
