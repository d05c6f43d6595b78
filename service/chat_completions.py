"""An OpenAI-compatible door: `POST /v1/chat/completions`, `GET /v1/models` and `GET /v1/models/{id}` (model
`govqa`, and the names in GOVQA_MODEL_ALIASES), so any chat client or framework that speaks OpenAI can ask
govqa. Nothing is generated: the reply is govqa's extractive answer, quoted, with a numbered source list, and
the passages ride along in an extra field `citations`. A follow-up question is read against the earlier user
messages (service/followups.py). `usage` is counted by service/usage.py's rule. Unsupported parameters are
ignored; errors, including malformed bodies and unknown models, come in OpenAI's shape. An optional bearer key
(GOVQA_API_KEY) guards these routes.

No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
"""

import hmac
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.asking import Asker
from service.chat_text import answer_text, conversation_note
from service.deps import capacity, get_asker
from service.errors import validation_message
from service.conversation import ask_in_conversation as ask_with_history
from service.followups import Resolved
from service.schemas import AskOut, ConversationOut, PassageOut, ask_out, conversation_out, trim
from service.usage import CompletionUsage, chat_usage
from service.public_url import public_base_url

MODEL_ID = "govqa"
MAX_QUESTION_CHARS = 1000


class OpenAIError(Exception):
    """A failure to report in OpenAI's error shape."""

    def __init__(
        self, status: int, message: str, param: str | None = None, code: str | None = None, headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.headers = status, message, param, code, headers


def error_response(error: OpenAIError) -> JSONResponse:
    kind = "invalid_request_error" if error.status < 500 else "server_error"
    body = {"error": {"message": error.message, "type": kind, "param": error.param, "code": error.code}}
    return JSONResponse(body, status_code=error.status, headers=error.headers)


def invalid_body(exc: RequestValidationError) -> OpenAIError:
    """A 400 naming the first invalid field as OpenAI does (`messages.0.content`)."""
    errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
    if errors and errors[0].get("type") == "json_invalid":
        return OpenAIError(400, "the request body is not valid JSON")
    where = [str(p) for p in (errors[0].get("loc", ()) if errors else ()) if p != "body"]
    return OpenAIError(400, validation_message(errors), param=".".join(where) or None)


def check_key(request: Request) -> None:
    """401 unless the request carries `Authorization: Bearer <GOVQA_API_KEY>` (when a key is set)."""
    expected = request.app.state.settings.api_key
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise OpenAIError(
            401, "missing API key: send it as 'Authorization: Bearer <key>'", code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise OpenAIError(401, "incorrect API key", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})


class OpenAIRoute(APIRoute):
    """A route that checks the bearer key first and reports every failure in OpenAI's error shape, leaving
    the rest of the API's own error shape untouched."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def openai_handler(request: Request) -> Response:
            try:
                check_key(request)
                return await handler(request)
            except OpenAIError as exc:
                return error_response(exc)
            except RequestValidationError as exc:
                return error_response(invalid_body(exc))
            except StarletteHTTPException as exc:  # FastAPI's and Starlette's (body parsing raises the latter)
                message = exc.detail if isinstance(exc.detail, str) else "request failed"
                return error_response(OpenAIError(exc.status_code, message, headers=getattr(exc, "headers", None)))

        return openai_handler


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str = Field(description="invalid_request_error (4xx) or server_error (5xx)")
    param: str | None = Field(None, description="the invalid field, e.g. messages.0.content")
    code: str | None = Field(None, description="e.g. invalid_api_key")


class OpenAIErrorOut(BaseModel):
    """Every error of these routes has OpenAI's shape."""

    error: OpenAIErrorDetail


router = APIRouter(
    route_class=OpenAIRoute, tags=["OpenAI-compatible"],
    responses={
        status: {"model": OpenAIErrorOut, "description": description}
        for status, description in {
            400: "malformed body; param names the field", 401: "missing or wrong key (when GOVQA_API_KEY is set)",
            404: "unknown model (code model_not_found)",
            503: "index not loaded yet, or too many questions in flight (see Retry-After)",
        }.items()
    },
)


class ChatMessage(BaseModel):
    role: str = Field(description="system, developer, user, assistant or tool; the last user message is the question")
    content: str | list[dict] | None = Field(
        None, description="a string, or a list of content parts of which the text parts are read",
    )

    @field_validator("content", mode="before")
    @classmethod
    def text_or_parts(cls, value: object) -> object:
        if (
            value is None or isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(p, dict) for p in value))
        ):
            return value
        raise ValueError("content must be a string or a list of content parts")

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(str(part.get("text") or "") for part in self.content if part.get("type") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = Field(False, description="send a last chunk, before [DONE], with `usage` and no choices")


class ChatRequest(BaseModel):
    """OpenAI's chat-completion request; parameters govqa has no use for (temperature, tools, …) are ignored."""

    model: str = Field(
        description="`govqa` or a name in GOVQA_MODEL_ALIASES; any other is a 404 model_not_found", examples=[MODEL_ID],
    )
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None


class Citation(PassageOut):
    link: str = Field(description="this passage on the serving host: /v1/passages/{chunk_id}")


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str
    refusal: None = None


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: Literal["stop"] = "stop"
    logprobs: None = None


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str = MODEL_ID
    system_fingerprint: str = Field(description="the index version that answered")
    choices: list[Choice]
    usage: CompletionUsage
    citations: list[Citation] = Field(description="the passages behind the answer, numbered as its [n] markers")
    followup: ConversationOut | None = Field(
        None,
        description=(
            "when the question was read with the earlier user messages: what was searched and which terms came "
            "from them"
        ),
    )


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: Literal["stop"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str = MODEL_ID
    system_fingerprint: str
    choices: list[ChunkChoice]
    citations: list[Citation] | None = Field(None, description="on the first chunk only")
    followup: ConversationOut | None = Field(
        None, description="on the first chunk only, when the question was read with the earlier user messages",
    )
    usage: CompletionUsage | None = Field(
        None, description="with stream_options.include_usage: on the last chunk, whose choices are empty",
    )


class Model(BaseModel):
    id: str = MODEL_ID
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "govqa"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


def known_models(request: Request) -> list[str]:
    """`govqa` and the configured aliases."""
    return [MODEL_ID, *(a for a in request.app.state.settings.model_aliases if a != MODEL_ID)]


def check_model(request: Request, model: str) -> None:
    """404 model_not_found, as OpenAI answers, for a model govqa does not serve."""
    if model not in known_models(request):
        raise OpenAIError(
            404, f"The model `{model}` does not exist or you do not have access to it.", param="model",
            code="model_not_found",
        )


def question_of(messages: list[ChatMessage]) -> tuple[str, list[str]]:
    """The last user message, trimmed, and the earlier user messages (the conversation it follows); 400 when
    there is no user message or the last is empty or too long."""
    user = [m for m in messages if m.role == "user"]
    if not user:
        raise OpenAIError(400, "messages must contain a user message: its text is the question", param="messages")
    question = trim(user[-1].text())
    if not 1 <= len(question) <= MAX_QUESTION_CHARS:
        raise OpenAIError(
            400, f"the last user message must hold 1–{MAX_QUESTION_CHARS} characters of text", param="messages",
        )
    history = [trim(m.text())[:MAX_QUESTION_CHARS] for m in user[:-1]]
    return question, [h for h in history if h]


def ask_in_conversation(asker: Asker, question: str, history: list[str]) -> tuple[AskOut, Resolved]:
    """govqa's answer to a question read against the earlier questions of its conversation."""
    result, resolved = ask_with_history(asker, question, history)
    return ask_out(result), resolved


def citations_of(out: AskOut, base_url: str) -> list[Citation]:
    return [
        Citation(**p.model_dump(), link=f"{base_url}v1/passages/{quote(p.chunk_id, safe='')}") for p in out.passages
    ]


def stream(
    completion_id: str, created: int, fingerprint: str, content: str, citations: list[Citation],
    conversation: ConversationOut | None = None, usage: CompletionUsage | None = None,
) -> Iterator[str]:
    """The reply as server-sent events of chat.completion.chunk objects, a line of content at a time, then (when
    asked for) a chunk with the usage and no choices, ending with [DONE]."""

    def event(delta: Delta, finish: Literal["stop"] | None = None, **extra: object) -> str:
        chunk = ChatCompletionChunk(
            id=completion_id, created=created, system_fingerprint=fingerprint,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)], **extra,
        )
        return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"

    yield event(Delta(role="assistant", content=""), citations=citations, followup=conversation)
    for line in content.splitlines(keepends=True):
        yield event(Delta(content=line))
    yield event(Delta(), finish="stop")
    if usage is not None:
        last = ChatCompletionChunk(
            id=completion_id, created=created, system_fingerprint=fingerprint, choices=[], usage=usage,
        )
        yield f"data: {last.model_dump_json(exclude_none=True)}\n\n"
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions", response_model=ChatCompletion, dependencies=[Depends(capacity)])
async def chat_completions(
    body: ChatRequest, request: Request, asker: Annotated[Asker, Depends(get_asker)],
) -> ChatCompletion | StreamingResponse:
    """govqa's cited answer to the last user message, read against the earlier ones when it follows them up, as an
    OpenAI chat completion (streamed when `stream` is true)."""
    check_model(request, body.model)
    question, history = question_of(body.messages)
    out, resolved = await run_in_threadpool(ask_in_conversation, asker, question, history)
    base_url = public_base_url(request)
    citations = citations_of(out, base_url)
    links = {c.n: c.link for c in citations}
    conversation = conversation_out(resolved)
    content = conversation_note(conversation) + answer_text(out, lambda p: links[p.n])
    usage = chat_usage((m.text() for m in body.messages), content)
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if body.stream:
        with_usage = usage if body.stream_options and body.stream_options.include_usage else None
        events = stream(completion_id, created, out.index_version, content, citations, conversation, with_usage)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
    return ChatCompletion(
        id=completion_id, created=created, model=body.model, system_fingerprint=out.index_version,
        choices=[Choice(message=AssistantMessage(content=content))], usage=usage, citations=citations,
        followup=conversation,
    )


@router.get("/v1/models", response_model=ModelList)
def models(request: Request) -> ModelList:
    """The models govqa answers as: `govqa` and the configured aliases."""
    return ModelList(data=[Model(id=m) for m in known_models(request)])


@router.get("/v1/models/{model_id}", response_model=Model)
def model(request: Request, model_id: str) -> Model:
    """One model by its id; 404 model_not_found for any other."""
    check_model(request, model_id)
    return Model(id=model_id)
