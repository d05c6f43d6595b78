"""The FastAPI application: loads the index once in the lifespan and serves search.

No `from __future__ import annotations` here: FastAPI reads the route signatures at run time.
"""


import logging
import time
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from service.rawurl import PercentEncodeQuery, widen_h11_request_line
from service.retrieval import Retriever
from service.runtime import open_retriever
from service.schemas import ReadyOut, SearchOut, passage_out
from service.settings import Mode, Settings

log = logging.getLogger("govqa")


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app serving the index that settings point at."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        app.state.retriever = None
        app.state.load_error = None
        try:
            retriever = await run_in_threadpool(open_retriever, settings)
            await run_in_threadpool(retriever.embed_query, "warm up")
            app.state.retriever = retriever
        except Exception as exc:  # reported by /readyz instead of crashing
            log.error("index not loaded: %s", exc)
            app.state.load_error = str(exc)
        yield

    app = FastAPI(title="govqa", version="0.1.0", lifespan=lifespan, description="Cited answers from documents on global AI governance.")
    app.state.settings = settings
    widen_h11_request_line()
    app.add_middleware(PercentEncodeQuery)

    def get_retriever(request: Request) -> Retriever:
        retriever = request.app.state.retriever
        if retriever is None:
            raise HTTPException(503, detail=request.app.state.load_error or "index not loaded yet")
        return retriever

    @app.get("/healthz")
    def healthz() -> dict:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=ReadyOut)
    def readyz(request: Request) -> JSONResponse | ReadyOut:
        """The index is loaded (503 until then, or with the load error)."""
        retriever = request.app.state.retriever
        if retriever is None:
            body = ReadyOut(ready=False, error=request.app.state.load_error)
            return JSONResponse(body.model_dump(), status_code=503)
        return ReadyOut(ready=True, index_version=retriever.backend.version)

    @app.get("/v1/search", response_model=SearchOut)
    async def search(
        retriever: Annotated[Retriever, Depends(get_retriever)],
        q: Annotated[str, Query(min_length=1, max_length=1000, description="the question")],
        k: Annotated[int, Query(ge=1, le=20)] = 5,
        mode: Mode = "hybrid",
        doc_id: Annotated[list[str] | None, Query(description="restrict to these documents")] = None,
    ) -> SearchOut:
        """Passages that best match a question, with exact citations."""
        if not q.strip():
            raise HTTPException(422, detail="q must contain more than whitespace")
        started = time.perf_counter()
        passages = await run_in_threadpool(retriever.search, q, k, mode, frozenset(doc_id) if doc_id else None)
        return SearchOut(
            query=q, mode=mode, passages=[passage_out(p) for p in passages],
            index_version=retriever.backend.version, took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    return app
