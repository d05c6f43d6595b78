"""The supply chain: setup installs from a hash-pinned lock, the installed packages are the locked ones,
bandit finds nothing, and model files are verified by checksum on every load."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

from index.embedding import SentenceTransformerEmbedder
from index.model_files import CHECKSUMS, ModelDamaged, verify_checksums
from service.settings import DEFAULT_MODEL_DIR, PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)")


def locked() -> dict[str, str]:
    """Package name (normalized) → version, from the lock file."""
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_setup_installs_from_the_lock_with_hashes() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes" in makefile and "requirements.lock" in makefile
    entries: list[str] = []
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if PIN.match(line):
            entries.append("")
        if entries:
            entries[-1] += line
    assert len(entries) > 50 and all("--hash=sha256:" in e for e in entries)
    assert not re.search(
        r"^\s*-e |^[a-z].* @ ", LOCK.read_text(encoding="utf-8"), re.M
    ), "every entry is a pinned release"


def test_every_direct_dependency_is_locked_at_its_pinned_version() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = locked()
    for requirement in direct:
        name, version = requirement.split("==")
        assert pins.get(normalize(name), "").split("+")[0] == version, requirement


def test_the_installed_packages_are_the_locked_ones() -> None:
    drift = []
    for name, version in locked().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift.append(f"{name} not installed")
            continue
        if installed != version:
            drift.append(f"{name} {installed} != {version}")
    assert not drift, drift


@pytest.mark.parametrize(("paths", "level"), [(["index", "service"], "-l"), (["scripts"], "-ll")])
def test_bandit_finds_nothing(paths: list[str], level: str) -> None:
    """Every severity in the served code; medium and above in the maintenance scripts (which start
    subprocesses and use `random` for test data by design)."""
    bandit = Path(sys.executable).parent / "bandit"
    done = subprocess.run(
        [str(bandit), "-q", "-r", level, *paths], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture()
def model_copy(tmp_path: Path) -> Path:
    if not (DEFAULT_MODEL_DIR / CHECKSUMS).is_file():
        pytest.skip("the default model has no checksum list (run `make model`)")
    copy = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL_DIR, copy, ignore=shutil.ignore_patterns("onnx"))
    return copy


def test_an_intact_model_verifies(model_copy: Path) -> None:
    assert verify_checksums(model_copy) is True


def test_a_damaged_model_file_is_refused_on_load_by_name(model_copy: Path) -> None:
    config = model_copy / "config.json"
    config.write_text(config.read_text(encoding="utf-8").replace("512", "513", 1), encoding="utf-8")
    with pytest.raises(ModelDamaged, match="config.json"):
        _ = SentenceTransformerEmbedder(str(model_copy)).model


def test_missing_and_unlisted_model_files_are_refused(model_copy: Path) -> None:
    (model_copy / "extra.bin").write_bytes(b"\0" * 16)
    with pytest.raises(ModelDamaged, match="extra.bin"):
        verify_checksums(model_copy)
    (model_copy / "extra.bin").unlink()
    (model_copy / "tokenizer.json").unlink()
    with pytest.raises(ModelDamaged, match="tokenizer.json"):
        verify_checksums(model_copy)
