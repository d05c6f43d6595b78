"""What HTTP and MCP read of the loaded index besides answers: the document listing, one document, an
exact range of a document's text, one passage with its neighbours. Each returns its response model or
raises `NotFound` / `BadRange`, which each interface turns into its own error (404 and 422, a tool error)."""

from __future__ import annotations

from collections import Counter

from index.backend import IndexedCorpus
from service.schemas import DocumentOut, DocumentsOut, DocumentTextOut, PassageRecordOut, document_out


class NotFound(LookupError):
    """No document or passage with that id in the loaded index; `kind` says which was looked for."""

    def __init__(self, kind: str, item_id: str) -> None:
        super().__init__(f"no {kind} {item_id!r}")
        self.kind = kind


class BadRange(ValueError):
    """A text range outside its document."""


def known_document(backend: IndexedCorpus, doc_id: str) -> str:
    if doc_id not in backend.documents:
        raise NotFound("document", doc_id)
    return doc_id


def documents(backend: IndexedCorpus) -> DocumentsOut:
    """Every document's metadata, with its length and passage count."""
    counts = Counter(c.doc_id for c in backend.chunks)
    listed = [document_out(meta, backend.texts[d], counts[d]) for d, meta in backend.documents.items()]
    return DocumentsOut(documents=listed, index_version=backend.version)


def document(backend: IndexedCorpus, doc_id: str) -> DocumentOut:
    known_document(backend, doc_id)
    return document_out(
        backend.documents[doc_id], backend.texts[doc_id], sum(c.doc_id == doc_id for c in backend.chunks),
    )


def text_range(backend: IndexedCorpus, doc_id: str, start: int = 0, end: int | None = None) -> DocumentTextOut:
    """The exact text between two offsets (to the end of the document when `end` is None)."""
    text = backend.texts[known_document(backend, doc_id)]
    end = len(text) if end is None else end
    if not 0 <= start <= end <= len(text):
        raise BadRange(f"need 0 <= start <= end <= {len(text)}, got start={start}, end={end}")
    return DocumentTextOut(doc_id=doc_id, start=start, end=end, text=text[start:end])


def passage(backend: IndexedCorpus, chunk_id: str) -> PassageRecordOut:
    """One passage by id, with the ids of the passages before and after it in the same document."""
    position = backend.chunk_positions.get(chunk_id)
    if position is None:
        raise NotFound("passage", chunk_id)
    chunk = backend.chunks[position]
    meta = backend.documents[chunk.doc_id]

    def neighbour(at: int) -> str | None:
        inside = 0 <= at < len(backend.chunks) and backend.chunks[at].doc_id == chunk.doc_id
        return backend.chunks[at].chunk_id if inside else None

    return PassageRecordOut(
        chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, title=meta.title, section=" / ".join(chunk.section),
        author=chunk.author, text=chunk.text, start=chunk.start, end=chunk.end, url=meta.url,
        previous_id=neighbour(position - 1), next_id=neighbour(position + 1),
    )
