"""The HTTP service under a real uvicorn on a free loopback port, with the real index."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from servers import free_port, serve, wait_ready
from service.settings import Settings


def test_health_and_readiness(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base_url}/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True and ready.json()["index_version"]


def test_search_returns_cited_passages(base_url: str, retriever) -> None:
    response = httpx.get(f"{base_url}/v1/search", params={"q": "首尔峰会的主题是什么", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert len(body["passages"]) == 3 and body["passages"][0]["doc_id"] == "000_4a4f11ac61068251"
    for p in body["passages"]:
        assert retriever.backend.texts[p["doc_id"]][p["start"]:p["end"]] == p["text"]
    assert body["index_version"] == retriever.backend.version


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""}, {"q": "   "}, {"q": "\x1e"}, {"q": "\ufeff "}, {"q": "x" * 1001},
        {"q": "问题", "k": 0}, {"q": "问题", "k": 1000}, {"q": "问题", "mode": "magic"}, {},
    ],
)
def test_bad_search_input_is_422(base_url: str, params: dict) -> None:
    assert httpx.get(f"{base_url}/v1/search", params=params).status_code == 422


def test_missing_index_is_reported_not_ready(tmp_path) -> None:
    for url in serve(Settings(index_dir=tmp_path / "empty")):
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503 and "govqa build" in ready.json()["error"]
        assert httpx.get(f"{url}/v1/search", params={"q": "问题"}).status_code == 503
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_raw_utf8_query_string_is_accepted(base_url: str) -> None:
    """curl sends `?q=首尔峰会…` unencoded; the server must read it as UTF-8."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            "GET /v1/search?q=首尔峰会的主题是什么&k=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        raw = b""
        while chunk := conn.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert "首尔峰会的主题是什么" in body.decode("utf-8") and "000_4a4f11ac61068251" in body.decode("utf-8")


def test_ask_returns_a_cited_answer(base_url: str, retriever) -> None:
    response = httpx.post(f"{base_url}/v1/ask", json={"question": "首尔峰会的主题是什么？", "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    texts = retriever.backend.texts
    assert body["answer"] is not None and body["low_confidence"] is False
    for s in body["answer"]["sentences"]:
        assert texts[s["doc_id"]][s["start"]:s["end"]] == s["text"]
        passage = body["passages"][s["passage"] - 1]
        assert passage["n"] == s["passage"] and passage["start"] <= s["start"] and s["end"] <= passage["end"]
        assert {"start": s["start"], "end": s["end"]} in passage["highlights"]
        assert f"[{s['passage']}]" in body["answer"]["text"]
    for p in body["passages"]:
        assert texts[p["doc_id"]][p["start"]:p["end"]] == p["text"]
        assert p["highlights"] and all(p["start"] <= h["start"] < h["end"] <= p["end"] for h in p["highlights"])


def test_ask_abstains_with_reasons_and_still_returns_passages(base_url: str) -> None:
    body = httpx.post(f"{base_url}/v1/ask", json={"question": "欧盟人工智能办公室的首任主任是谁？"}).json()
    assert body["answer"] is None and body["low_confidence"] is True and body["abstain_reasons"]
    assert len(body["passages"]) == 5


def test_ask_restricted_to_a_document(base_url: str) -> None:
    report = "003_522f828de9b5a839"
    body = httpx.post(f"{base_url}/v1/ask", json={"question": "人工智能治理", "doc_ids": [report], "top_k": 10}).json()
    assert {p["doc_id"] for p in body["passages"]} == {report}


@pytest.mark.parametrize(
    "body",
    [{}, {"question": ""}, {"question": "  \n "}, {"question": "\x1e\u3000"}, {"question": "\ufeff"},
     {"question": "x" * 1001}, {"question": "问题", "top_k": 0},
     {"question": "问题", "top_k": 21}, {"question": "问题", "mode": "magic"}, {"question": 5}],
)
def test_bad_ask_input_is_422(base_url: str, body: dict) -> None:
    assert httpx.post(f"{base_url}/v1/ask", json=body).status_code == 422


def test_question_length_is_counted_after_trimming(base_url: str) -> None:
    padded = "\n " + "问" * 1000 + " \t"
    assert httpx.post(f"{base_url}/v1/ask", json={"question": padded, "top_k": 1}).status_code == 200
    assert httpx.post(f"{base_url}/v1/ask", json={"question": " " + "问" * 1001}).status_code == 422


def test_unknown_doc_ids_are_404_and_named(base_url: str) -> None:
    ask = httpx.post(f"{base_url}/v1/ask", json={"question": "问题", "doc_ids": ["no-such-doc"]})
    search = httpx.get(f"{base_url}/v1/search", params={"q": "问题", "doc_id": ""})
    assert ask.status_code == search.status_code == 404
    assert "'no-such-doc'" in ask.json()["error"]["message"] and "''" in search.json()["error"]["message"]


def test_a_body_that_is_not_utf8_is_400_in_the_error_shape(base_url: str) -> None:
    response = httpx.post(
        f"{base_url}/v1/ask", content=b'{"question": "\xff\xfe"}', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"


def test_ask_rejects_a_body_that_is_not_json(base_url: str) -> None:
    response = httpx.post(f"{base_url}/v1/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_documents_and_exact_text_ranges(base_url: str, retriever) -> None:
    listing = httpx.get(f"{base_url}/v1/documents").json()
    ids = {d["doc_id"] for d in listing["documents"]}
    assert ids == set(retriever.backend.texts)
    assert sum(d["chunks"] for d in listing["documents"]) == len(retriever.backend.chunks)
    doc = listing["documents"][0]
    assert httpx.get(f"{base_url}/v1/documents/{doc['doc_id']}").json() == doc
    whole = httpx.get(f"{base_url}/v1/documents/{doc['doc_id']}/text").json()
    assert whole["text"] == retriever.backend.texts[doc["doc_id"]] and whole["end"] == doc["chars"]
    part = httpx.get(f"{base_url}/v1/documents/{doc['doc_id']}/text", params={"start": 10, "end": 30}).json()
    assert part["text"] == whole["text"][10:30]


def test_document_errors(base_url: str) -> None:
    assert httpx.get(f"{base_url}/v1/documents/no-such-doc").status_code == 404
    assert httpx.get(f"{base_url}/v1/documents/no-such-doc/text").status_code == 404
    doc = httpx.get(f"{base_url}/v1/documents").json()["documents"][0]
    assert httpx.get(f"{base_url}/v1/documents/{doc['doc_id']}/text", params={"start": 5, "end": 2}).status_code == 422
    assert httpx.get(
        f"{base_url}/v1/documents/{doc['doc_id']}/text", params={"end": doc["chars"] + 1}
    ).status_code == 422
    assert httpx.get(f"{base_url}/v1/documents/{doc['doc_id']}/text", params={"start": -1}).status_code == 422


def test_errors_share_one_shape_and_name_the_field(base_url: str) -> None:
    body = httpx.post(f"{base_url}/v1/ask", json={"question": "问题", "top_k": 1000}).json()
    assert set(body) == {"error"} and body["error"]["code"] == "invalid_request"
    assert "top_k" in body["error"]["message"] and body["error"]["detail"]
    missing = httpx.get(f"{base_url}/v1/documents/no-such-doc")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = httpx.delete(f"{base_url}/v1/ask")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_a_body_over_64_kib_is_413_before_it_is_read(base_url: str) -> None:
    big = b'{"question": "' + b"x" * (1 << 20) + b'"}'
    declared = httpx.post(f"{base_url}/v1/ask", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "payload_too_large"

    def chunks():  # no Content-Length: counted as it arrives
        for start in range(0, len(big), 8192):
            yield big[start:start + 8192]

    streamed = httpx.post(f"{base_url}/v1/ask", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert httpx.post(f"{base_url}/v1/ask", json={"question": "首尔峰会的主题是什么？"}).status_code == 200


def test_request_id_is_echoed_or_made(base_url: str) -> None:
    assert httpx.get(f"{base_url}/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = httpx.get(f"{base_url}/healthz").headers["x-request-id"]
    assert len(made) == 32 and made != httpx.get(f"{base_url}/healthz").headers["x-request-id"]


def test_passage_by_id_with_neighbours(base_url: str, retriever) -> None:
    chunks = retriever.backend.chunks
    middle = next(
        i for i in range(1, len(chunks) - 1) if chunks[i - 1].doc_id == chunks[i].doc_id == chunks[i + 1].doc_id
    )
    body = httpx.get(f"{base_url}/v1/passages/{chunks[middle].chunk_id}").json()
    assert body["previous_id"] == chunks[middle - 1].chunk_id and body["next_id"] == chunks[middle + 1].chunk_id
    assert retriever.backend.texts[body["doc_id"]][body["start"]:body["end"]] == body["text"]
    first = httpx.get(f"{base_url}/v1/passages/{chunks[0].chunk_id}").json()
    assert first["previous_id"] is None
    assert httpx.get(f"{base_url}/v1/passages/no-such-passage").status_code == 404


@pytest.mark.parametrize(
    "doc_id",
    ["..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", "%2Fetc%2Fpasswd", "a%00b", "000_4a4f11ac61068251%2F..%2F..%2Fsecret"],
)
def test_path_like_document_ids_are_404(base_url: str, doc_id: str) -> None:
    for path in (f"/v1/documents/{doc_id}", f"/v1/documents/{doc_id}/text", f"/v1/passages/{doc_id}"):
        response = httpx.get(f"{base_url}{path}")
        assert response.status_code == 404, (path, response.status_code)


def test_metrics_count_requests_and_cache_hits(base_url: str) -> None:
    question = {"question": "中美人工智能政府间对话首次会议在哪里举行？"}
    httpx.post(f"{base_url}/v1/ask", json=question)
    httpx.post(f"{base_url}/v1/ask", json=question)
    text = httpx.get(f"{base_url}/metrics").text
    assert 'handler="/v1/ask"' in text and "http_request_duration_seconds" in text
    hits = next(line for line in text.splitlines() if line.startswith('govqa_answer_cache_total{result="hit"}'))
    assert float(hits.split()[-1]) >= 1
    assert "govqa_index_info{" in text and "version=" in text


def test_overload_is_a_quick_503_not_a_timeout(settings: Settings, built_index) -> None:
    import concurrent.futures

    questions = [f"人工智能治理的第{i}个问题是什么？" for i in range(24)]
    for url in serve(settings.model_copy(update={"max_in_flight": 1, "cache_size": 0})):
        with concurrent.futures.ThreadPoolExecutor(12) as pool:
            responses = list(
                pool.map(lambda q: httpx.post(f"{url}/v1/ask", json={"question": q}, timeout=60), questions)
            )
        statuses = {r.status_code for r in responses}
        assert statuses <= {200, 503} and 200 in statuses and 503 in statuses
        busy = next(r for r in responses if r.status_code == 503)
        assert busy.json()["error"]["code"] == "unavailable" and busy.headers["retry-after"] == "1"
        assert httpx.post(f"{url}/v1/ask", json={"question": "首尔峰会的主题是什么？"}).status_code == 200


def test_cors_is_off_unless_origins_are_set(base_url: str, settings: Settings) -> None:
    preflight = {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in httpx.options(f"{base_url}/v1/ask", headers=preflight).headers
    for url in serve(settings.model_copy(update={"cors_origins": ["https://example.org"]})):
        allowed = httpx.options(f"{url}/v1/ask", headers=preflight)
        assert allowed.headers.get("access-control-allow-origin") == "https://example.org"


def test_sigterm_lets_requests_in_flight_finish(settings: Settings, built_index) -> None:
    """Questions already sent when `govqa serve` receives SIGTERM are all answered in full; the
    process then exits and refuses new connections. (Connections are opened first: one still in
    the listen backlog when the socket closes is reset by the kernel, before govqa sees it.)"""
    port = free_port()
    env = {**os.environ, "GOVQA_INDEX_DIR": str(settings.index_dir), "GOVQA_PORT": str(port), "GOVQA_CACHE_SIZE": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    outcomes: list[tuple[str, float]] = []
    try:
        wait_ready(url)
        clients = [httpx.Client(base_url=url, timeout=60) for _ in range(8)]
        for client in clients:
            assert client.get("/healthz").status_code == 200

        def ask(n: int, client: httpx.Client) -> None:
            try:
                response = client.post(
                    "/v1/ask", json={"question": f"人工智能安全峰会的第{n}项成果是什么？", "top_k": 20}
                )
                outcomes.append(
                    ("ok" if response.status_code == 200 else f"status {response.status_code}", time.monotonic())
                )
            except httpx.HTTPError as exc:
                outcomes.append((type(exc).__name__, time.monotonic()))

        threads = [threading.Thread(target=ask, args=(n, c)) for n, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        time.sleep(0.05)
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(90)
        assert server.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=5)
    finally:
        if server.poll() is None:
            server.kill()
    assert [kind for kind, _ in outcomes] == ["ok"] * 8
    assert any(at > signalled for _, at in outcomes), "no question was still in flight at SIGTERM"


def test_responses_report_the_question_language(base_url: str) -> None:
    traditional = httpx.post(f"{base_url}/v1/ask", json={"question": "首爾峰會的主題是什麼？"}).json()
    simplified = httpx.post(f"{base_url}/v1/ask", json={"question": "首尔峰会的主题是什么？"}).json()
    english = httpx.get(f"{base_url}/v1/search", params={"q": "What was the theme of the Seoul summit?"}).json()
    assert (
        (traditional["query_language"], simplified["query_language"], english["query_language"])
        == ("zh-Hant", "zh-Hans", "en")
    )
    assert [p["chunk_id"] for p in traditional["passages"]] == [p["chunk_id"] for p in simplified["passages"]]


def test_every_passage_slices_back_from_the_documents_text_endpoint(base_url: str) -> None:
    body = httpx.post(f"{base_url}/v1/ask", json={"question": "中美人工智能政府间对话讨论了什么？", "top_k": 8}).json()
    texts: dict[str, str] = {}
    for p in body["passages"]:
        texts.setdefault(p["doc_id"], httpx.get(f"{base_url}/v1/documents/{p['doc_id']}/text").json()["text"])
        assert texts[p["doc_id"]][p["start"]:p["end"]] == p["text"]
        ranged = httpx.get(
            f"{base_url}/v1/documents/{p['doc_id']}/text", params={"start": p["start"], "end": p["end"]}
        ).json()
        assert ranged["text"] == p["text"]
        for h in p["highlights"]:
            assert p["start"] <= h["start"] < h["end"] <= p["end"]
    for s in (body["answer"] or {"sentences": []})["sentences"]:
        assert texts[s["doc_id"]][s["start"]:s["end"]] == s["text"]


def test_responses_show_the_keywords_searched_for(base_url: str) -> None:
    english = httpx.post(
        f"{base_url}/v1/ask", json={"question": "What did the Seoul summit declaration say?"}
    ).json()["keywords"]
    assert "宣言" in english["translated"] and "seoul" in english["question"] and "宣言" not in english["question"]
    unknown = httpx.get(
        f"{base_url}/v1/search", params={"q": "美国把防止核弹被擅自引爆的装置告诉了谁"}
    ).json()["keywords"]
    assert "核武器" in unknown["neighbours"] and "核弹" in unknown["question"] and unknown["translated"] == []
