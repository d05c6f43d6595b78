"""The question routes of the HTTP API: `/v1/ask` (a cited answer) and `/v1/search` (passages)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from service import pipeline
from service.asking import Asker
from service.deps import capacity, document_filter, get_asker
from service.schemas import NOT_BLANK, AskIn, AskOut, SearchOut, ask_out, search_out, trim
from service.settings import Mode

router = APIRouter(dependencies=[Depends(capacity)])


@router.post("/v1/ask", response_model=AskOut)
async def ask(body: AskIn, asker: Annotated[Asker, Depends(get_asker)]) -> AskOut:
    """A cited extractive answer (or null when the documents do not answer), with the passages behind it."""
    doc_ids = document_filter(asker, body.doc_ids)
    result = await run_in_threadpool(asker.ask, body.question, body.top_k, body.mode, doc_ids)
    return ask_out(result)


@router.get("/v1/search", response_model=SearchOut)
async def search(
    asker: Annotated[Asker, Depends(get_asker)],
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=1000, json_schema_extra={"pattern": NOT_BLANK},
            description="the question (not all whitespace)",
        ),
    ],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    mode: Mode = "hybrid",
    doc_id: Annotated[list[str] | None, Query(description="restrict to these documents")] = None,
) -> SearchOut:
    """Passages that best match a question, with exact citations and evidence highlights."""
    if not trim(q):
        raise HTTPException(422, detail="q: must contain more than whitespace")
    doc_ids = document_filter(asker, doc_id)
    started = time.perf_counter()
    found = await run_in_threadpool(pipeline.retrieve, asker.retriever, q, k, mode, doc_ids)
    return search_out(
        q, mode, found.passages, asker.retriever.backend.version, (time.perf_counter() - started) * 1000, found.query
    )
