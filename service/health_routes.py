"""Liveness and readiness: `/healthz` answers while the process runs, `/readyz` once the index is loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.schemas import ReadyOut

router = APIRouter()


@router.get("/healthz")
def healthz() -> dict:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", response_model=ReadyOut)
def readyz(request: Request) -> JSONResponse | ReadyOut:
    """The index is loaded (503 until then, or with the load error)."""
    asker = request.app.state.asker
    if asker is None:
        body = ReadyOut(ready=False, error=request.app.state.load_error)
        return JSONResponse(body.model_dump(), status_code=503)
    return ReadyOut(ready=True, index_version=asker.retriever.backend.version)
