"""What an MCP client shows, through the `mcp` SDK's own client against a live server: tool descriptions as
plain paragraphs, argument errors as one sentence without pydantic's boilerplate, resource templates that read
documents, ranges and passages exactly, and `ask` with a conversation's history."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client

from helpers import SEOUL


@pytest.fixture(scope="module")
def texts(corpus_documents) -> dict[str, str]:
    return {d.doc_id: d.text for d in corpus_documents}


def session(base_url: str, body) -> None:  # noqa: ANN001 - an async function of the client
    async def run() -> None:
        async with Client(f"{base_url}/mcp", read_timeout_seconds=120) as client:
            await body(client)

    anyio.run(run)


def test_descriptions_are_plain_paragraphs(base_url: str) -> None:
    async def body(client: Client) -> None:
        for tool in (await client.list_tools()).tools:
            assert "\n" not in tool.description and "  " not in tool.description, tool.name
        for template in (await client.list_resource_templates()).resource_templates:
            assert template.description and "\n" not in template.description

    session(base_url, body)


@pytest.mark.parametrize(
    ("tool", "arguments", "named"),
    [("ask", {"question": "首尔峰会", "top_k": 50}, "top_k"), ("ask", {}, "question"),
     ("search", {"query": "x" * 1001}, "query"),
     ("get_document_text", {"doc_id": SEOUL, "start": -1}, "start"),
     ("ask", {"question": "x", "history": "not a list"}, "history")],
)
def test_argument_errors_are_one_sentence(base_url: str, tool: str, arguments: dict, named: str) -> None:
    async def body(client: Client) -> None:
        result = await client.call_tool(tool, arguments)
        message = result.content[0].text
        assert result.is_error and message.startswith(f"invalid arguments for {tool}: {named}")
        assert "pydantic" not in message and "For further information" not in message and "\n" not in message

    session(base_url, body)


def test_resource_templates_read_exact_text(base_url: str, texts: dict[str, str]) -> None:
    async def body(client: Client) -> None:
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert templates == {"govqa://documents/{doc_id}", "govqa://documents/{doc_id}/range/{start}/{end}", "govqa://passages/{chunk_id}"}
        found = (
            await client.call_tool("search", {"query": "首尔峰会的主题是什么？", "top_k": 1})
        ).structured_content["passages"][0]
        passage = (await client.read_resource(f"govqa://passages/{found['chunk_id']}")).contents[0].text
        assert passage == found["text"] == texts[found["doc_id"]][found["start"]:found["end"]]
        ranged = (await client.read_resource(f"govqa://documents/{SEOUL}/range/82/118")).contents[0].text
        assert ranged == texts[SEOUL][82:118]
        for bad in (f"govqa://documents/{SEOUL}/range/9/3", "govqa://passages/no-such-passage", "govqa://documents/no-such-doc/range/0/1"):
            with pytest.raises(Exception) as raised:
                await client.read_resource(bad)
            assert "no " in str(raised.value) or "need" in str(raised.value)

    session(base_url, body)


def test_ask_reads_a_follow_up_with_its_history(base_url: str) -> None:
    async def body(client: Client) -> None:
        result = await client.call_tool(
            "ask", {"question": "那第二届呢？", "history": ["第一届全球人工智能安全峰会在哪里举行？"]}
        )
        followup = result.structured_content["followup"]
        assert "第二届" in followup["searched"] and "峰会" in "".join(followup["carried"])
        assert result.content[0].text.startswith("Read with the earlier questions:")
        assert any("首尔" in s["text"] for s in result.structured_content["answer"]["sentences"])
        alone = await client.call_tool("ask", {"question": "那第二届呢？"})
        assert alone.structured_content["followup"] is None

    session(base_url, body)
