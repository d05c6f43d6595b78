"""Checksums of a model directory, written when the model is fetched and verified on every load.

`checksums.sha256` lists every file of the directory (sha256sum's format) except govqa's own
ONNX exports under `onnx/`, which carry a checksum file each. A model directory without the
list (one the user brought) loads unverified.
"""

from __future__ import annotations

from pathlib import Path

from index.store import file_sha256

CHECKSUMS = "checksums.sha256"


class ModelDamaged(RuntimeError):
    """A model file that is missing or differs from the checksum recorded when it was fetched."""


def model_files(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*")
        if p.is_file() and p.name != CHECKSUMS and p.relative_to(directory).parts[0] != "onnx"
    )


def write_checksums(directory: Path) -> None:
    lines = [f"{file_sha256(p)}  {p.relative_to(directory).as_posix()}\n" for p in model_files(directory)]
    (directory / CHECKSUMS).write_text("".join(lines), encoding="utf-8")


def read_checksums(path: Path) -> dict[str, str]:
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if digest and name:
            entries[name] = digest
    return entries


def verify_listed(directory: Path, expected: dict[str, str]) -> None:
    """Each named file exists and has its recorded sha256, else ModelDamaged."""
    for name, digest in expected.items():
        path = directory / name
        if not path.is_file():
            raise ModelDamaged(f"model file {name} is missing from {directory}; run `make model` again")
        if file_sha256(path) != digest:
            raise ModelDamaged(
                f"model file {name} in {directory} is damaged (checksum mismatch); run `make model` again"
            )


def listed_checksums(directory: Path) -> dict[str, str] | None:
    """The directory's recorded sha256 of each file; None when it has no checksum list."""
    listing = directory / CHECKSUMS
    return read_checksums(listing) if listing.is_file() else None


def verify_some(directory: Path, names: list[str]) -> bool:
    """Verify just these files (what a process reads when it needs no weights); False when there is no list."""
    expected = listed_checksums(directory)
    if expected is None:
        return False
    verify_listed(directory, {name: expected[name] for name in names if name in expected})
    return True


def verify_checksums(directory: Path) -> bool:
    """Compare every listed file with its recorded sha256; False when the directory has no list."""
    expected = listed_checksums(directory)
    if expected is None:
        return False
    verify_listed(directory, expected)
    unlisted = [
        p.relative_to(directory).as_posix() for p in model_files(directory)
        if p.relative_to(directory).as_posix() not in expected
    ]
    if unlisted:
        raise ModelDamaged(
            f"{directory} holds files its checksum list does not: {', '.join(unlisted)}; run `make model` again"
        )
    return True


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def seal(path: Path) -> None:
    """Record a derived file's checksum beside it."""
    sidecar(path).write_text(file_sha256(path) + "\n", encoding="utf-8")


def sealed(path: Path) -> bool:
    """Whether a derived file exists and matches the checksum beside it."""
    check = sidecar(path)
    return path.is_file() and check.is_file() and check.read_text(encoding="utf-8").strip() == file_sha256(path)
