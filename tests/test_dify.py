"""Dify's External Knowledge API as Dify documents it (POST {endpoint}/retrieval, `Authorization: Bearer {API_KEY}`,
{"knowledge_id", "query", "retrieval_setting": {"top_k", "score_threshold"}, "metadata_condition"}; 200 with
{"records": [{"content", "score", "title", "metadata"}]}; errors {"error_code", "error_msg"}: 1001, 1002, 2001),
against a live server with the real index."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from helpers import SEOUL
from servers import serve
from service.settings import Settings

KEY = "dify-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
QUESTION = "首尔峰会的主题是什么？"


@pytest.fixture(scope="module")
def base_url(settings: Settings, built_index) -> Iterator[str]:
    yield from serve(settings.model_copy(update={"api_key": KEY}))


@pytest.fixture(scope="module")
def texts(corpus_documents) -> dict[str, str]:
    return {d.doc_id: d.text for d in corpus_documents}


@pytest.fixture(scope="module")
def metadata(corpus_documents) -> dict[str, object]:
    return {d.doc_id: d.meta for d in corpus_documents}


def retrieve(base_url: str, body: dict, headers: dict | None = None, path: str = "/retrieval") -> httpx.Response:
    return httpx.post(f"{base_url}{path}", json=body, headers=AUTH if headers is None else headers, timeout=60)


def body(
    query: str = QUESTION, knowledge_id: str = "all", top_k: int = 5, score_threshold: float = 0.0, **extra: object,
) -> dict:
    return {
        "knowledge_id": knowledge_id, "query": query,
        "retrieval_setting": {"top_k": top_k, "score_threshold": score_threshold}, **extra,
    }


@pytest.mark.parametrize("path", ["/retrieval", "/v1/dify/retrieval"])
def test_records_follow_the_contract(base_url: str, texts: dict[str, str], path: str) -> None:
    response = retrieve(base_url, body(top_k=3), path=path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"records"} and 1 <= len(payload["records"]) <= 3
    for record in payload["records"]:
        assert set(record) == {"content", "score", "title", "metadata"}
        assert (
            isinstance(record["content"], str) and isinstance(record["title"], str)
            and isinstance(record["metadata"], dict)
        )
        assert isinstance(record["score"], float) and 0.0 <= record["score"] <= 1.0
        meta = record["metadata"]
        assert {"doc_id", "start", "end", "section", "url", "chunk_id"} <= set(meta)
        assert texts[meta["doc_id"]][meta["start"]:meta["end"]] == record["content"]
        assert httpx.get(meta["path"]).json()["text"] == record["content"]
    best = payload["records"][0]
    assert best["metadata"]["doc_id"] == SEOUL and "安全、创新、包容" in best["content"] and best["score"] > 0.5


def test_score_threshold_filters_and_can_leave_nothing(base_url: str) -> None:
    everything = retrieve(base_url, body(top_k=10)).json()["records"]
    scores = [r["score"] for r in everything]
    assert len(everything) == 10 and min(scores) < 0.5 < max(scores)
    kept = retrieve(base_url, body(top_k=10, score_threshold=0.5)).json()["records"]
    assert kept and all(r["score"] >= 0.5 for r in kept) and len(kept) == sum(s >= 0.5 for s in scores)
    assert retrieve(base_url, body(top_k=10, score_threshold=1.0)).json() == {"records": []}


def test_knowledge_id_is_all_or_a_document(base_url: str) -> None:
    one = retrieve(base_url, body("人工智能安全", knowledge_id=SEOUL, top_k=5)).json()["records"]
    assert one and {r["metadata"]["doc_id"] for r in one} == {SEOUL}
    unknown = retrieve(base_url, body(knowledge_id="no-such-knowledge"))
    assert (
        unknown.status_code == 404
        and unknown.json() == {"error_code": 2001, "error_msg": unknown.json()["error_msg"]}
    )
    assert unknown.json()["error_msg"]


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, 1001), ({"Authorization": KEY}, 1001), ({"Authorization": f"Basic {KEY}"}, 1001),
     ({"Authorization": "Bearer"}, 1001),
     ({"Authorization": "Bearer wrong"}, 1002), ({"Authorization": f"Bearer {KEY}x"}, 1002)],
)
def test_authorization_errors(base_url: str, headers: dict, code: int) -> None:
    response = retrieve(base_url, body(), headers=headers)
    assert response.status_code == 403
    assert set(response.json()) == {"error_code", "error_msg"} and response.json()["error_code"] == code


def condition(name: str, op: str, value: object, logical: str = "and") -> dict:
    return {
        "metadata_condition": {
            "logical_operator": logical,
            "conditions": [{"name": [name], "comparison_operator": op, "value": value}],
        },
    }


def test_metadata_conditions(base_url: str, metadata: dict) -> None:
    def docs(**cond: object) -> set[str]:
        return {
            r["metadata"]["doc_id"]
            for r in retrieve(base_url, body("人工智能安全治理", top_k=20, **cond)).json()["records"]
        }

    seoul = metadata[SEOUL]
    assert docs(**condition("doc_id", "is", SEOUL)) == {SEOUL}
    assert SEOUL not in docs(**condition("doc_id", "is not", SEOUL))
    assert docs(**condition("doc_id", "in", [SEOUL])) == {SEOUL}
    assert SEOUL not in docs(**condition("doc_id", "not in", SEOUL))
    assert docs(**condition("title", "contains", seoul.title[2:8])) == {SEOUL}
    author = seoul.authors[0]
    assert SEOUL in docs(**condition("author", "contains", author)) and all(
        author in metadata[d].authors for d in docs(**condition("author", "is", author))
    )
    dates = sorted(m.date for m in metadata.values() if m.date)
    after = docs(**condition("date", "after", dates[0]))
    before = docs(**condition("date", "before", dates[-1]))
    assert after and all(metadata[d].date > dates[0] for d in after)
    assert before and all(metadata[d].date < dates[-1] for d in before)
    either = {"metadata_condition": {"logical_operator": "or", "conditions": [
        {"name": ["doc_id"], "comparison_operator": "is", "value": SEOUL},
        {"name": ["title"], "comparison_operator": "start with", "value": "no such title"},
    ]}}
    assert docs(**either) == {SEOUL}
    nothing = retrieve(base_url, body(**condition("title", "is", "no such title")))
    assert nothing.status_code == 200 and nothing.json() == {"records": []}


@pytest.mark.parametrize(
    "bad",
    [
        {"knowledge_id": "all", "query": QUESTION},
        {"knowledge_id": "all", "query": "   ", "retrieval_setting": {"top_k": 3, "score_threshold": 0.5}},
        {"knowledge_id": "all", "query": QUESTION, "retrieval_setting": {"top_k": 0, "score_threshold": 0.5}},
        {"knowledge_id": "all", "query": QUESTION, "retrieval_setting": {"top_k": 3, "score_threshold": 1.5}},
        {
            "knowledge_id": "all", "query": QUESTION, "retrieval_setting": {"top_k": 3},
            **condition("title", "like", "x"),
        },
    ],
)
def test_a_bad_body_is_a_400_in_difys_shape(base_url: str, bad: dict) -> None:
    response = retrieve(base_url, bad)
    assert response.status_code == 400 and set(response.json()) == {"error_code", "error_msg"}


def test_without_a_key_the_route_is_open(settings: Settings, built_index) -> None:
    for url in serve(settings):
        assert retrieve(url, body(), headers={}).status_code == 200
