"""FastAPI dependencies shared by every router: the loaded index and a bounded number of questions in flight."""

from fastapi import HTTPException, Request

from service.asking import Asker


def get_asker(request: Request) -> Asker:
    """The loaded index's asker, or 503 while it loads or after it failed to."""
    asker = request.app.state.asker
    if asker is None:
        raise HTTPException(503, detail=request.app.state.load_error or "index not loaded yet")
    return asker


async def capacity(request: Request):  # noqa: ANN201 - a FastAPI dependency with cleanup
    """A slot for one question, or 503 at once when all are taken (the event loop is single-threaded,
    so the counter needs no lock)."""
    state = request.app.state
    if state.in_flight >= state.settings.max_in_flight:
        raise HTTPException(
            503, detail="busy: too many questions in flight, retry shortly", headers={"Retry-After": "1"},
        )
    state.in_flight += 1
    try:
        yield
    finally:
        state.in_flight -= 1


def document_filter(asker: Asker, doc_ids: list[str] | None) -> frozenset[str] | None:
    """The documents a question is restricted to, or None for all; 404 names unknown ids."""
    if not doc_ids:
        return None
    unknown = sorted(set(doc_ids) - set(asker.retriever.backend.documents))
    if unknown:
        raise HTTPException(404, detail=f"unknown doc_ids: {', '.join(repr(d) for d in unknown)}")
    return frozenset(doc_ids)
