"""Adding and removing documents over HTTP: POST /v1/documents (multipart) and DELETE /v1/documents/{doc_id}.

Both need `Authorization: Bearer <GOVQA_ADMIN_KEY>` and are refused (403) when no key is set.
A change rebuilds the index (reusing the vectors of unchanged chunks) and answers once the new
version is being served; a second change while one runs gets 409.

No `from __future__ import annotations` here: FastAPI reads the route signatures at run time.
"""

import errno
import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from index.ingest import DocumentTooLarge, IngestError
from index.locking import RebuildBusy
from index.updates import CorpusUpdater, DuplicateDocument, RebuildFailed, Upload, UpdateError, UpdateResult
from service.asking import Asker
from service.deps import get_asker
from service.runtime import corpus_updater
from service.schemas import DocumentOut, ErrorOut, document_out
from service.uploads import extract_uploads, read_upload

log = logging.getLogger("govqa")
router = APIRouter()


class DocumentsChangedOut(BaseModel):
    """What a change did, and the index version that now serves it."""

    added: list[DocumentOut] = []
    removed: list[str] = []
    pruned_versions: list[str] = []  # old index versions removed first to make room on disk
    index_version: str
    build_seconds: float
    embedded: int
    reused: int


ADMIN_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        401: "missing or wrong bearer key", 403: "document management is disabled (no GOVQA_ADMIN_KEY)",
        409: "a rebuild is already running, or the text is already in the corpus",
        413: (
            "upload over GOVQA_MAX_UPLOAD_BYTES, or a document over a cost limit "
            "(extraction time, memory, characters)"
        ),
        422: "a file that cannot be ingested, or invalid metadata",
        503: "every extraction slot is taken (GOVQA_EXTRACT_WORKERS)",
        507: "the disk is full: the rebuild failed and nothing changed",
    }.items()
}

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {
                    "type": "array",
                    "items": {"type": "string", "format": "binary"},
                    "description": ".txt, .md, .html, .pdf or .docx; repeat for several",
                },
                "title": {"type": "string"},
                "authors": {"type": "array", "items": {"type": "string"}},
                "date": {"type": "string"},
                "publisher": {"type": "string"}, "url": {"type": "string"}, "language": {"type": "string"},
            },
        }}},
    }
}


def require_admin(request: Request) -> None:
    """403 when document management is off, 401 without the right bearer key."""
    expected = request.app.state.settings.admin_key
    if not expected:
        raise HTTPException(403, detail="document management is disabled: set GOVQA_ADMIN_KEY to enable it")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise HTTPException(401, detail="missing or wrong admin key", headers={"WWW-Authenticate": "Bearer"})


def updater_of(request: Request, asker: Asker) -> CorpusUpdater:
    """The app's corpus updater, sharing the served model."""
    state = request.app.state
    if getattr(state, "updater", None) is None:
        state.updater = corpus_updater(state.settings, asker.retriever.embedder, wait=0)
    return state.updater


async def apply(request: Request, change, *args) -> UpdateResult:  # noqa: ANN001 - an updater method
    """Run a change in a worker thread, map its errors to statuses, and swap the new version in."""
    try:
        result = await run_in_threadpool(change, *args)
    except RebuildBusy as exc:
        raise HTTPException(409, detail=str(exc), headers={"Retry-After": "5"}) from exc
    except DuplicateDocument as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    except DocumentTooLarge as exc:
        raise HTTPException(413, detail=str(exc)) from exc
    except (IngestError, UpdateError) as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except RebuildFailed as exc:
        raise HTTPException(507 if exc.out_of_space else 500, detail=str(exc)) from exc
    except OSError as exc:  # writing the new document itself
        raise HTTPException(
            507 if exc.errno == errno.ENOSPC else 500, detail=f"the change failed and nothing changed: {exc}",
        ) from exc
    await run_in_threadpool(request.app.state.swapper.refresh)
    return result


def changed_out(request: Request, result: UpdateResult) -> DocumentsChangedOut:
    backend = request.app.state.asker.retriever.backend
    added = [
        document_out(
            backend.documents[m.doc_id], backend.texts[m.doc_id], sum(c.doc_id == m.doc_id for c in backend.chunks),
        )
        for m in result.added if m.doc_id in backend.documents
    ]
    build = result.build
    return DocumentsChangedOut(
        added=added, removed=result.removed, pruned_versions=result.pruned, index_version=backend.version,
        build_seconds=round(build.seconds, 3), embedded=build.embedded, reused=build.reused,
    )


@router.post(
    "/v1/documents", status_code=201, response_model=DocumentsChangedOut, dependencies=[Depends(require_admin)],
    responses=ADMIN_RESPONSES, openapi_extra=UPLOAD_BODY,
)
async def add_documents(request: Request, asker: Annotated[Asker, Depends(get_asker)]) -> DocumentsChangedOut:
    """Add documents (multipart field `file`, repeatable; optional title, authors, date, publisher, url, language).
    Answers once they are searchable."""
    uploads, overrides = await read_upload(request)
    try:
        extracted = await extract_uploads(request, uploads)
    except DocumentTooLarge as exc:
        raise HTTPException(413, detail=str(exc)) from exc
    except IngestError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    result = await apply(request, updater_of(request, asker).add_extracted, extracted, overrides)
    return changed_out(request, result)


@router.delete(
    "/v1/documents/{doc_id}", response_model=DocumentsChangedOut, dependencies=[Depends(require_admin)],
    responses=ADMIN_RESPONSES,
)
async def remove_document(
    request: Request, asker: Annotated[Asker, Depends(get_asker)], doc_id: Annotated[str, Path(max_length=200)],
) -> DocumentsChangedOut:
    """Remove a document; answers once the version without it is served."""
    if doc_id not in asker.retriever.backend.documents:
        raise HTTPException(404, detail=f"no document {doc_id!r}")
    result = await apply(request, updater_of(request, asker).remove, [doc_id])
    return changed_out(request, result)
