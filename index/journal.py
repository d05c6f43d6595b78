"""A journal of corpus changes, so that a process killed mid-change (kill -9, power loss) leaves nothing
half done: before a change touches the corpus its intent is written here (which documents it adds, or
the exact bytes of those it removes, and metadata.json as it was); once the new index version is
published the entry is deleted. `recover`, run under the rebuild lock before any change and when a
server starts, finds an entry left behind and completes the change if its version was published, or
rolls the corpus back to what the served version holds if not. Either way no document is on disk
without being served, and none is served whose file is gone.

The entry lives in the corpus directory as `.govqa-journal.json` (not a document suffix, so a corpus
reader never takes it for one).
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index import store
from index.documents import DOCUMENT_SUFFIXES, METADATA_FILE
from index.ingest import atomic_write

log = logging.getLogger(__name__)

JOURNAL_FILE = ".govqa-journal.json"


@dataclass(frozen=True)
class Change:
    """A corpus change as intended: the documents it adds or removes, and what to put back to undo it."""

    op: str  # "add" or "remove"
    doc_ids: list[str]
    metadata: str | None  # metadata.json's bytes before the change (base64), None when it did not exist
    # doc_id -> {"name": file name, "data": base64 bytes}
    removed: dict[str, dict[str, str]] = field(default_factory=dict)


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def begin(corpus: Path, op: str, doc_ids: list[str]) -> Change:
    """Record a change before it touches the corpus (durably: written, synced and renamed into place)."""
    metadata = corpus / METADATA_FILE
    removed = {}
    if op == "remove":
        for doc_id in doc_ids:
            for suffix in DOCUMENT_SUFFIXES:
                path = corpus / f"{doc_id}{suffix}"
                if path.is_file():
                    removed[doc_id] = {"name": path.name, "data": encoded(path.read_bytes())}
    change = Change(op, list(doc_ids), encoded(metadata.read_bytes()) if metadata.is_file() else None, removed)
    atomic_write(corpus / JOURNAL_FILE, json.dumps(asdict(change)))
    return change


def finish(corpus: Path) -> None:
    """The change is complete (published) or undone: forget it."""
    (corpus / JOURNAL_FILE).unlink(missing_ok=True)
    store.fsync_dir(corpus)


def pending(corpus: Path) -> Change | None:
    """The change a killed process left, if any (a journal that cannot be read is an error, never guessed at)."""
    path = corpus / JOURNAL_FILE
    if not path.is_file():
        return None
    try:
        return Change(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise store.IndexUnavailable(
            f"{path} cannot be read ({exc}); compare the corpus with `govqa list` and delete it"
        ) from exc


def served_documents(root: Path) -> set[str]:
    """The doc_ids of the version CURRENT names (none when there is no index yet)."""
    try:
        return set(store.read_manifest(store.current_dir(root)).get("corpus", {}))
    except store.IndexUnavailable:
        return set()


def published(change: Change, root: Path) -> bool:
    """Whether the version CURRENT names already holds the change."""
    served = served_documents(root)
    if change.op == "add":
        return all(d in served for d in change.doc_ids)
    return not any(d in served for d in change.doc_ids)


def roll_back(corpus: Path, change: Change) -> None:
    """Put the corpus back as it was before the change (documents it wrote deleted, those it removed
    written back byte for byte, metadata.json restored), then forget the change."""
    if change.op == "add":
        for doc_id in change.doc_ids:
            for suffix in DOCUMENT_SUFFIXES:
                (corpus / f"{doc_id}{suffix}").unlink(missing_ok=True)
    for saved in change.removed.values():
        write_bytes(corpus / Path(saved["name"]).name, base64.b64decode(saved["data"]))
    if change.metadata is None:
        (corpus / METADATA_FILE).unlink(missing_ok=True)
    else:
        write_bytes(corpus / METADATA_FILE, base64.b64decode(change.metadata))
    finish(corpus)


def write_bytes(path: Path, data: bytes) -> None:
    """Replace a file's bytes atomically and durably."""
    temporary = path.with_name(f".{path.name}.restore")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def remove_temporaries(corpus: Path) -> int:
    """Delete the temporary files a killed write leaves in the corpus directory (`.<name>.*.tmp`, `.<name>.restore`)."""
    leftovers = [
        p for p in corpus.glob(".*")
        if p.is_file() and p.name != JOURNAL_FILE and p.name.endswith((".tmp", ".restore"))
    ]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return len(leftovers)


def recover(corpus: Path, root: Path) -> str | None:
    """Complete or roll back a change a killed process left; call only under the rebuild lock. Returns
    what was done ("completed" or "rolled back"), or None when nothing was pending."""
    if not corpus.is_dir():
        return None
    remove_temporaries(corpus)
    change = pending(corpus)
    if change is None:
        return None
    if published(change, root):
        finish(corpus)
        outcome = "completed"
    else:
        roll_back(corpus, change)
        outcome = "rolled back"
    log.warning("an interrupted corpus change (%s %s) was %s", change.op, ", ".join(change.doc_ids), outcome)
    return outcome
