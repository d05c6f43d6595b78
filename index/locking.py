"""One rebuild at a time per index root (and one export of a question encoder), across processes: an
advisory lock file (flock).

The kernel drops the lock when its holder dies, so a killed rebuild never leaves the
index locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

LOCK_FILE = "build.lock"


class RebuildBusy(RuntimeError):
    """Another rebuild holds the index root."""


def rebuild_lock(root: Path, *, wait: float | None = None) -> AbstractContextManager[None]:
    """Hold the root's rebuild lock: wait up to `wait` seconds for it (None: as long as it takes,
    0: not at all), else raise RebuildBusy."""
    return file_lock(root / LOCK_FILE, wait=wait)


@contextmanager
def file_lock(path: Path, *, wait: float | None = None) -> Iterator[None]:
    """Hold an advisory lock on `path` (created when missing), waiting as rebuild_lock does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        acquire(fd, wait)
        yield
    finally:
        os.close(fd)


def acquire(fd: int, wait: float | None) -> None:
    if wait is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise RebuildBusy(
                    "another rebuild of this index is in progress; try again when it has finished"
                ) from None
            time.sleep(0.05)
