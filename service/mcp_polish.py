"""What an MCP client shows of govqa beside the tools themselves: tool descriptions as plain paragraphs (the SDK
passes docstrings on with their indentation), argument errors as one sentence naming the field (the SDK passes
pydantic's text on, with its "For further information visit …" lines), and resource templates, so a client
can read any document, range or passage by filling in a URI: govqa://documents/{doc_id},
govqa://documents/{doc_id}/range/{start}/{end} and govqa://passages/{chunk_id}."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from pydantic import ValidationError

from service.asking import Asker


def paragraph(text: str | None) -> str | None:
    """A docstring as one line of text: its indentation and line breaks gone."""
    return " ".join(inspect.cleandoc(text).split()) if text else text


def argument_error(tool: str, error: ValidationError) -> str:
    """One sentence per invalid argument, as 'top_k: Input should be less than or equal to 20 (got 50)'."""
    problems = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e.get("loc", ())) or "arguments"
        given = e.get("input")
        shown = (
            f" (got {given!r})"
            if isinstance(given, int | float | bool) or (isinstance(given, str) and len(given) <= 40) else ""
        )
        problems.append(f"{where}: {e.get('msg', 'invalid')}{shown}")
    return f"invalid arguments for {tool}: " + "; ".join(problems)


def clean_descriptions(server: MCPServer) -> None:
    """Every registered tool's description as a plain paragraph."""
    for tool in server._tool_manager.list_tools():  # the SDK keeps them there; descriptions are plain fields
        tool.description = paragraph(tool.description)


def clean_argument_errors(server: MCPServer) -> None:
    """Argument validation failures reported as `argument_error` sentences instead of pydantic's text."""
    call_tool = server.call_tool

    async def call(name: str, arguments: dict[str, Any], context: Any = None) -> Any:  # noqa: ANN401 - the SDK's own types
        try:
            return await call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc.__cause__, ValidationError):
                raise ToolError(argument_error(name, exc.__cause__)) from exc.__cause__
            raise

    server.call_tool = call  # type: ignore[method-assign]


def add_templates(server: MCPServer, asker_of: Callable[[], Asker | None]) -> None:
    """Resource templates over the loaded index: a document, a character range of one, a passage."""

    def backend():  # noqa: ANN202 - the loaded index's backend
        asker = asker_of()
        if asker is None:
            raise ResourceError("the index is not loaded (yet): try again shortly")
        return asker.retriever.backend

    def text_of(doc_id: str) -> str:
        texts = backend().texts
        if doc_id not in texts:
            raise ResourceError(f"no document {doc_id!r}; list_documents gives the ids")
        return texts[doc_id]

    @server.resource(
        "govqa://documents/{doc_id}", name="document", title="A document's full text", mime_type="text/plain",
    )
    def document(doc_id: str) -> str:
        """The exact text of a document, by its id (from list_documents)."""
        return text_of(doc_id)

    @server.resource(
        "govqa://documents/{doc_id}/range/{start}/{end}", name="document_range", title="A range of a document",
        mime_type="text/plain",
    )
    def document_range(doc_id: str, start: str, end: str) -> str:
        """The exact text between two character offsets of a document (a citation's start and end)."""
        text = text_of(doc_id)
        if not (start.isdigit() and end.isdigit() and int(start) <= int(end) <= len(text)):
            raise ResourceError(
                f"need whole numbers 0 <= start <= end <= {len(text)}, got start={start!r}, end={end!r}",
            )
        return text[int(start):int(end)]

    @server.resource("govqa://passages/{chunk_id}", name="passage", title="A passage", mime_type="text/plain")
    def passage(chunk_id: str) -> str:
        """The exact text of one passage, by its chunk_id (from ask or search)."""
        index = backend()
        position = index.chunk_positions.get(chunk_id)
        if position is None:
            raise ResourceError(f"no passage {chunk_id!r}")
        return index.chunks[position].text

    for template in server._resource_manager.list_templates():
        template.description = paragraph(template.description)


def polish(server: MCPServer, asker_of: Callable[[], Asker | None]) -> None:
    """Clean descriptions and errors, and add the resource templates."""
    add_templates(server, asker_of)
    clean_descriptions(server)
    clean_argument_errors(server)
