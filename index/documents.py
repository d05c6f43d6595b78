"""Reading a corpus directory: document texts plus their metadata records."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

DOCUMENT_SUFFIXES = (".txt", ".md")
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class DocumentMeta:
    """What is known about a document besides its text."""

    doc_id: str
    title: str
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    publisher: str | None = None
    language: str = "zh"
    url: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Document:
    """A source document: its exact text (never altered) and metadata."""

    meta: DocumentMeta
    text: str

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class CorpusError(ValueError):
    """A corpus directory that cannot be read as documents."""


def read_text(path: Path) -> str:
    """Read a document as UTF-8 (a BOM is accepted) without touching line endings."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from exc


def load_metadata(directory: Path) -> dict[str, dict]:
    """Metadata records by doc_id from the corpus's metadata.json (absent file: none)."""
    path = directory / METADATA_FILE
    if not path.exists():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: invalid JSON ({exc})") from exc
    if not isinstance(records, list) or not all(isinstance(r, dict) and "doc_id" in r for r in records):
        raise CorpusError(f"{path}: expected a list of objects each with a doc_id")
    return {r["doc_id"]: r for r in records}


def fallback_title(text: str, doc_id: str) -> str:
    """The first non-empty line, without markdown heading marks, as a title."""
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            return stripped[:120]
    return doc_id


def make_meta(doc_id: str, text: str, record: dict | None) -> DocumentMeta:
    if record is None:
        return DocumentMeta(doc_id=doc_id, title=fallback_title(text, doc_id))
    known = {k: record[k] for k in DocumentMeta.__dataclass_fields__ if k in record}
    known.setdefault("title", fallback_title(text, doc_id))
    known["doc_id"] = doc_id
    return DocumentMeta(**known)


def load_corpus(directory: Path) -> list[Document]:
    """Every .txt/.md file of a directory as a Document, sorted by doc_id (the file stem)."""
    if not directory.is_dir():
        raise CorpusError(f"corpus directory not found: {directory}")
    metadata = load_metadata(directory)
    paths = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES)
    if not paths:
        raise CorpusError(f"no .txt or .md documents in {directory}")
    stems = [p.stem for p in paths]
    duplicates = sorted({s for s in stems if stems.count(s) > 1})
    if duplicates:
        raise CorpusError(f"several files share the doc_id(s) {duplicates} in {directory}")
    documents = []
    for path in paths:
        text = read_text(path)
        documents.append(Document(meta=make_meta(path.stem, text, metadata.get(path.stem)), text=text))
    return documents
