"""Evaluation sets over corpora other than the served one: a directory of documents in any format the
ingester reads, with its question file, ingested the way an upload is and indexed in a scratch root.

A set is either a question file (asked of the configured index) or a corpus directory holding
`questions.jsonl` and its documents (in `docs/`, or beside the question file). Question files name
documents by file name; an ingested document's id is its content hash, so each set carries the map.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.build import build_index
from index.documents import load_corpus
from index.embedding import Embedder
from index.ingest import SUFFIX_FORMATS, extract, write_document

if TYPE_CHECKING:
    from service.retrieval import Retriever
    from service.settings import Settings

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


@dataclass(frozen=True)
class OpenedSet:
    """An evaluation set ready to ask: its name, question file, file-name map and a Retriever over its index."""

    name: str
    questions: Path
    doc_names: dict[str, str]
    retriever: Retriever


def open_sets(paths: list[Path], settings: Settings, scratch: Path) -> Iterator[OpenedSet]:
    """Each question file over the configured index, each corpus directory over its scratch index; the
    model is loaded once for all of them."""
    from service.runtime import chunker_settings, make_embedder, open_retriever

    embedder = make_embedder(settings)
    for path in paths:
        names: dict[str, str] = {}
        questions, set_settings = path, settings
        if path.is_dir():
            prepared = prepare_corpus(
                path, scratch, embedder, chunker=chunker_settings(settings), index_type=settings.index_type, keep=1,
            )
            questions, names = prepared.questions, prepared.doc_names
            set_settings = settings.model_copy(update={"index_dir": prepared.index_dir, "backend": "faiss"})
        retriever = open_retriever(set_settings, embedder)
        retriever.embed_query("warm up")
        yield OpenedSet(set_name(path), questions, names, retriever)
