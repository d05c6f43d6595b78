"""Changing the corpus while it is served: add or remove documents, then publish a new index version.

Each change holds the index root's rebuild lock from the first write to the corpus until the new
version is published, reuses the vectors of every unchanged chunk, and is undone in the corpus
when the rebuild fails, so corpus and served index never disagree after an error. Each change is
journaled first (index.journal): a process killed mid-change leaves an entry that the next change,
rebuild or server start completes (its version was published) or rolls back (it was not).
"""

from __future__ import annotations

import errno
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from index.build import BuildResult, build_index
from index.chunking import ChunkerSettings
from index.documents import DOCUMENT_SUFFIXES, DocumentMeta, load_corpus
from index.embedding import Embedder
from index.costs import check_growth
from index.extraction import Extraction, ExtractionLimits, extract_isolated
from index.ingest import IngestError, new_doc_id, remove_document, write_document
from index.journal import Change, begin, finish, recover, roll_back
from index.locking import rebuild_lock
from index.space import ensure_room

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
    pruned: list[str] = field(default_factory=list)  # old versions removed first to make room (index.space)


@dataclass
class CorpusUpdater:
    """Rebuilds of one corpus into one index root, one at a time across processes."""

    corpus: Path
    root: Path
    embedder: Embedder
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    index_type: str = "auto"
    keep: int = 3
    wait: float | None = None
    before_publish: Callable[[Path, Path, str], None] | None = None  # e.g. index.milvus_backend.milvus_loader
    limits: ExtractionLimits = field(default_factory=ExtractionLimits)

    def rebuild(self, *, force: bool = False, progress: bool = False) -> BuildResult:
        """Build and publish the corpus as it is (skipped when nothing changed, unless forced)."""
        with rebuild_lock(self.root, wait=self.wait):
            self.recover()
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
        growth = check_growth([(e.name, e.cost) for e in extractions], self.embedder.dimension, self.limits.costs)
        extracted = [e.extracted for e in extractions]
        with rebuild_lock(self.root, wait=self.wait):
            self.recover()
            doc_ids = [new_doc_id(e.text) for e in extracted]
            self._check_new(doc_ids)
            pruned = ensure_room(self.root, growth)
            change = begin(self.corpus, "add", doc_ids)
            try:
                added = [write_document(self.corpus, item, overrides or {}) for item in extracted]
                built = self._build()
            except BaseException as exc:
                failed(exc)
                undo(self.corpus, change)
                raise
            finish(self.corpus)
            return UpdateResult(built, added=added, pruned=pruned)

    def recover(self) -> str | None:
        """Complete or roll back a change a killed process left (call under the rebuild lock)."""
        return recover(self.corpus, self.root)

    def _check_new(self, doc_ids: list[str]) -> None:
        seen: set[str] = set()
        for doc_id in doc_ids:
            if doc_id in seen or any((self.corpus / f"{doc_id}{s}").exists() for s in DOCUMENT_SUFFIXES):
                raise DuplicateDocument(doc_id)
            seen.add(doc_id)

    def remove(self, doc_ids: list[str]) -> UpdateResult:
        """Remove documents from the corpus and publish a version without them."""
        with rebuild_lock(self.root, wait=self.wait):
            self.recover()
            present = {p.stem for p in self.corpus.iterdir() if p.suffix.lower() in DOCUMENT_SUFFIXES}
            unknown = sorted(set(doc_ids) - present)
            if unknown:
                raise UpdateError(f"no document {', '.join(map(repr, unknown))} in the corpus")
            if present <= set(doc_ids):
                raise UpdateError("cannot remove every document: an index needs at least one")
            pruned = ensure_room(self.root, 0)
            change = begin(self.corpus, "remove", doc_ids)
            try:
                for doc_id in doc_ids:
                    remove_document(self.corpus, doc_id)
                built = self._build()
            except BaseException as exc:
                failed(exc)
                undo(self.corpus, change)
                raise
            finish(self.corpus)
            return UpdateResult(built, removed=list(doc_ids), pruned=pruned)

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


def undo(corpus: Path, change: Change) -> None:
    """Undo a change after a failed rebuild. Failing to (a full disk) is logged, and the journal entry
    stays, so the next change or start rolls it back: the served index is unaffected either way."""
    try:
        roll_back(corpus, change)
        log.warning("corpus change undone after a failed rebuild")
    except OSError as exc:
        log.error(
            "could not undo the corpus change after a failed rebuild (%s); it is rolled back before the next change",
            exc,
        )


__all__ = [
    "CorpusUpdater", "DuplicateDocument", "RebuildFailed", "IngestError", "Upload", "UpdateError", "UpdateResult",
]
