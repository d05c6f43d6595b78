"""Room on disk for the next index version, checked before a change touches anything.

A change writes a whole new version beside the ones kept (GOVQA_KEEP_VERSIONS). On a nearly full
disk the kept versions can leave too little room for any change to succeed even after space is
freed elsewhere; so before a change the new version's size is estimated (the current one's plus
what the change adds), older versions are pruned first when that makes the room (and the result
says which), and a change that still would not fit is refused before anything is written.
"""

from __future__ import annotations

import errno
import logging
import shutil
from pathlib import Path

from index import store

log = logging.getLogger(__name__)

MARGIN = 1.25  # the new version, plus a quarter for what the estimate misses (temporary files, growth of the lexicon)
MIN_FREE = 1024 * 1024  # never plan to fill a disk to its last bytes


class NoRoom(OSError):
    """Not enough free space for the next version even with every old version pruned."""


def directory_bytes(path: Path) -> int:
    """Bytes a directory's files take on the disk (allocated blocks, not their lengths)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def current_bytes(root: Path) -> int:
    """The size of the version CURRENT names (0 without one)."""
    try:
        return directory_bytes(store.current_dir(root))
    except store.IndexUnavailable:
        return 0


def needed_bytes(root: Path, growth: int) -> int:
    """Free bytes the next version needs: the current version's size plus the change's growth, with a margin."""
    return int((current_bytes(root) + max(growth, 0)) * MARGIN) + MIN_FREE


def ensure_room(root: Path, growth: int) -> list[str]:
    """Make sure the next version fits: when it does not, prune old versions (never CURRENT), oldest first,
    until it does, and return their names; NoRoom (ENOSPC), pruning nothing, when even pruning every old
    version would not be enough."""
    root.mkdir(parents=True, exist_ok=True)
    needed, free = needed_bytes(root, growth), shutil.disk_usage(root).free
    if free >= needed:
        return []
    current = current_name(root)
    old = [name for name in kept_versions(root) if name != current]  # oldest first: names start with their build time
    sizes = {name: directory_bytes(root / store.VERSIONS / name) for name in old}
    if free + sum(sizes.values()) < needed:
        raise NoRoom(
            errno.ENOSPC,
            f"No space left for the next index version: it needs about {needed} bytes free, {free} are, "
            f"and pruning the {len(old)} old version(s) would free only {sum(sizes.values())}; nothing changed",
        )
    pruned = []
    for name in old:
        if shutil.disk_usage(root).free >= needed:
            break
        shutil.rmtree(root / store.VERSIONS / name, ignore_errors=True)
        pruned.append(name)
    log.warning("pruned old index version(s) %s to make room for the next one", ", ".join(pruned))
    return pruned


def current_name(root: Path) -> str | None:
    try:
        return store.current_version(root)
    except store.IndexUnavailable:
        return None


def kept_versions(root: Path) -> list[str]:
    versions = root / store.VERSIONS
    if not versions.is_dir():
        return []
    return sorted(p.name for p in versions.iterdir() if p.is_dir() and not p.name.startswith(store.TMP_PREFIX))
