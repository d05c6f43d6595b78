"""Evaluation sets over corpora other than the served one: a directory of documents in any format the
ingester reads, with its question file, ingested the way an upload is and indexed in a scratch root.

A set is either a question file (asked of the configured index) or a corpus directory holding
`questions.jsonl` and its documents (in `docs/`, or beside the question file). Question files name
documents by file name; an ingested document's id is its content hash, so each set carries the map.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from index.build import build_index
from index.documents import load_corpus
from index.embedding import Embedder
from index.ingest import SUFFIX_FORMATS, extract, write_document

QUESTIONS_FILE = "questions.jsonl"


@dataclass(frozen=True)
class EvalSet:
    """One question file and where its documents are: the configured index (index_dir None) or a scratch one."""

    name: str
    questions: Path
    index_dir: Path | None = None
    doc_names: dict[str, str] = field(default_factory=dict)


def document_files(directory: Path) -> list[Path]:
    """The readable documents of a corpus directory: its `docs/` folder when it has one, else itself."""
    folder = directory / "docs" if (directory / "docs").is_dir() else directory
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIX_FORMATS)


def corpus_key(files: list[Path]) -> str:
    """A short hash of the documents' names and bytes: a changed corpus gets a fresh scratch root."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def ingest_directory(files: list[Path], corpus: Path) -> dict[str, str]:
    """Extract each file as an upload is extracted and store it in `corpus`; file name → doc_id."""
    names = {}
    for path in files:
        meta = write_document(corpus, extract(path.read_bytes(), path.name), {})
        names[path.name] = meta.doc_id
    return names


def prepare_corpus(directory: Path, scratch: Path, embedder: Embedder, **build_options) -> EvalSet:  # noqa: ANN003 - build_index's options
    """Ingest a corpus directory afresh and build (or reuse, when nothing changed) its scratch index."""
    questions = directory / QUESTIONS_FILE
    if not questions.is_file():
        raise FileNotFoundError(f"{directory}: no {QUESTIONS_FILE}")
    files = document_files(directory)
    if not files:
        raise FileNotFoundError(f"{directory}: no documents of a readable format")
    root = scratch / f"{directory.resolve().name}-{corpus_key(files)}"
    with tempfile.TemporaryDirectory(prefix="govqa-eval-") as corpus:
        names = ingest_directory(files, Path(corpus))
        build_index(load_corpus(Path(corpus)), embedder, root / "index", **build_options)
    return EvalSet(directory.resolve().name, questions, root / "index", names)


def set_name(path: Path) -> str:
    """A question file is named by its file, a corpus directory by its folder."""
    return path.resolve().name if path.is_dir() else path.name
