"""The read routes of the HTTP API: documents, their exact text, passages by id (service/read_model.py
reads them, for MCP too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from index.backend import IndexedCorpus
from service import read_model
from service.asking import Asker
from service.deps import get_asker
from service.schemas import DocumentOut, DocumentsOut, DocumentTextOut, PassageRecordOut

router = APIRouter()
Id = Annotated[str, Path(max_length=200)]


@contextmanager
def as_http_errors() -> Iterator[None]:
    """What the read model cannot find is 404, a range outside its document 422."""
    try:
        yield
    except read_model.NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except read_model.BadRange as exc:
        raise HTTPException(422, detail=str(exc)) from exc


def backend_of(asker: Annotated[Asker, Depends(get_asker)]) -> IndexedCorpus:
    return asker.retriever.backend


Backend = Annotated[IndexedCorpus, Depends(backend_of)]


@router.get("/v1/documents", response_model=DocumentsOut)
def documents(backend: Backend) -> DocumentsOut:
    """Metadata of every document, with its length and chunk count."""
    return read_model.documents(backend)


@router.get("/v1/documents/{doc_id}", response_model=DocumentOut)
def document(backend: Backend, doc_id: Id) -> DocumentOut:
    """One document's metadata."""
    with as_http_errors():
        return read_model.document(backend, doc_id)


@router.get("/v1/documents/{doc_id}/text", response_model=DocumentTextOut)
def document_text(
    backend: Backend,
    doc_id: Id,
    start: Annotated[int, Query(ge=0)] = 0,
    end: Annotated[int | None, Query(ge=0, description="default: the end of the document")] = None,
) -> DocumentTextOut:
    """The exact source text of a range (the whole document by default)."""
    with as_http_errors():
        return read_model.text_range(backend, doc_id, start, end)


@router.get("/v1/passages/{chunk_id}", response_model=PassageRecordOut)
def passage(backend: Backend, chunk_id: Id) -> PassageRecordOut:
    """One passage by its id, with its neighbours' ids in the same document."""
    with as_http_errors():
        return read_model.passage(backend, chunk_id)
