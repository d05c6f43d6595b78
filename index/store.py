"""Versioned index directories: written aside, published by atomic rename, verified on load.

Layout under the index root:

    CURRENT                    the name of the version being served
    versions/<version>/        one complete index with its manifest.json
    versions/.tmp-<random>/    a build in progress (removed on failure or at next build)

A reader follows CURRENT, so it sees either the old or the new version, never a
half-written one; a failed or killed build leaves CURRENT untouched.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
VERSIONS = "versions"
TMP_PREFIX = ".tmp-"


class IndexUnavailable(RuntimeError):
    """An index that is missing, damaged or built for something else."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    for file in path.rglob("*"):
        if file.is_file():
            with file.open("rb") as handle:
                os.fsync(handle.fileno())
    fsync_dir(path)


def checksums(directory: Path) -> dict[str, str]:
    """sha256 of every file under a version directory except the manifest."""
    return {
        p.relative_to(directory).as_posix(): file_sha256(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def remove_leftovers(root: Path) -> int:
    """Delete unfinished builds and pointer files left by a crash; call only under the rebuild lock."""
    leftovers = list((root / VERSIONS).glob(f"{TMP_PREFIX}*")) if (root / VERSIONS).is_dir() else []
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)
    pointer = root / f"{CURRENT}.tmp"
    if pointer.exists():
        pointer.unlink(missing_ok=True)
        leftovers.append(pointer)
    return len(leftovers)


@contextmanager
def staging(root: Path) -> Iterator[Path]:
    """A fresh temporary directory inside the index root, removed unless published."""
    (root / VERSIONS).mkdir(parents=True, exist_ok=True)
    remove_leftovers(root)
    path = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=root / VERSIONS))
    try:
        yield path
    finally:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)


def publish(root: Path, staged: Path, version: str, manifest: dict) -> Path:
    """Seal a staged directory with its manifest, move it into place and point CURRENT at it."""
    manifest = {**manifest, "format_version": FORMAT_VERSION, "version": version, "files": checksums(staged)}
    (staged / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    fsync_tree(staged)
    target = root / VERSIONS / version
    if target.exists():
        raise IndexUnavailable(f"index version {version} already exists in {root}")
    os.rename(staged, target)
    fsync_dir(root / VERSIONS)
    pointer = root / f"{CURRENT}.tmp"
    pointer.write_text(version + "\n", encoding="utf-8")
    with pointer.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, root / CURRENT)
    fsync_dir(root)
    return target


def current_version(root: Path) -> str:
    """The version CURRENT names."""
    pointer = root / CURRENT
    try:
        return pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexUnavailable(f"no index at {root}: run `govqa build` first") from None


def current_dir(root: Path) -> Path:
    """The directory of the version CURRENT names."""
    pointer = root / CURRENT
    version = current_version(root)
    path = root / VERSIONS / version
    if not version or not path.is_dir():
        raise IndexUnavailable(f"{pointer} names version {version!r}, which is missing; rebuild with `govqa build`")
    return path


def read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise IndexUnavailable(f"index {directory} has no manifest; rebuild with `govqa build`") from exc
    except json.JSONDecodeError as exc:
        raise IndexUnavailable(f"index manifest {path} is damaged ({exc}); rebuild with `govqa build`") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexUnavailable(
            f"index {directory} has format version {manifest.get('format_version')!r}, "
            f"this govqa reads {FORMAT_VERSION}; rebuild with `govqa build`"
        )
    return manifest


def verify(directory: Path, manifest: dict) -> None:
    """Compare every file with the checksum the manifest recorded."""
    expected: dict[str, str] = manifest.get("files", {})
    for name, digest in expected.items():
        path = directory / name
        if not path.is_file():
            raise IndexUnavailable(f"index file {name} is missing from {directory}; rebuild with `govqa build`")
        if file_sha256(path) != digest:
            raise IndexUnavailable(
                f"index file {name} in {directory} is damaged (checksum mismatch); rebuild with `govqa build`"
            )


def prune(root: Path, keep: int) -> list[str]:
    """Remove all but the newest `keep` versions, never the current one."""
    versions = root / VERSIONS
    current = (root / CURRENT).read_text(encoding="utf-8").strip() if (root / CURRENT).exists() else None
    names = sorted(
        (p.name for p in versions.iterdir() if p.is_dir() and not p.name.startswith(TMP_PREFIX)), reverse=True
    )
    removed = [n for n in names[keep:] if n != current]
    for name in removed:
        shutil.rmtree(versions / name, ignore_errors=True)
    return removed


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
