"""Changing the corpus while it is served: add or remove documents, then publish a new index version.

Each change holds the index root's rebuild lock from the first write to the corpus until the new
version is published, reuses the vectors of every unchanged chunk, and is undone in the corpus
when the rebuild fails, so corpus and served index never disagree after an error. A process
killed mid-change leaves the served version as it was; the next rebuild picks up whatever the
corpus then holds.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index import store
from index.build import BuildResult, build_index
from index.chunking import ChunkerSettings
from index.documents import DOCUMENT_SUFFIXES, METADATA_FILE, DocumentMeta, load_corpus
from index.embedding import Embedder
from index.costs import check_growth
from index.extraction import Extraction, ExtractionLimits, extract_isolated
from index.ingest import IngestError, new_doc_id, remove_document, write_document
from index.locking import rebuild_lock

log = logging.getLogger(__name__)


class UpdateError(ValueError):
    """A change the corpus cannot take (an unknown id, removing every document)."""


SHORT_WRITE = re.compile(r"\d+ requested and \d+ written")


class RebuildFailed(RuntimeError):
    """A rebuild that could not be written (a full disk, a failing write); nothing was changed."""

    @property
    def out_of_space(self) -> bool:
        """A full device or quota: ENOSPC/EDQUOT, faiss's message for them, or numpy's report of a short
        write ("489216 requested and 23520 written"), which a regular file only gives when space runs out."""
        cause = self.__cause__
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        return "No space left" in str(cause) or bool(SHORT_WRITE.search(str(cause)))


class DuplicateDocument(UpdateError):
    """A file whose text the corpus already holds."""

    def __init__(self, doc_id: str) -> None:
        super().__init__(f"the corpus already holds this text as {doc_id}")
        self.doc_id = doc_id


@dataclass(frozen=True)
class Upload:
    """A file as received: its bytes and the name it came with (used for its format only)."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class UpdateResult:
    build: BuildResult
    added: list[DocumentMeta] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class CorpusUpdater:
    """Rebuilds of one corpus into one index root, one at a time across processes."""

    corpus: Path
    root: Path
    embedder: Embedder
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    index_type: str = "flat"
    keep: int = 3
    wait: float | None = None
    before_publish: Callable[[Path, Path, str], None] | None = None  # e.g. index.milvus_backend.milvus_loader
    limits: ExtractionLimits = field(default_factory=ExtractionLimits)

    def rebuild(self, *, force: bool = False, progress: bool = False) -> BuildResult:
        """Build and publish the corpus as it is (skipped when nothing changed, unless forced)."""
        with rebuild_lock(self.root, wait=self.wait):
            try:
                return self._build(force=force, progress=progress)
            except BaseException as exc:
                failed(exc)
                raise

    def add(self, uploads: list[Upload], overrides: dict | None = None) -> UpdateResult:
        """Ingest files into the corpus and publish a version that includes them; each file is read in a
        bounded worker process (index.extraction)."""
        return self.add_extracted([extract_isolated(u.data, u.filename, self.limits) for u in uploads], overrides)

    def add_extracted(self, extractions: list[Extraction], overrides: dict | None = None) -> UpdateResult:
        """Add documents already extracted and publish a version that includes them (refused with
        DocumentTooLarge when together they would grow the index past the limit)."""
        check_growth([(e.name, e.cost) for e in extractions], self.embedder.dimension, self.limits.costs)
        extracted = [e.extracted for e in extractions]
        with rebuild_lock(self.root, wait=self.wait):
            self._check_new([new_doc_id(e.text) for e in extracted])
            saved = snapshot(self.corpus, [])
            added: list[DocumentMeta] = []
            try:
                for item in extracted:
                    added.append(write_document(self.corpus, item, overrides or {}))
                return UpdateResult(self._build(), added=added)
            except BaseException as exc:
                failed(exc)
                restore(saved, self.corpus, [m.doc_id for m in added])
                raise

    def _check_new(self, doc_ids: list[str]) -> None:
        seen: set[str] = set()
        for doc_id in doc_ids:
            if doc_id in seen or any((self.corpus / f"{doc_id}{s}").exists() for s in DOCUMENT_SUFFIXES):
                raise DuplicateDocument(doc_id)
            seen.add(doc_id)

    def remove(self, doc_ids: list[str]) -> UpdateResult:
        """Remove documents from the corpus and publish a version without them."""
        with rebuild_lock(self.root, wait=self.wait):
            present = {p.stem for p in self.corpus.iterdir() if p.suffix.lower() in DOCUMENT_SUFFIXES}
            unknown = sorted(set(doc_ids) - present)
            if unknown:
                raise UpdateError(f"no document {', '.join(map(repr, unknown))} in the corpus")
            if present <= set(doc_ids):
                raise UpdateError("cannot remove every document: an index needs at least one")
            saved = snapshot(self.corpus, doc_ids)
            try:
                for doc_id in doc_ids:
                    remove_document(self.corpus, doc_id)
                return UpdateResult(self._build(), removed=list(doc_ids))
            except BaseException as exc:
                failed(exc)
                restore(saved, self.corpus, [])
                raise

    def _build(self, *, force: bool = False, progress: bool = False) -> BuildResult:
        documents = load_corpus(self.corpus)
        try:
            return build_index(
                documents, self.embedder, self.root,
                chunker=self.chunker, index_type=self.index_type, keep=self.keep, force=force, progress=progress,
                before_publish=self.before_publish,
            )
        except (OSError, RuntimeError) as exc:  # faiss reports write errors as RuntimeError
            raise RebuildFailed(f"the rebuild failed and nothing changed: {exc}") from exc


def failed(exc: BaseException) -> None:
    if not isinstance(exc, (IngestError, UpdateError)):
        log.error("rebuild failed, the served index version is unchanged: %s: %s", type(exc).__name__, exc)


def snapshot(corpus: Path, doc_ids: list[str]) -> dict[Path, bytes]:
    """The bytes of the metadata file and of the given documents' files, to put back after a failure."""
    paths = [corpus / METADATA_FILE] + [corpus / f"{d}{s}" for d in doc_ids for s in DOCUMENT_SUFFIXES]
    return {p: p.read_bytes() for p in paths if p.is_file()}


def restore(saved: dict[Path, bytes], corpus: Path, written: list[str]) -> None:
    """Undo a change: delete the documents it wrote and put the saved files back as they were.
    Failing to (a full disk) is logged: the served index is unaffected either way."""
    try:
        put_back(saved, corpus, written)
        log.warning("corpus change undone after a failed rebuild")
    except OSError as exc:
        log.error("could not undo the corpus change after a failed rebuild (%s); the next rebuild will include it", exc)


def put_back(saved: dict[Path, bytes], corpus: Path, written: list[str]) -> None:
    for doc_id in written:
        for suffix in DOCUMENT_SUFFIXES:
            (corpus / f"{doc_id}{suffix}").unlink(missing_ok=True)
    if (corpus / METADATA_FILE) not in saved:
        (corpus / METADATA_FILE).unlink(missing_ok=True)
    for path, data in saved.items():
        temporary = path.with_name(f".{path.name}.restore")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    store.fsync_dir(corpus)


__all__ = ["CorpusUpdater", "DuplicateDocument", "RebuildFailed", "IngestError", "Upload", "UpdateError", "UpdateResult"]
