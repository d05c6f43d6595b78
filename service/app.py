"""The FastAPI application: loads the index once in the lifespan and serves questions.

No `from __future__ import annotations` here: FastAPI reads the route signatures at run time.
"""


import asyncio
import logging
import time
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from index.embedding import SentenceTransformerEmbedder

from service.admin import router as admin_router
from service.api_docs import install_docs
from service.asking import Asker
from service.chat_completions import router as chat_completions_router
from service.dify import router as dify_router
from service.responses_api import router as responses_router
from service.deps import capacity, document_filter, get_asker
from service.errors import BodyLimit, install_error_handlers, install_request_ids
from service.mcp_server import mcp_sessions, mount_mcp
from service.metrics import install_metrics
from service.rawurl import PercentEncodeQuery
from service.reading_routes import router as reading_router
from service.reloading import Swapper, clean_leftovers, watch
from service.runtime import open_asker
from service.schemas import (
    ERROR_RESPONSES,
    NOT_BLANK,
    AskIn,
    AskOut,
    ReadyOut,
    SearchOut,
    ask_out,
    search_out,
    trim,
)
from service.settings import Mode, Settings
from service.web import install_web
from service.widget import router as widget_router

log = logging.getLogger("govqa")


def create_app(settings: Settings | None = None, embedder: SentenceTransformerEmbedder | None = None) -> FastAPI:
    """An app serving the index that settings point at; with `embedder`, one already loaded (tests share one)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        app.state.asker = None
        app.state.load_error = None
        app.state.swapper = Swapper(app, settings)
        await run_in_threadpool(clean_leftovers, settings)
        try:
            asker = await run_in_threadpool(open_asker, settings, embedder)
            await run_in_threadpool(asker.retriever.embed_query, "warm up")
            app.state.asker = asker
        except Exception as exc:  # reported by /readyz instead of crashing
            log.error("index not loaded: %s", exc)
            app.state.load_error = str(exc)
        watcher = asyncio.create_task(watch(app.state.swapper, settings.reload_seconds)) if settings.reload_seconds else None
        async with mcp_sessions(app):
            yield
        if watcher is not None:
            watcher.cancel()

    app = FastAPI(
        title="govqa", version="0.1.0", lifespan=lifespan, responses=ERROR_RESPONSES, description="Cited answers from documents on global AI governance.",
        docs_url=None, redoc_url=None,  # served from local files by install_docs
    )
    app.state.settings = settings
    app.state.in_flight = 0
    app.state.extractions = 0
    install_error_handlers(app)
    install_request_ids(app)
    install_metrics(app)
    app.add_middleware(PercentEncodeQuery)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"])
    app.add_middleware(BodyLimit, uploads=("/v1/documents", settings.max_upload_bytes + 64 * 1024))

    @app.get("/healthz")
    def healthz() -> dict:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=ReadyOut)
    def readyz(request: Request) -> JSONResponse | ReadyOut:
        """The index is loaded (503 until then, or with the load error)."""
        asker = request.app.state.asker
        if asker is None:
            body = ReadyOut(ready=False, error=request.app.state.load_error)
            return JSONResponse(body.model_dump(), status_code=503)
        return ReadyOut(ready=True, index_version=asker.retriever.backend.version)

    @app.post("/v1/ask", response_model=AskOut, dependencies=[Depends(capacity)])
    async def ask(body: AskIn, asker: Annotated[Asker, Depends(get_asker)]) -> AskOut:
        """A cited extractive answer (or null when the documents do not answer), with the passages behind it."""
        doc_ids = document_filter(asker, body.doc_ids)
        result = await run_in_threadpool(asker.ask, body.question, body.top_k, body.mode, doc_ids)
        return ask_out(result)

    @app.get("/v1/search", response_model=SearchOut, dependencies=[Depends(capacity)])
    async def search(
        asker: Annotated[Asker, Depends(get_asker)],
        q: Annotated[str, Query(min_length=1, max_length=1000, json_schema_extra={"pattern": NOT_BLANK}, description="the question (not all whitespace)")],
        k: Annotated[int, Query(ge=1, le=20)] = 5,
        mode: Mode = "hybrid",
        doc_id: Annotated[list[str] | None, Query(description="restrict to these documents")] = None,
    ) -> SearchOut:
        """Passages that best match a question, with exact citations and evidence highlights."""
        if not trim(q):
            raise HTTPException(422, detail="q: must contain more than whitespace")
        doc_ids = document_filter(asker, doc_id)
        started = time.perf_counter()
        found = await run_in_threadpool(asker.retriever.retrieve, q, k, mode, doc_ids)
        return search_out(q, mode, found.passages, asker.retriever.backend.version, (time.perf_counter() - started) * 1000, found.query)

    app.include_router(reading_router)
    app.include_router(admin_router)
    app.include_router(chat_completions_router)
    app.include_router(responses_router)
    app.include_router(dify_router)
    app.include_router(widget_router)
    mount_mcp(app)
    install_docs(app)
    install_web(app)
    return app
