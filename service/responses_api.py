"""OpenAI's Responses API, `POST /v1/responses`, plain and streamed, for clients that have moved on from chat
completions. The content is the chat door's (the quoted answer, its [n] markers, the numbered sources); each
marker and each source link is also a `url_citation` annotation, and the passages ride along in `citations`.
`input` is a string or a list of messages: its last user message is the question, the earlier ones the
conversation it may follow up. Errors, the key and the model check are the chat door's.

No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
"""

import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from service.asking import Asker
from service.chat_completions import (
    ChatMessage,
    Citation,
    OpenAIError,
    ask_in_conversation,
    check_model,
    citations_of,
    question_of,
    router as chat_router,
)
from service.chat_text import answer_text, conversation_note
from service.deps import capacity, get_asker
from service.schemas import ConversationOut, conversation_out
from service.usage import count_all, count_tokens
from service.public_url import public_base_url

MARKER = re.compile(r"\[(\d+)\]")

router = APIRouter(route_class=chat_router.route_class, tags=["OpenAI-compatible"], responses=chat_router.responses)


class ResponsesRequest(BaseModel):
    """OpenAI's Responses request; parameters govqa has no use for (instructions, tools, temperature, …) are ignored."""

    model: str = Field(
        description="`govqa` or a name in GOVQA_MODEL_ALIASES; any other is a 404 model_not_found", examples=["govqa"],
    )
    input: str | list[dict[str, Any]] = Field(
        description="the question, or a list of messages whose last user message is the question",
    )
    stream: bool = False


class UrlCitation(BaseModel):
    type: Literal["url_citation"] = "url_citation"
    start_index: int = Field(description="where the [n] marker or the link starts in the text")
    end_index: int
    url: str = Field(description="the passage on the serving host: /v1/passages/{chunk_id}")
    title: str


class OutputText(BaseModel):
    type: Literal["output_text"] = "output_text"
    text: str
    annotations: list[UrlCitation] = Field(default_factory=list)
    logprobs: list = Field(default_factory=list)


class OutputMessage(BaseModel):
    type: Literal["message"] = "message"
    id: str
    status: Literal["in_progress", "completed"] = "completed"
    role: Literal["assistant"] = "assistant"
    content: list[OutputText]


class InputTokensDetails(BaseModel):
    cached_tokens: int = 0


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class ResponseUsage(BaseModel):
    """Tokens counted by govqa's rule (service/usage.py)."""

    input_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int


class ResponseOut(BaseModel):
    id: str
    object: Literal["response"] = "response"
    created_at: int
    status: Literal["in_progress", "completed"] = "completed"
    model: str
    output: list[OutputMessage]
    output_text: str = Field(description="the text of the output message (as the SDKs' output_text)")
    parallel_tool_calls: bool = False
    tool_choice: Literal["none"] = "none"
    tools: list = Field(default_factory=list)
    error: None = None
    incomplete_details: None = None
    instructions: None = None
    metadata: dict = Field(default_factory=dict)
    temperature: None = None
    top_p: None = None
    usage: ResponseUsage | None = None
    citations: list[Citation] = Field(
        default_factory=list, description="the passages behind the answer, numbered as its [n] markers",
    )
    followup: ConversationOut | None = Field(
        None, description="when the question was read with the earlier user messages",
    )


def messages_of(value: str | list[dict[str, Any]]) -> list[ChatMessage]:
    """The input as chat messages: a string is one user message; items without a role (tool output …) are skipped."""
    if isinstance(value, str):
        return [ChatMessage(role="user", content=value)]
    messages = []
    for at, item in enumerate(value):
        role, content = item.get("role"), item.get("content")
        if role is None:
            continue
        if not isinstance(role, str) or not (
            content is None or isinstance(content, str) or isinstance(content, list)
        ):
            raise OpenAIError(
                400, "each input message needs a role and a string or a list of content parts", param=f"input.{at}",
            )
        parts = content if not isinstance(content, list) else [
            {"type": "text", "text": p.get("text")} for p in content
            if isinstance(p, dict) and p.get("type") in ("input_text", "output_text", "text")
        ]
        messages.append(ChatMessage(role=role, content=parts))
    if not messages:
        raise OpenAIError(400, "input must be a string or hold a user message", param="input")
    return messages


def annotations_of(text: str, citations: list[Citation]) -> list[UrlCitation]:
    """A url_citation for each [n] marker of the answer and each source link, pointing at the passage."""
    by_n = {c.n: c for c in citations}
    found = []
    for match in MARKER.finditer(text):
        cited = by_n.get(int(match.group(1)))
        if cited is not None:
            found.append(
                UrlCitation(start_index=match.start(), end_index=match.end(), url=cited.link, title=cited.title),
            )
    for c in citations:
        at = text.find(c.link)
        if at >= 0:
            found.append(UrlCitation(start_index=at, end_index=at + len(c.link), url=c.link, title=c.title))
    return sorted(found, key=lambda a: a.start_index)


def events(response: ResponseOut) -> Iterator[str]:
    """The response as the Responses API's server-sent events: created, the message and its text a line at a
    time, done events, completed."""
    sequence = 0
    message = response.output[0]
    text = message.content[0].text

    def event(kind: str, **fields: object) -> str:
        nonlocal sequence
        sequence += 1
        return (
            f"event: {kind}\n"
            f"data: {json.dumps({'type': kind, 'sequence_number': sequence - 1, **fields}, ensure_ascii=False)}\n\n"
        )

    pending = response.model_copy(
        update={"status": "in_progress", "output": [], "output_text": "", "usage": None},
    ).model_dump(mode="json")
    yield event("response.created", response=pending)
    yield event("response.in_progress", response=pending)
    started = message.model_copy(update={"status": "in_progress", "content": []}).model_dump(mode="json")
    yield event("response.output_item.added", output_index=0, item=started)
    yield event(
        "response.content_part.added", item_id=message.id, output_index=0, content_index=0,
        part=OutputText(text="").model_dump(mode="json"),
    )
    for line in text.splitlines(keepends=True):
        yield event(
            "response.output_text.delta", item_id=message.id, output_index=0, content_index=0, delta=line, logprobs=[],
        )
    yield event(
        "response.output_text.done", item_id=message.id, output_index=0, content_index=0, text=text, logprobs=[],
    )
    part = message.content[0].model_dump(mode="json")
    yield event("response.content_part.done", item_id=message.id, output_index=0, content_index=0, part=part)
    yield event("response.output_item.done", output_index=0, item=message.model_dump(mode="json"))
    yield event("response.completed", response=response.model_dump(mode="json"))


@router.post("/v1/responses", response_model=ResponseOut, dependencies=[Depends(capacity)])
async def responses(
    body: ResponsesRequest, request: Request, asker: Annotated[Asker, Depends(get_asker)],
) -> ResponseOut | StreamingResponse:
    """govqa's cited answer as an OpenAI Response (streamed as its events when `stream` is true)."""
    check_model(request, body.model)
    messages = messages_of(body.input)
    question, history = question_of(messages)
    out, resolved = await run_in_threadpool(ask_in_conversation, asker, question, history)
    citations = citations_of(out, public_base_url(request))
    links = {c.n: c.link for c in citations}
    followup = conversation_out(resolved)
    text = conversation_note(followup) + answer_text(out, lambda p: links[p.n])
    used_in, used_out = count_all(m.text() for m in messages), count_tokens(text)
    message = OutputMessage(
        id=f"msg_{uuid.uuid4().hex}", content=[OutputText(text=text, annotations=annotations_of(text, citations))],
    )
    response = ResponseOut(
        id=f"resp_{uuid.uuid4().hex}", created_at=int(time.time()), model=body.model, output=[message],
        output_text=text,
        usage=ResponseUsage(input_tokens=used_in, output_tokens=used_out, total_tokens=used_in + used_out),
        citations=citations, followup=followup,
    )
    if body.stream:
        return StreamingResponse(
            events(response), media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    return response
