"""The command line against the real session index (GOVQA_INDEX_DIR points at it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import app
from servers import free_port, serve

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(autouse=True)
def no_server_nearby(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens at the configured port, so `ask` and `search` run in process unless a test says otherwise."""
    monkeypatch.setenv("GOVQA_PORT", str(free_port()))
    monkeypatch.delenv("GOVQA_URL", raising=False)


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
        "# 星河协议\n\n星河协议于2031年3月在里斯本签署，共有十二个国家加入。"
        "协议设立审查委员会，每年发布一份风险报告。\n",
        encoding="utf-8",
    )
    (corpus / "docs" / "office.html").write_text(
        "<html><head><title>监管办公室</title></head><body><article><h1>监管办公室</h1>"
        "<p>监管办公室设在维也纳，首任主任由理事会任命。办公室负责协调各国的测试标准。</p></article></body></html>",
        encoding="utf-8",
    )
    rows = [
        {
            "id": "t1", "question": "星河协议在哪里签署？", "type": "factoid",
            "answers": [{"doc": "accord.md", "span": "在里斯本签署"}],
        },
        {
            "id": "t2", "question": "监管办公室设在哪里？", "type": "factoid",
            "answers": [{"doc": "office.html", "span": "监管办公室设在维也纳"}],
        },
    ]
    (corpus / "questions.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    out = tmp_path / "run.json"
    result = runner.invoke(
        app, ["eval", str(corpus), str(corpus), "--scratch", str(tmp_path / "scratch"), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "tiny (" in result.output and "macro average over 2 sets" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    tiny = report["sets"]["tiny"]["overall"]
    assert tiny["questions"] == 2 and tiny["hit_rate@5"] == 1.0  # the file names resolved to the uploads' ids
    assert len(list((tmp_path / "scratch").iterdir())) == 1  # the second pass reused the scratch index


def test_an_empty_question_is_a_usage_error_before_anything_loads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "nothing"))  # loading would exit 1
    for command in ("ask", "search"):
        result = runner.invoke(app, [command, " \t "])
        assert result.exit_code == 2 and "empty" in result.output, command


def test_ask_and_search_use_a_running_server(base_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--url, GOVQA_URL and a server at the configured port are each asked; the local index is not opened
    (it does not exist here), and the answer is the API's."""
    import httpx

    monkeypatch.setenv("GOVQA_INDEX_DIR", str(tmp_path / "nothing"))
    question = "首尔峰会的主题是什么？"
    expected = httpx.post(f"{base_url}/v1/ask", json={"question": question, "top_k": 3}).json()
    port = base_url.rsplit(":", 1)[1]
    for args, env in ((["--url", base_url], {}), ([], {"GOVQA_URL": base_url}), ([], {"GOVQA_PORT": port})):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        result = runner.invoke(app, ["ask", question, "-k", "3", "--json", *args])
        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout)
        assert (
            body["answer"] == expected["answer"]
            and [p["chunk_id"] for p in body["passages"]] == [p["chunk_id"] for p in expected["passages"]]
        )
        monkeypatch.delenv("GOVQA_URL", raising=False)
    found = runner.invoke(app, ["search", "首尔峰会", "-k", "2", "--json", "--url", base_url])
    assert found.exit_code == 0 and len(json.loads(found.stdout)) == 2
    local = runner.invoke(app, ["ask", question, "--local"])
    assert local.exit_code == 1 and "govqa build" in local.output, "--local never asks the server"


def test_a_server_serving_another_index_is_not_asked_unless_named(
    base_url: str, index_env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    from index.store import current_version

    other = tmp_path / "other"
    other.mkdir()
    (other / "CURRENT").write_text("some-other-version\n", encoding="utf-8")
    monkeypatch.setenv("GOVQA_INDEX_DIR", str(other))
    monkeypatch.setenv("GOVQA_PORT", base_url.rsplit(":", 1)[1])
    from service.server_client import server_url
    from service.settings import Settings

    assert current_version(other) != "" and server_url(None, Settings()) is None
    assert server_url(base_url, Settings()) == base_url


def test_server_errors_keep_their_message_and_exit_codes(base_url: str) -> None:
    refused = runner.invoke(app, ["search", "首尔峰会", "-k", "30", "--url", base_url])
    assert refused.exit_code == 2 and "422" in refused.output and "k" in refused.output
    unreachable = runner.invoke(app, ["ask", "首尔峰会", "--url", f"http://127.0.0.1:{free_port()}"])
    assert unreachable.exit_code == 1 and "cannot reach" in unreachable.output and "Traceback" not in unreachable.output


def test_govqa_serve_reads_a_raw_utf8_query_string(built_index: Path) -> None:
    """`govqa serve` itself (a subprocess, as a shell runs it) accepts `?q=首尔…` unencoded, as curl sends it."""
    import os
    import socket
    import subprocess
    import sys
    import time

    port = free_port()
    env = {**os.environ, "GOVQA_INDEX_DIR": str(built_index), "GOVQA_PORT": str(port)}
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    reply = b""
    try:
        deadline = time.time() + 120
        while time.time() < deadline and server.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                    conn.sendall(
                        (
                            "GET /v1/search?q=首尔峰会的主题是什么&k=1 HTTP/1.1\r\n"
                            "Host: x\r\nConnection: close\r\n\r\n"
                        ).encode()
                    )
                    reply = b"".join(iter(lambda: conn.recv(65536), b""))
                if not reply.startswith(b"HTTP/1.1 503"):
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
        assert "首尔峰会的主题是什么" in reply.partition(b"\r\n\r\n")[2].decode("utf-8")
    finally:
        server.terminate()
        server.wait(30)


@pytest.mark.parametrize(("listen", "reached"), [
    ("0.0.0.0", "http://127.0.0.1:8000"), ("::", "http://[::1]:8000"), ("", "http://127.0.0.1:8000"),
    ("192.0.2.7", "http://192.0.2.7:8000"), ("fe80::1", "http://[fe80::1]:8000"), ("govqa.internal", "http://govqa.internal:8000"),
])
def test_a_wildcard_listen_address_is_reached_on_loopback(listen: str, reached: str) -> None:
    from service.server_client import local_address
    from service.settings import Settings

    assert local_address(Settings(host=listen, port=8000)) == reached
