"""Reading an upload's files and extracting them off the event loop: each file in a bounded worker
process (index.extraction), at most GOVQA_EXTRACT_WORKERS at once, cancelled when the client leaves.

No `from __future__ import annotations` here: FastAPI reads the route signatures at run time.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import HTTPException, Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from index.extraction import Extraction, extract_async
from index.updates import Upload
from service.runtime import extraction_limits

log = logging.getLogger("govqa")
MAX_FILES = 20
METADATA_FIELDS = ("title", "date", "publisher", "url", "language")


async def read_upload(request: Request) -> tuple[list[Upload], dict]:
    """The files and metadata fields of a multipart body."""
    limit = request.app.state.settings.max_upload_bytes
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=50, max_part_size=limit)
    except MultiPartException as exc:
        raise HTTPException(422, detail=f"not a readable multipart/form-data body: {exc.message}") from exc
    except AssertionError as exc:  # starlette's answer to a body that is not form data
        raise HTTPException(422, detail="the body must be multipart/form-data with one or more 'file' fields") from exc
    files = [f for f in form.getlist("file") if isinstance(f, UploadFile)]
    if not files:
        raise HTTPException(422, detail="file: at least one file is required (field name 'file')")
    too_large = [f.filename for f in files if f.size is not None and f.size > limit]
    if too_large:
        raise HTTPException(413, detail=f"{', '.join(map(repr, too_large))}: over the upload limit of {limit} bytes")
    uploads = [Upload(await f.read(), f.filename or "") for f in files]
    overrides: dict = {
        k: str(form[k]) for k in METADATA_FIELDS if isinstance(form.get(k), str) and str(form[k]).strip()
    }
    authors = [str(a).strip() for a in form.getlist("authors") if isinstance(a, str) and a.strip()]
    if authors:
        overrides["authors"] = authors
    return uploads, overrides


@asynccontextmanager
async def extraction_slot(request: Request) -> AsyncIterator[None]:
    """One of GOVQA_EXTRACT_WORKERS extraction slots, or 503 at once when all are taken (the event loop
    is single-threaded, so the counter needs no lock)."""
    state = request.app.state
    if state.extractions >= state.settings.extract_workers:
        raise HTTPException(
            503, detail=f"busy: {state.extractions} uploads are being extracted, retry shortly",
            headers={"Retry-After": "5"},
        )
    state.extractions += 1
    try:
        yield
    finally:
        state.extractions -= 1


async def extract_uploads(request: Request, uploads: list[Upload]) -> list[Extraction]:
    """Every file's text, each from a bounded worker process; the first refusal (IngestError) ends it, and a
    client that disconnects meanwhile has its worker killed."""
    limits = extraction_limits(request.app.state.settings)

    async def extract_all() -> list[Extraction]:
        return [await extract_async(u.data, u.filename, limits) for u in uploads]

    async with extraction_slot(request):
        work = asyncio.ensure_future(extract_all())
        gone = asyncio.ensure_future(disconnected(request))
        try:
            await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (work, gone):
                task.cancel()
            await asyncio.gather(work, gone, return_exceptions=True)
        if work.done() and not work.cancelled():
            return work.result()
        log.info("upload abandoned by its client: extraction stopped")
        raise HTTPException(400, detail="the client disconnected before the upload was extracted")


async def disconnected(request: Request) -> None:
    """Return once the client has gone away. The body has been read, so the next ASGI message is the
    disconnect (Request.is_disconnected cannot see it through Starlette's BaseHTTPMiddleware)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
