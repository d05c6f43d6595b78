"""The OpenAI-compatible door, driven by the official `openai` client (and raw httpx where the wire
itself matters) against a real uvicorn with the real index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import openai
import pytest

from helpers import SEOUL
from servers import serve
from service.settings import Settings

SEOUL_QUESTION = "首尔峰会的主题是什么？"
SEOUL_THEME = "安全、创新、包容"  # the summit's theme, as the article states it
UNANSWERABLE = "欧盟人工智能办公室的首任主任是谁？"
OPENAI_ERROR_KEYS = {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="anything", max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def texts(corpus_documents) -> dict[str, str]:
    return {d.doc_id: d.text for d in corpus_documents}


def ask(client: openai.OpenAI, question: str, **extra):  # noqa: ANN003, ANN201 - openai's own types
    return client.chat.completions.create(model="govqa", messages=[{"role": "user", "content": question}], **extra)


def answer_markers(content: str) -> set[int]:
    """The [n] markers of the answer part (before the source list)."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", content.split("\nSources:")[0])}


def check_citations(base_url: str, content: str, citations: list[dict], texts: dict[str, str]) -> None:
    """Every citation reads back exactly from the API's document text and from its link, and is listed in the
    content."""
    assert [c["n"] for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        served = httpx.get(
            f"{base_url}/v1/documents/{c['doc_id']}/text", params={"start": c["start"], "end": c["end"]}
        ).json()
        assert served["text"] == c["text"] == texts[c["doc_id"]][c["start"]:c["end"]]
        assert c["link"] == f"{base_url}/v1/passages/{c['chunk_id']}" and c["link"] in content
        assert httpx.get(c["link"]).json()["text"] == c["text"]
        assert re.search(rf"^\[{c['n']}\] .*{re.escape(c['link'])}$", content, re.M)


def test_a_cited_answer(client: openai.OpenAI, base_url: str, texts: dict[str, str]) -> None:
    completion = ask(client, SEOUL_QUESTION)
    assert (
        completion.object == "chat.completion" and completion.model == "govqa"
        and completion.id.startswith("chatcmpl-")
    )
    choice = completion.choices[0]
    assert choice.message.role == "assistant" and choice.finish_reason == "stop"
    content, citations = choice.message.content, completion.model_extra["citations"]
    assert SEOUL_THEME in content.split("\nSources:")[0]
    markers = answer_markers(content)
    assert markers and markers <= {c["n"] for c in citations}
    assert {citations[n - 1]["doc_id"] for n in markers} == {SEOUL}
    check_citations(base_url, content, citations, texts)


def test_the_answer_is_quoted_source_text(client: openai.OpenAI, texts: dict[str, str]) -> None:
    """Answer sentences are block-quoted exact slices of a cited passage, so a client cannot take them for
    instructions."""
    completion = ask(client, SEOUL_QUESTION)
    content, citations = completion.choices[0].message.content, completion.model_extra["citations"]
    quoted = [line for line in content.split("\nSources:")[0].splitlines() if line.startswith("> ")]
    assert quoted
    for line in quoted:
        sentence, n = re.fullmatch(r"> (.+) \[(\d+)\]", line).groups()
        cited = citations[int(n) - 1]
        assert sentence in cited["text"] and sentence in texts[cited["doc_id"]]


def test_the_last_user_message_is_the_question(client: openai.OpenAI) -> None:
    messages = [
        {"role": "system", "content": "Answer in French."},
        {"role": "user", "content": "布莱切利宣言说了什么？"},
        {"role": "assistant", "content": "…"},
        {"role": "user", "content": [{"type": "text", "text": SEOUL_QUESTION}]},
    ]
    completion = client.chat.completions.create(model="govqa", messages=messages)
    assert SEOUL_THEME in completion.choices[0].message.content.split("\nSources:")[0]


def test_unanswerable_question_says_so_and_lists_nearest_passages(client: openai.OpenAI) -> None:
    completion = ask(client, UNANSWERABLE)
    content, citations = completion.choices[0].message.content, completion.model_extra["citations"]
    assert content.splitlines()[0].startswith("The documents do not answer this")
    assert not answer_markers(content.split("\n[1] ")[0]) and "> " not in content
    assert len(citations) == 5 and all(c["link"] in content for c in citations)


def test_streaming(client: openai.OpenAI, base_url: str, texts: dict[str, str]) -> None:
    chunks = list(ask(client, SEOUL_QUESTION, stream=True))
    assert all(c.object == "chat.completion.chunk" and c.model == "govqa" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    citations = chunks[0].model_extra["citations"]
    assert SEOUL_THEME in content and answer_markers(content) <= {c["n"] for c in citations}
    check_citations(base_url, content, citations, texts)
    assert content == ask(client, SEOUL_QUESTION).choices[0].message.content


def test_stream_is_server_sent_events_ending_with_done(base_url: str) -> None:
    body = {"model": "govqa", "messages": [{"role": "user", "content": SEOUL_QUESTION}], "stream": True}
    with httpx.stream("POST", f"{base_url}/v1/chat/completions", json=body, timeout=120) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in events)
    assert events[-1] == "data: [DONE]" and events.count("data: [DONE]") == 1
    chunks = [json.loads(line.removeprefix("data: ")) for line in events[:-1]]
    assert len(chunks) >= 3 and all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_models(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["govqa"]


def test_unsupported_parameters_are_ignored(client: openai.OpenAI) -> None:
    plain = ask(client, SEOUL_QUESTION).choices[0].message.content
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    decorated = ask(
        client, SEOUL_QUESTION, temperature=0.2, top_p=0.5, max_tokens=3, n=1, seed=7, presence_penalty=1.0,
        tools=tools, tool_choice="auto", user="someone", response_format={"type": "text"},
        extra_body={"not_openai": True},
    )
    assert decorated.choices[0].message.content == plain


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{not json", None),
        (b'{"model": "govqa"}', "messages"),
        (b'{"model": "govqa", "messages": []}', "messages"),
        (b'{"messages": [{"role": "user", "content": "hi"}]}', "model"),
        (b'{"model": "govqa", "messages": [{"role": "system", "content": "be brief"}]}', "messages"),
        (b'{"model": "govqa", "messages": [{"role": "user", "content": "   "}]}', "messages"),
        (b'{"model": "govqa", "messages": [{"role": "user", "content": 5}]}', "messages.0.content"),
        (b'{"model": "govqa", "messages": [{"content": "hi"}]}', "messages.0.role"),
        (b'{"model": "govqa", "messages": "hi"}', "messages"),
        (b'[]', None),
        (b'{"model": "govqa", "messages": [{"role": "user", "content": "\xff\xfe"}]}', None),
    ],
)
def test_a_malformed_body_is_a_400_in_openai_shape(base_url: str, body: bytes, param: str | None) -> None:
    response = httpx.post(f"{base_url}/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(response.json()) == {"error"} and set(error) == OPENAI_ERROR_KEYS
    assert error["type"] == "invalid_request_error" and error["message"] and error["param"] == param


def test_the_openai_client_sees_a_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="govqa", messages=[{"role": "user", "content": "问" * 1001}])
    assert raised.value.status_code == 400 and raised.value.param == "messages"


def test_other_routes_keep_their_own_error_shape(base_url: str) -> None:
    body = httpx.post(f"{base_url}/v1/ask", json={"question": ""}).json()
    assert set(body["error"]) == {"code", "message", "detail"} and body["error"]["code"] == "invalid_request"


def test_no_key_is_needed_when_none_is_set(base_url: str) -> None:
    body = {"model": "govqa", "messages": [{"role": "user", "content": SEOUL_QUESTION}]}
    assert httpx.post(f"{base_url}/v1/chat/completions", json=body, timeout=120).status_code == 200
    assert httpx.get(f"{base_url}/v1/models").status_code == 200


def test_the_bearer_key_is_enforced_when_set(settings: Settings, built_index) -> None:
    body = {"model": "govqa", "messages": [{"role": "user", "content": SEOUL_QUESTION}]}
    for url in serve(settings.model_copy(update={"api_key": "s3cret-key"})):
        for headers in (
            {}, {"Authorization": "Bearer wrong"},
            {"Authorization": "Basic s3cret-key"}, {"Authorization": "Bearer s3cret-ke"},
        ):
            for response in (
                httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers),
                httpx.get(f"{url}/v1/models", headers=headers),
            ):
                assert response.status_code == 401, headers
                assert (
                    set(response.json()["error"]) == OPENAI_ERROR_KEYS
                    and response.json()["error"]["code"] == "invalid_api_key"
                )
                assert response.headers["www-authenticate"] == "Bearer"
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
        good = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret-key", max_retries=0, timeout=120)
        assert SEOUL_THEME in ask(good, SEOUL_QUESTION).choices[0].message.content
        assert [m.id for m in good.models.list()] == ["govqa"]


def test_not_ready_is_a_503_in_openai_shape(tmp_path: Path) -> None:
    body = {"model": "govqa", "messages": [{"role": "user", "content": SEOUL_QUESTION}]}
    for url in serve(Settings(index_dir=tmp_path / "empty")):
        response = httpx.post(f"{url}/v1/chat/completions", json=body)
        assert response.status_code == 503 and set(response.json()["error"]) == OPENAI_ERROR_KEYS
        assert "govqa build" in response.json()["error"]["message"]
