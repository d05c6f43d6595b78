"""Response models of the HTTP API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from service.retrieval import Passage


class PassageOut(BaseModel):
    """A passage with its citation. `text == document[start:end]`."""

    n: int = Field(description="rank, from 1")
    chunk_id: str
    doc_id: str
    title: str
    section: str = Field(description="section path, ' / '-separated")
    author: str | None = None
    text: str
    start: int = Field(description="offset of the first character in the document")
    end: int = Field(description="offset after the last character")
    score: float


class SearchOut(BaseModel):
    query: str
    mode: str
    passages: list[PassageOut]
    index_version: str
    took_ms: float


class ReadyOut(BaseModel):
    ready: bool
    index_version: str | None = None
    error: str | None = None


def passage_out(p: Passage) -> PassageOut:
    c = p.chunk
    return PassageOut(
        n=p.rank, chunk_id=c.chunk_id, doc_id=c.doc_id, title=p.title, section=" / ".join(c.section),
        author=c.author, text=c.text, start=c.start, end=c.end, score=round(p.score, 6),
    )
