"""A LangChain retriever over a govqa server: each passage becomes a Document whose page_content is the exact
passage text and whose metadata is its citation (doc_id, chunk_id, start, end, section, title, author, url,
score, rank, highlights and the passage's link). Needs langchain-core (the `langchain` extra)."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from govqa.client import GovQA, Mode, Passage


def as_document(p: Passage, link: str) -> Document:
    """A passage as a LangChain Document, its citation in the metadata."""
    return Document(page_content=p.text, id=p.chunk_id, metadata={
        "doc_id": p.doc_id, "chunk_id": p.chunk_id, "start": p.start, "end": p.end, "section": p.section,
        "title": p.title, "author": p.author, "url": p.url, "score": p.score, "rank": p.n, "link": link,
        "highlights": [(h.start, h.end) for h in p.highlights],
    })


class GovQARetriever(BaseRetriever):
    """govqa's passages for a query, best first (GET /v1/search), as cited Documents."""

    base_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    k: int = 5
    mode: Mode | None = None
    doc_ids: list[str] | None = None
    timeout: float = 60.0

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any  # noqa: ANN401
    ) -> list[Document]:
        with GovQA(self.base_url, self.api_key, self.timeout) as client:
            found = client.search(query, kwargs.get("k", self.k), self.mode, self.doc_ids)
            return [as_document(p, client.link(p.chunk_id)) for p in found.passages]
