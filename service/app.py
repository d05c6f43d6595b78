"""The FastAPI application, assembled: the lifespan loads the index once; middleware, error handlers and
metrics wrap every route; each area's routes come from its own router (questions, reading, health,
uploads, the OpenAI-compatible and Dify routes, the widget), then MCP, the API docs and the web page.

No `from __future__ import annotations` here: FastAPI reads the signatures at run time.
"""

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.middleware.cors import CORSMiddleware

from index.embedding import SentenceTransformerEmbedder
from service.admin import router as admin_router
from service.api_docs import install_docs
from service.chat_completions import router as chat_completions_router
from service.dify import router as dify_router
from service.errors import BodyLimit, install_error_handlers, install_request_ids
from service.health_routes import router as health_router
from service.mcp_server import mcp_sessions, mount_mcp
from service.metrics import install_metrics
from service.question_routes import router as question_router
from service.rawurl import PercentEncodeQuery
from service.reading_routes import router as reading_router
from service.reloading import Swapper, clean_leftovers, watch
from service.responses_api import router as responses_router
from service.runtime import open_asker
from service.schemas import ERROR_RESPONSES
from service.settings import Settings
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
        watcher = (
            asyncio.create_task(watch(app.state.swapper, settings.reload_seconds)) if settings.reload_seconds else None
        )
        async with mcp_sessions(app):
            yield
        if watcher is not None:
            watcher.cancel()

    app = FastAPI(
        title="govqa", version="0.1.0", lifespan=lifespan, responses=ERROR_RESPONSES,
        description="Cited answers from documents on global AI governance.",
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
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"], allow_headers=["*"]
        )
    app.add_middleware(BodyLimit, uploads=("/v1/documents", settings.max_upload_bytes + 64 * 1024))

    app.include_router(health_router)
    app.include_router(question_router)
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
