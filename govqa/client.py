"""A small typed client for a govqa server: ask, search, the documents and their exact text. It needs only httpx
and pydantic; every passage it returns carries its citation (document, section, exact character range).

    with GovQA("http://127.0.0.1:8000") as govqa:
        answer = govqa.ask("首尔峰会的主题是什么？")
"""

from __future__ import annotations

from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict

Mode = Literal["hybrid", "dense", "keyword"]


class Model(BaseModel):
    """Fields a newer server adds are kept, not refused."""

    model_config = ConfigDict(extra="allow")


class Span(Model):
    start: int
    end: int


class Passage(Model):
    """A passage with its citation: `text == document[start:end]`."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    section: str
    author: str | None = None
    text: str
    start: int
    end: int
    score: float
    highlights: list[Span] = []
    url: str | None = None
    display: str | None = None


class AnswerSentence(Model):
    text: str
    doc_id: str
    start: int
    end: int
    passage: int
    context: bool = False


class Answer(Model):
    text: str
    sentences: list[AnswerSentence]
    confidence: float


class Answered(Model):
    """An answer (None when the documents do not answer) and the passages behind it."""

    question: str
    answer: Answer | None
    low_confidence: bool
    abstain_reasons: list[str] = []
    passages: list[Passage]
    index_version: str


class Found(Model):
    query: str
    passages: list[Passage]
    index_version: str


class Document(Model):
    doc_id: str
    title: str
    authors: list[str]
    date: str | None
    publisher: str | None
    language: str
    url: str | None
    chars: int
    chunks: int


class PassageRecord(Model):
    chunk_id: str
    doc_id: str
    title: str
    section: str
    author: str | None = None
    text: str
    start: int
    end: int
    url: str | None = None
    previous_id: str | None = None
    next_id: str | None = None


class GovQAError(Exception):
    """An error answer from the server: its status, code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class GovQA:
    """A govqa server at `base_url`."""

    def __init__(
        self, base_url: str = "http://127.0.0.1:8000", api_key: str | None = None, timeout: float = 60.0
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def __enter__(self) -> GovQA:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _json(self, response: httpx.Response) -> dict:
        if response.is_error:
            try:
                error = response.json()["error"]
                raise GovQAError(response.status_code, str(error.get("code")), str(error.get("message")))
            except (ValueError, KeyError, TypeError):
                raise GovQAError(response.status_code, "http_error", response.text[:200]) from None
        return response.json()

    def ask(
        self, question: str, top_k: int = 5, mode: Mode | None = None, doc_ids: list[str] | None = None
    ) -> Answered:
        """govqa's cited extractive answer (POST /v1/ask)."""
        body: dict = {"question": question, "top_k": top_k}
        if mode:
            body["mode"] = mode
        if doc_ids:
            body["doc_ids"] = doc_ids
        return Answered.model_validate(self._json(self.http.post("/v1/ask", json=body)))

    def search(self, query: str, k: int = 5, mode: Mode | None = None, doc_ids: list[str] | None = None) -> Found:
        """The passages that best match a query (GET /v1/search)."""
        params: list[tuple[str, str | int]] = [("q", query), ("k", k)]
        if mode:
            params.append(("mode", mode))
        params += [("doc_id", d) for d in doc_ids or ()]
        return Found.model_validate(self._json(self.http.get("/v1/search", params=params)))

    def documents(self) -> list[Document]:
        """Every document's metadata (GET /v1/documents)."""
        return [Document.model_validate(d) for d in self._json(self.http.get("/v1/documents"))["documents"]]

    def document_text(self, doc_id: str, start: int = 0, end: int | None = None) -> str:
        """The exact text of a document's range (the whole document by default)."""
        params = {"start": start, **({"end": end} if end is not None else {})}
        return self._json(
            self.http.get(f"/v1/documents/{httpx.URL(path=doc_id).raw_path.decode()}/text", params=params)
        )["text"]

    def passage(self, chunk_id: str) -> PassageRecord:
        """One passage by id, with its neighbours' ids."""
        return PassageRecord.model_validate(
            self._json(self.http.get(f"/v1/passages/{httpx.URL(path=chunk_id).raw_path.decode()}"))
        )

    def link(self, chunk_id: str) -> str:
        """The passage's address on the server."""
        return f"{self.http.base_url}/v1/passages/{chunk_id}"
