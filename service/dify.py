"""Dify's External Knowledge API: `POST /retrieval` (also `/v1/dify/retrieval`), the contract Dify (and RAGFlow)
call for an external knowledge base. `knowledge_id` is `all` or one `doc_id`; records are govqa's passages,
each `content` an exact slice of its document with the citation in `metadata`, and `score` a calibrated 0–1
relevance (service/relevance.py) that `score_threshold` filters on. The bearer key is GOVQA_API_KEY; errors
come as Dify documents them, `{"error_code", "error_msg"}`: 1001 a malformed Authorization header, 1002 a wrong
key (both 403), 2001 an unknown knowledge id (404); govqa's own: 400 for an invalid body, 503 while loading.

No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
"""

import hmac
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.asking import Asker
from service.deps import capacity, get_asker
from service.display import clean_author
from service.dify_filters import MetadataCondition, matching
from service.errors import validation_message
from service.relevance import relevance
from service.schemas import NOT_BLANK, trim
from service.public_url import public_base_url

ALL = "all"


class DifyError(Exception):
    """A failure to report in Dify's error shape."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def dify_error(error: DifyError) -> JSONResponse:
    return JSONResponse({"error_code": error.code, "error_msg": error.message}, status_code=error.status)


def check_key(request: Request) -> None:
    """1001 unless the header reads `Bearer <key>`, 1002 unless the key is GOVQA_API_KEY (when one is set)."""
    expected = request.app.state.settings.api_key
    if not expected:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme != "Bearer" or not given.strip():
        raise DifyError(403, 1001, "Invalid Authorization header format. Expected 'Bearer <api-key>' format.")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise DifyError(403, 1002, "Authorization failed")


class DifyRoute(APIRoute):
    """A route that checks the key first and reports every failure in Dify's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def dify_handler(request: Request) -> Response:
            try:
                check_key(request)
                return await handler(request)
            except DifyError as exc:
                return dify_error(exc)
            except RequestValidationError as exc:
                errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
                return dify_error(DifyError(400, 400, validation_message(errors)))
            except StarletteHTTPException as exc:
                message = exc.detail if isinstance(exc.detail, str) else "request failed"
                return dify_error(DifyError(exc.status_code, exc.status_code, message))

        return dify_handler


class DifyErrorOut(BaseModel):
    """Dify's error shape."""

    error_code: int = Field(
        description=(
            "1001 malformed Authorization header, 1002 authorization failed, 2001 unknown knowledge id; "
            "else the HTTP status"
        ),
    )
    error_msg: str


router = APIRouter(
    route_class=DifyRoute, tags=["Dify external knowledge"],
    responses={
        status: {"model": DifyErrorOut, "description": description}
        for status, description in {
            400: "invalid body", 403: "1001 malformed Authorization header, 1002 wrong key (when GOVQA_API_KEY is set)",
            404: "2001 the knowledge does not exist", 503: "index not loaded yet, or too many questions in flight",
        }.items()
    },
)


class RetrievalSetting(BaseModel):
    top_k: int = Field(ge=1, le=50, description="most records returned")
    score_threshold: float = Field(0.0, ge=0, le=1, description="records scoring below this (0–1) are left out")

    @field_validator("top_k", "score_threshold", mode="before")
    @classmethod
    def not_a_bool(cls, value: object) -> object:
        """`true` is not a number (pydantic would read it as 1)."""
        if isinstance(value, bool):
            raise ValueError("must be a number, not a boolean")
        return value


class RetrievalRequest(BaseModel):
    model_config = ConfigDict(strict=True)
    knowledge_id: str = Field(
        min_length=1, max_length=200, description="`all`, or a doc_id to search that document alone", examples=[ALL],
    )
    query: str = Field(
        min_length=1, max_length=1000, json_schema_extra={"pattern": NOT_BLANK}, examples=["首尔峰会的主题是什么？"],
    )
    retrieval_setting: RetrievalSetting
    metadata_condition: MetadataCondition | None = None

    @field_validator("query", mode="before")
    @classmethod
    def trimmed(cls, value: object) -> object:
        return trim(value) if isinstance(value, str) else value


class RecordMetadata(BaseModel):
    """Where a record's content is: `content == document[start:end]`."""

    doc_id: str
    chunk_id: str
    start: int
    end: int
    section: str
    author: str | None = None
    date: str | None = None
    publisher: str | None = None
    url: str | None = Field(None, description="the document's source URL, when known")
    path: str = Field(description="this passage on the serving host: /v1/passages/{chunk_id}")


class Record(BaseModel):
    content: str = Field(description="the passage, an exact slice of its document")
    score: float = Field(description="calibrated relevance, 0–1")
    title: str
    metadata: RecordMetadata


class RetrievalOut(BaseModel):
    records: list[Record]


def documents_for(asker: Asker, body: RetrievalRequest) -> frozenset[str] | None:
    """The documents a retrieval may return (None: every one); 2001 for an unknown knowledge id."""
    documents = asker.retriever.backend.documents
    if body.knowledge_id != ALL and body.knowledge_id not in documents:
        raise DifyError(404, 2001, f"The knowledge does not exist: {body.knowledge_id!r} (use 'all' or a doc_id)")
    allowed = matching(documents, body.metadata_condition)
    if body.knowledge_id != ALL:
        allowed &= {body.knowledge_id}
    return None if allowed == set(documents) else frozenset(allowed)


def retrieve(asker: Asker, body: RetrievalRequest, base_url: str) -> RetrievalOut:
    """The passages for a query as Dify's records, best first, above the threshold."""
    doc_ids = documents_for(asker, body)
    if doc_ids is not None and not doc_ids:
        return RetrievalOut(records=[])
    passages = asker.search(body.query, body.retrieval_setting.top_k, None, doc_ids)
    best = max((p.score for p in passages), default=0.0)
    documents = asker.retriever.backend.documents
    records = []
    for p in passages:
        score = round(relevance(p.score, best, p.rank), 4)
        if score < body.retrieval_setting.score_threshold:
            continue
        meta = documents[p.doc_id]
        records.append(Record(content=p.chunk.text, score=score, title=p.title, metadata=RecordMetadata(
            doc_id=p.doc_id, chunk_id=p.chunk.chunk_id, start=p.chunk.start, end=p.chunk.end,
            section=" / ".join(p.chunk.section),
            author=clean_author(p.chunk.author), date=meta.date, publisher=meta.publisher, url=meta.url,
            path=f"{base_url}v1/passages/{quote(p.chunk.chunk_id, safe='')}",
        )))
    return RetrievalOut(records=records)


@router.post("/retrieval", response_model=RetrievalOut, dependencies=[Depends(capacity)])
@router.post(
    "/v1/dify/retrieval", response_model=RetrievalOut, dependencies=[Depends(capacity)], include_in_schema=False,
)
async def retrieval(
    body: RetrievalRequest, request: Request, asker: Annotated[Asker, Depends(get_asker)],
) -> RetrievalOut:
    """Dify's External Knowledge API: the passages for a query, as records with a 0–1 score and their citation."""
    return await run_in_threadpool(retrieve, asker, body, public_base_url(request))
