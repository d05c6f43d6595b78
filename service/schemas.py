"""Request and response models of the HTTP API (also the CLI's --json output)."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator, model_validator

from index.documents import DocumentMeta
from service.asking import AskResult
from service.display import clean_author, display_or_none
from service.followups import Resolved
from service.retrieval import Passage
from service.query import Language, Query, query_language
from service.settings import Mode


# What a question may not consist of alone: Python's whitespace (which str.strip removes) and
# JSON Schema's (ECMA-262 \s, which adds U+FEFF and lacks U+001C–U+001F and U+0085), so the
# documented pattern and the server agree on every character.
BLANK = "".join(chr(c) for c in range(0x3001) if chr(c).isspace()) + "\ufeff"
NOT_BLANK = r"[^\s\x1c-\x1f\x85\ufeff]"


def trim(text: str) -> str:
    """A question without its surrounding blanks."""
    return text.strip(BLANK)


class AskIn(BaseModel):
    """A question, with how many passages to return and how to search."""

    question: str = Field(
        min_length=1, max_length=1000, json_schema_extra={"pattern": NOT_BLANK},
        description="1–1000 characters after trimming surrounding whitespace",
        examples=["首尔峰会的主题是什么？"],
    )
    top_k: int = Field(5, ge=1, le=20)
    mode: Mode = "hybrid"
    doc_ids: list[str] | None = Field(None, description="restrict the search to these documents")

    @field_validator("question", mode="before")
    @classmethod
    def trimmed(cls, value: object) -> object:
        """Surrounding whitespace goes before the length is checked."""
        return trim(value) if isinstance(value, str) else value


class SpanOut(BaseModel):
    start: int
    end: int


class PassageOut(BaseModel):
    """A passage with its citation. `text == document[start:end]`; highlights are document offsets inside it."""

    n: int = Field(description="rank, from 1; answers cite it as [n]")
    chunk_id: str
    doc_id: str
    title: str
    section: str = Field(description="section path, ' / '-separated")
    author: str | None = None
    text: str
    start: int = Field(description="offset of the first character in the document")
    end: int = Field(description="offset after the last character")
    score: float = Field(description="fused relevance; passages by or about a person the question names rank first")
    highlights: list[SpanOut] = Field(default_factory=list, description="evidence sentences, as document offsets")
    url: str | None = None
    display: str | None = Field(
        None,
        description=(
            "the text for reading, when it differs: links to nowhere ('[…](#)') read as their label; "
            "cite `text`, never this"
        ),
    )

    @field_validator("author")
    @classmethod
    def readable_author(cls, value: str | None) -> str | None:
        """The author line without the publication metadata a web page trails after it."""
        return clean_author(value)


class AnswerSentenceOut(BaseModel):
    text: str
    doc_id: str
    start: int
    end: int
    passage: int = Field(description="the n of the passage it is cited to")
    display: str | None = Field(
        None, description="the sentence for reading, when it differs from `text` (see PassageOut.display)",
    )
    context: bool = Field(
        False,
        description=(
            "quoted for what the next answer sentence refers back to (该公约, 这一机制 …), not as an answer itself"
        ),
    )


class AnswerOut(BaseModel):
    text: str = Field(description="quoted sentences, each followed by its citation marker [n]")
    sentences: list[AnswerSentenceOut]
    confidence: float = Field(
        description="the answer scorer's probability that the quoted sentences answer the question",
    )


class KeywordsOut(BaseModel):
    """What the keyword side searched for, so that a match can be explained."""

    question: list[str] = Field(
        description="keyword tokens of the question itself, its scaffolding (请问, 是什么 …) left out",
    )
    translated: list[str] = Field(
        description=(
            "Chinese tokens for an English question's words (the index's lexicon) and the corpus's other "
            "spellings of names"
        ),
    )
    neighbours: list[str] = Field(
        description="corpus words nearest in meaning to question words the documents never use",
    )


class ConversationOut(BaseModel):
    """How a follow-up question was read with the conversation before it (service/followups.py)."""

    searched: str = Field(description="the question as it was searched and answered")
    carried: list[str] = Field(description="terms taken from the earlier questions")
    replaced: list[str] = Field(
        default_factory=list,
        description="earlier terms the follow-up put something else in place of (第一届 for 第二届)",
    )
    documents: list[str] = Field(
        default_factory=list,
        description=(
            "for a question that refers back (它, 这部法案 …): the documents the question it refers to is "
            "answered from, which it was searched within"
        ),
    )


class AskOut(BaseModel):
    question: str
    query_language: Language = Field(description="the question's script: zh-Hans, zh-Hant, en (Latin script) or und")
    keywords: KeywordsOut | None = Field(
        None,
        description=(
            "the keyword tokens searched for: the question's own, translations and corpus-word neighbours"
        ),
    )
    answer: AnswerOut | None = Field(description="null when the documents do not answer the question")
    low_confidence: bool = Field(description="true when govqa abstained; the passages are the nearest it found")
    confidence: float = Field(
        0.0,
        description=(
            "the probability that the best evidence answers the question; govqa abstains below its calibrated "
            "threshold"
        ),
    )
    abstain_reasons: list[str] = Field(default_factory=list, description="why govqa abstained, in sentences")
    passages: list[PassageOut]
    mode: str
    index_version: str
    took_ms: float
    followup: ConversationOut | None = Field(
        None, description="when the question was read with the conversation before it (MCP ask's history)",
    )


class SearchOut(BaseModel):
    query: str
    query_language: Language = Field(description="the query's script: zh-Hans, zh-Hant, en (Latin script) or und")
    keywords: KeywordsOut | None = Field(
        None,
        description=(
            "the keyword tokens searched for: the question's own, translations and corpus-word neighbours"
        ),
    )
    mode: str
    passages: list[PassageOut]
    index_version: str
    took_ms: float


class ErrorDetailOut(BaseModel):
    code: str = Field(description="machine-readable, e.g. invalid_request, not_found, payload_too_large, unavailable")
    message: str = Field(description="what went wrong, naming the field when one is invalid")
    detail: list[dict] | str | None = Field(
        None, description="the individual validation errors, when there are several",
    )


class ErrorOut(BaseModel):
    """Every error response has this shape."""

    error: ErrorDetailOut


ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "the body cannot be read (not UTF-8)", 404: "unknown document or passage", 413: "body over 64 KiB",
        422: "invalid input; the message names the field",
        503: "index not loaded yet, or too many questions in flight (see Retry-After)",
    }.items()
}


class ReadyOut(BaseModel):
    ready: bool
    index_version: str | None = None
    error: str | None = None


class PassageRecordOut(BaseModel):
    """One passage by id, with the ids of the passages before and after it in its document."""

    chunk_id: str
    doc_id: str
    title: str
    section: str
    author: str | None = None
    text: str = Field(description="document[start:end], exactly")
    start: int
    end: int
    url: str | None = None
    display: str | None = Field(None, description="the text for reading, when it differs (see PassageOut.display)")
    previous_id: str | None = None
    next_id: str | None = None

    @field_validator("author")
    @classmethod
    def readable_author(cls, value: str | None) -> str | None:
        """The author line without the publication metadata a web page trails after it."""
        return clean_author(value)

    @model_validator(mode="after")
    def readable_text(self) -> "PassageRecordOut":
        """The display text, when the exact text has something to clean."""
        if self.display is None:
            self.display = display_or_none(self.text)
        return self


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    authors: list[str]
    date: str | None
    publisher: str | None
    language: str
    url: str | None
    chars: int
    chunks: int


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]
    index_version: str


class DocumentTextOut(BaseModel):
    doc_id: str
    start: int
    end: int
    text: str = Field(description="document[start:end], exactly")


def passage_out(p: Passage, extra_highlights: list[tuple[int, int]] = ()) -> PassageOut:
    c = p.chunk
    spans = sorted({(e.sentence.start, e.sentence.end) for e in p.evidence} | set(extra_highlights))
    return PassageOut(
        n=p.rank, chunk_id=c.chunk_id, doc_id=c.doc_id, title=p.title, section=" / ".join(c.section), author=c.author,
        text=c.text, start=c.start, end=c.end, score=round(p.score, 6),
        highlights=[SpanOut(start=s, end=e) for s, e in spans], url=p.url, display=display_or_none(c.text),
    )


def keywords_out(query: Query) -> KeywordsOut:
    return KeywordsOut(
        question=query.own_tokens,
        translated=list(query.translated), neighbours=list(query.expanded),
    )


def search_out(
    query: str, mode: str, passages: list[Passage], index_version: str, took_ms: float, parsed: Query | None = None,
) -> SearchOut:
    return SearchOut(
        query=query, query_language=query_language(query), keywords=keywords_out(parsed) if parsed else None, mode=mode,
        passages=[passage_out(p) for p in passages], index_version=index_version, took_ms=round(took_ms, 2),
    )


def ask_out(result: AskResult) -> AskOut:
    """The API's view of an answer; answer sentences are highlighted in their passages too."""
    answer = result.answer
    cited: dict[int, list[tuple[int, int]]] = {}
    sentences = []
    if answer is not None:
        for s in answer.sentences:
            cited.setdefault(s.passage, []).append((s.sentence.start, s.sentence.end))
            sentences.append(AnswerSentenceOut(
                text=s.sentence.text, doc_id=s.sentence.doc_id, start=s.sentence.start, end=s.sentence.end,
                passage=s.passage, context=s.context, display=display_or_none(s.sentence.text),
            ))
    return AskOut(
        question=result.question,
        query_language=query_language(result.question),
        keywords=keywords_out(result.query) if result.query else None,
        answer=(
            None if answer is None
            else AnswerOut(text=answer.text, sentences=sentences, confidence=answer.confidence)
        ),
        low_confidence=answer is None,
        confidence=result.verdict.confidence,
        abstain_reasons=list(result.verdict.problems),
        passages=[passage_out(p, cited.get(p.rank, [])) for p in result.passages],
        mode=result.mode,
        index_version=result.index_version,
        took_ms=round(result.took_ms, 2),
    )


def conversation_out(resolved: Resolved) -> ConversationOut | None:
    """What a conversation gave a question; None when it was asked as it is."""
    if not resolved.changed:
        return None
    return ConversationOut(
        searched=resolved.question, carried=list(resolved.carried), replaced=list(resolved.replaced),
        documents=list(resolved.documents),
    )


def document_out(meta: DocumentMeta, text: str, chunks: int) -> DocumentOut:
    return DocumentOut(**meta.to_dict(), chars=len(text), chunks=chunks)
