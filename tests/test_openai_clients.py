"""OpenAI compatibility as real clients use it: `usage` (plain and streamed), `models.retrieve`, an unknown model,
the Responses API (plain and streamed), follow-up questions in a conversation, all through the official
`openai` SDK, and Simon Willison's `llm` CLI (`--no-stream`, chat and responses), against a live server."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from servers import serve
from service.settings import Settings
from service.usage import count_tokens

SEOUL_QUESTION = "首尔峰会的主题是什么？"
SEOUL_THEME = "安全、创新、包容"
SUMMIT_VENUE = "第一届全球人工智能安全峰会在哪里举行？"
LLM = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "llm"


@pytest.fixture(scope="module")
def base_url(settings: Settings, built_index) -> Iterator[str]:
    yield from serve(settings.model_copy(update={"model_aliases": ["gpt-4o-mini"]}))


@pytest.fixture(scope="module")
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="anything", max_retries=0, timeout=120)


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def test_usage_is_counted_by_the_stated_rule(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="govqa", messages=[user(SEOUL_QUESTION)])
    usage = completion.usage
    assert usage is not None
    assert usage.prompt_tokens == count_tokens(SEOUL_QUESTION) == 11  # ten characters and a question mark
    assert usage.completion_tokens == count_tokens(completion.choices[0].message.content) > 20
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_count_tokens_rule() -> None:
    assert count_tokens("What did the UK say in 2023?") == 8  # six words, a number, a mark
    assert count_tokens("  ") == 0 and count_tokens("人工智能") == 4


def test_streamed_usage_comes_last_when_asked_for(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(
        model="govqa", messages=[user(SEOUL_QUESTION)], stream=True, stream_options={"include_usage": True},
    ))
    *content_chunks, last = chunks
    assert last.choices == [] and last.usage is not None
    assert all(c.usage is None for c in content_chunks)
    text = "".join(c.choices[0].delta.content or "" for c in content_chunks)
    assert (
        last.usage.completion_tokens == count_tokens(text)
        and last.usage.prompt_tokens == count_tokens(SEOUL_QUESTION)
    )
    plain = list(client.chat.completions.create(model="govqa", messages=[user(SEOUL_QUESTION)], stream=True))
    assert all(c.usage is None and c.choices for c in plain)


def test_models_retrieve_and_an_unknown_model(client: openai.OpenAI) -> None:
    assert client.models.retrieve("govqa").id == "govqa"
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"  # a configured alias
    assert {m.id for m in client.models.list()} == {"govqa", "gpt-4o-mini"}
    for call in (
        lambda: client.models.retrieve("gpt-5"),
        lambda: client.chat.completions.create(model="gpt-5", messages=[user(SEOUL_QUESTION)]),
        lambda: client.responses.create(model="gpt-5", input=SEOUL_QUESTION),
    ):
        with pytest.raises(openai.NotFoundError) as raised:
            call()
        assert raised.value.status_code == 404 and raised.value.code == "model_not_found"
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=[user(SEOUL_QUESTION)])
    assert reply.model == "gpt-4o-mini" and SEOUL_THEME in reply.choices[0].message.content


def test_responses_api_plain(client: openai.OpenAI, base_url: str, corpus_documents) -> None:
    texts = {d.doc_id: d.text for d in corpus_documents}
    response = client.responses.create(model="govqa", input=SEOUL_QUESTION)
    assert response.object == "response" and response.status == "completed" and response.id.startswith("resp_")
    chat = client.chat.completions.create(model="govqa", messages=[user(SEOUL_QUESTION)]).choices[0].message.content
    assert response.output_text == chat and SEOUL_THEME in response.output_text
    assert response.usage.input_tokens == count_tokens(SEOUL_QUESTION)
    assert response.usage.output_tokens == count_tokens(response.output_text)
    citations = response.model_extra["citations"]
    for c in citations:
        assert texts[c["doc_id"]][c["start"]:c["end"]] == c["text"]
    annotations = response.output[0].content[0].annotations
    markers = [a for a in annotations if re.fullmatch(r"\[\d+\]", response.output_text[a.start_index:a.end_index])]
    assert markers and all(
        a.type == "url_citation" and a.url.startswith(f"{base_url}/v1/passages/") for a in annotations
    )
    for a in markers:
        n = int(response.output_text[a.start_index + 1:a.end_index - 1])
        assert a.url == citations[n - 1]["link"] and a.title == citations[n - 1]["title"]


def test_responses_api_streamed(client: openai.OpenAI) -> None:
    plain = client.responses.create(
        model="govqa", input=[{"role": "user", "content": [{"type": "input_text", "text": SEOUL_QUESTION}]}]
    )
    events = list(client.responses.create(model="govqa", input=SEOUL_QUESTION, stream=True))
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == plain.output_text == events[-1].response.output_text
    with client.responses.stream(model="govqa", input=SEOUL_QUESTION) as stream:
        final = stream.get_final_response()
    assert final.output_text == plain.output_text


def test_a_follow_up_is_read_with_the_conversation(client: openai.OpenAI) -> None:
    alone = client.chat.completions.create(model="govqa", messages=[user("那第二届呢？")])
    assert alone.model_extra.get("followup") is None
    messages = [user(SUMMIT_VENUE), {"role": "assistant", "content": "…"}, user("那第二届呢？")]
    reply = client.chat.completions.create(model="govqa", messages=messages)
    followup = reply.model_extra["followup"]
    assert (
        "第二届" in followup["searched"] and "举行" in followup["searched"]
        and "第一" in "".join(followup["replaced"])
    )
    assert "峰会" in "".join(followup["carried"])
    content = reply.choices[0].message.content
    assert content.startswith("Read with the earlier questions:") and "首尔" in content.split("\nSources:")[0]
    response = client.responses.create(model="govqa", input=messages)
    assert response.model_extra["followup"] == followup and response.output_text == content


def test_bad_responses_input_is_a_400(base_url: str) -> None:
    for body in (
        {"model": "govqa"}, {"model": "govqa", "input": []}, {"model": "govqa", "input": [{"role": 5}]},
        {"model": "govqa", "input": "  "},
    ):
        response = httpx.post(f"{base_url}/v1/responses", json=body)
        assert response.status_code == 400, body
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def run_llm(tmp_path: Path, base_url: str, *args: str) -> str:
    """The `llm` CLI, with govqa configured as an extra OpenAI model (chat and responses) in a user dir of its own."""
    (tmp_path / "extra-openai-models.yaml").write_text(
        f"- model_id: govqa\n  model_name: govqa\n  api_base: {base_url}/v1\n"
        f"- model_id: govqa-responses\n  model_name: govqa\n  api_base: {base_url}/v1\n  responses: true\n"
    )
    env = {**os.environ, "LLM_USER_PATH": str(tmp_path)}
    done = subprocess.run([str(LLM), *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("model", ["govqa", "govqa-responses"])
@pytest.mark.parametrize("streamed", [False, True])
def test_llm_cli(tmp_path: Path, base_url: str, model: str, streamed: bool) -> None:
    out = run_llm(tmp_path, base_url, "-m", model, *([] if streamed else ["--no-stream"]), SEOUL_QUESTION)
    assert SEOUL_THEME in out and "Sources:" in out
    logged = json.loads(run_llm(tmp_path, base_url, "logs", "-n", "1", "--json"))
    assert logged[0]["input_tokens"] == count_tokens(SEOUL_QUESTION) and logged[0]["output_tokens"] > 20
