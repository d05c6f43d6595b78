"""govqa's MCP server driven by the SDK's own client: over stdio (`govqa mcp` as a subprocess) and over
streamable HTTP at /mcp on a real uvicorn, with the real index."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from helpers import SEOUL
from servers import serve
from service.settings import PROJECT_ROOT, Settings

GOVQA = str(PROJECT_ROOT / ".venv" / "bin" / "govqa")
SEOUL_QUESTION = "首尔峰会的主题是什么？"
SEOUL_THEME = "安全、创新、包容"  # the summit's theme, as the article states it
TOOLS = {"ask", "search", "get_passage", "list_documents", "get_document_text"}


@pytest.fixture(scope="module")
def texts(corpus_documents) -> dict[str, str]:
    return {d.doc_id: d.text for d in corpus_documents}


@pytest.fixture(scope="module")
def titles(corpus_documents) -> dict[str, str]:
    return {d.doc_id: d.meta.title for d in corpus_documents}


def stdio_server(index_dir: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=GOVQA, args=["mcp"], cwd=str(PROJECT_ROOT), env={"GOVQA_INDEX_DIR": str(index_dir)}
    )


async def check_tools(client: Client) -> None:
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.input_schema["type"] == "object"
    ask = tools["ask"].input_schema
    assert ask["required"] == ["question"] and {"question", "top_k", "doc_ids"} <= set(ask["properties"])
    assert ask["properties"]["top_k"]["minimum"] == 1 and ask["properties"]["top_k"]["maximum"] == 20
    assert tools["get_document_text"].input_schema["required"] == ["doc_id"]


async def check_ask(client: Client, texts: dict[str, str], titles: dict[str, str]) -> dict:
    """The known question is answered from the Seoul article, and every citation reads back exactly."""
    result = await client.call_tool("ask", {"question": SEOUL_QUESTION, "top_k": 3})
    assert not result.is_error
    body = result.structured_content
    assert body["answer"] is not None and len(body["passages"]) == 3
    sentences = body["answer"]["sentences"]
    assert {s["doc_id"] for s in sentences} == {SEOUL}
    assert any(SEOUL_THEME in s["text"] for s in sentences)
    for s in sentences:
        assert texts[s["doc_id"]][s["start"]:s["end"]] == s["text"]
    for p in body["passages"]:
        assert texts[p["doc_id"]][p["start"]:p["end"]] == p["text"]
    text = result.content[0].text
    for s in sentences:
        assert f"{s['text'].strip()} [{s['passage']}]" in text
    assert titles[SEOUL] in text and all(p["chunk_id"] in text for p in body["passages"])
    return body


async def check_bad_arguments(client: Client) -> None:
    """Bad arguments are tool errors with a message, and the server goes on answering."""
    bad = [
        ("ask", {"question": ""}, "question"),
        ("ask", {"question": "   "}, "whitespace"),
        ("ask", {"question": SEOUL_QUESTION, "top_k": 0}, "top_k"),
        ("ask", {"question": SEOUL_QUESTION, "top_k": 21}, "top_k"),
        ("ask", {"question": SEOUL_QUESTION, "doc_ids": ["no-such-doc"]}, "no-such-doc"),
        ("ask", {}, "question"),
        ("search", {"query": "x" * 1001}, "query"),
        ("get_passage", {"chunk_id": "no-such-passage"}, "no-such-passage"),
        ("get_document_text", {"doc_id": "no-such-doc"}, "no-such-doc"),
        ("get_document_text", {"doc_id": SEOUL, "start": 10, "end": 5}, "start"),
    ]
    for tool, arguments, named in bad:
        result = await client.call_tool(tool, arguments)
        assert result.is_error, (tool, arguments)
        assert named in result.content[0].text, (tool, arguments, result.content[0].text)
    assert not (await client.call_tool("list_documents", {})).is_error


async def check_resources(client: Client, texts: dict[str, str], titles: dict[str, str]) -> None:
    resources = {str(r.uri): r for r in (await client.list_resources()).resources}
    assert set(resources) == {f"govqa://documents/{d}" for d in texts}
    seoul = resources[f"govqa://documents/{SEOUL}"]
    assert seoul.title == titles[SEOUL] and seoul.mime_type == "text/plain"
    contents = (await client.read_resource(str(seoul.uri))).contents
    assert len(contents) == 1 and contents[0].text == texts[SEOUL]


def test_stdio(built_index: Path, texts: dict[str, str], titles: dict[str, str]) -> None:
    async def session() -> None:
        async with Client(stdio_server(built_index), read_timeout_seconds=120) as client:
            await check_tools(client)
            await check_ask(client, texts, titles)
            await check_resources(client, texts, titles)
            await check_bad_arguments(client)
            await check_ask(client, texts, titles)

    anyio.run(session)


def test_stdio_without_an_index_exits_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "GOVQA_INDEX_DIR": str(tmp_path / "empty")}
    done = subprocess.run(
        [GOVQA, "mcp"], input="", capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=300
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].startswith("govqa: ") and "Traceback" not in done.stderr


def test_stdio_answers_the_handshake_without_the_index_and_tools_say_why_it_failed(tmp_path: Path) -> None:
    """The index loads behind the handshake: with one that cannot load, `initialize` and `tools/list` are
    still answered, and a tool call reports the load error instead of the server dying."""
    (tmp_path / "CURRENT").write_text("20990101T000000000000Z-missing\n", encoding="utf-8")

    async def session() -> None:
        async with Client(stdio_server(tmp_path), read_timeout_seconds=120) as client:
            await check_tools(client)
            result = await client.call_tool("ask", {"question": SEOUL_QUESTION})
            assert result.is_error
            assert "could not be loaded" in result.content[0].text

    anyio.run(session)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_http(base_url: str, mode: str, texts: dict[str, str], titles: dict[str, str]) -> None:
    """Both protocol eras: 'auto' negotiates the current one, 'legacy' the initialize handshake."""

    async def session() -> None:
        async with Client(f"{base_url}/mcp", mode=mode, read_timeout_seconds=120) as client:
            await check_tools(client)
            await check_ask(client, texts, titles)
            await check_resources(client, texts, titles)
            await check_bad_arguments(client)

    anyio.run(session)


def test_http_citations_read_back_through_the_other_tools(base_url: str, texts: dict[str, str]) -> None:
    async def session() -> None:
        async with Client(f"{base_url}/mcp", read_timeout_seconds=120) as client:
            body = (await client.call_tool("ask", {"question": SEOUL_QUESTION})).structured_content
            for p in body["passages"]:
                record = (await client.call_tool("get_passage", {"chunk_id": p["chunk_id"]})).structured_content
                assert (
                    (record["doc_id"], record["start"], record["end"], record["text"])
                    == (p["doc_id"], p["start"], p["end"], p["text"])
                )
                span = {"doc_id": p["doc_id"], "start": p["start"], "end": p["end"]}
                assert (await client.call_tool("get_document_text", span)).structured_content["text"] == p["text"]
            listing = (await client.call_tool("list_documents", {})).structured_content["documents"]
            assert {d["doc_id"]: d["chars"] for d in listing} == {d: len(t) for d, t in texts.items()}
            found = (
                await client.call_tool("search", {"query": SEOUL_QUESTION, "top_k": 4})
            ).structured_content["passages"]
            assert len(found) == 4 and found[0]["doc_id"] == SEOUL
            assert all(texts[p["doc_id"]][p["start"]:p["end"]] == p["text"] for p in found)
            restricted = (await client.call_tool(
                "ask", {"question": "人工智能治理", "doc_ids": ["003_522f828de9b5a839"], "top_k": 6}
            )).structured_content
            assert {p["doc_id"] for p in restricted["passages"]} == {"003_522f828de9b5a839"}

    anyio.run(session)


def test_http_without_an_index_gives_tool_errors(tmp_path: Path) -> None:
    async def session(url: str) -> None:
        async with Client(f"{url}/mcp", read_timeout_seconds=60) as client:
            assert {t.name for t in (await client.list_tools()).tools} == TOOLS
            result = await client.call_tool("ask", {"question": SEOUL_QUESTION})
            assert result.is_error and "not loaded" in result.content[0].text
            assert (await client.list_resources()).resources == []

    for url in serve(Settings(index_dir=tmp_path / "empty")):
        anyio.run(session, url)
