"""Before a change, room for the new index version: old versions are pruned first when that makes it (and
the result says which), and a change that would not fit even so is refused before anything is written;
on a small tmpfs."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import HashEmbedder
from index import store
from index.build import build_index
from index.documents import load_corpus
from index.chunking import ChunkerSettings
from index.costs import CostLimits, measure
from index.space import NoRoom, current_bytes, needed_bytes
from index.updates import CorpusUpdater, Upload

TEXTS = [f"第{n}份文件规定了第{n}号空间站的模型审计流程，审计结果每季度公开一次。" * 40 for n in range(6)]


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    yield mount
    subprocess.run(["umount", str(mount)], check=False, capture_output=True)


def mount_tmpfs(path: Path, size: int) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")


def resize(path: Path, size: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], capture_output=True, check=True)


def growth_of(text: str) -> int:
    cost = measure(text, ChunkerSettings(), CostLimits(), "new.txt")
    return cost.growth_bytes(HashEmbedder.dimension)


def live_copy(model: Path, disk: Path) -> tuple[Path, Path, int, int]:
    """The model corpus and index copied onto the tmpfs; returns them, the bytes used there and one version's size."""
    mount_tmpfs(disk, 256 * 1024 * 1024)
    shutil.copytree(model, disk / "live")
    root = disk / "live" / "index"
    return disk / "live" / "corpus", root, shutil.disk_usage(disk).used, current_bytes(root)


def three_versions(where: Path) -> tuple[Path, Path]:
    """A corpus and an index root with three versions kept (each change adds one document)."""
    corpus, root = where / "corpus", where / "index"
    corpus.mkdir(parents=True)
    (corpus / "base.txt").write_text(TEXTS[0], encoding="utf-8")
    build_index(load_corpus(corpus), HashEmbedder(), root, keep=3)
    for n in (1, 2):
        (corpus / f"more{n}.txt").write_text(TEXTS[n], encoding="utf-8")
        build_index(load_corpus(corpus), HashEmbedder(), root, keep=3)
    return corpus, root


def test_old_versions_are_pruned_first_when_that_makes_room(tmp_path: Path, small_disk: Path) -> None:
    three_versions(tmp_path / "model")
    corpus, root, used, version = live_copy(tmp_path / "model", small_disk)
    resize(small_disk, used + needed_bytes(root, growth_of(TEXTS[3])) - version // 2)  # room once one old version goes
    before = sorted(p.name for p in (root / "versions").iterdir())
    assert len(before) == 3
    result = CorpusUpdater(corpus, root, HashEmbedder(), keep=3).add([Upload(TEXTS[3].encode(), "new.txt")])
    assert result.pruned and set(result.pruned) <= set(before[:2]), result.pruned
    assert store.current_version(root) == result.build.version
    assert len(result.added) == 1


def test_a_change_that_cannot_fit_is_refused_before_anything_changes(tmp_path: Path, small_disk: Path) -> None:
    three_versions(tmp_path / "model")
    corpus, root, used, version = live_copy(tmp_path / "model", small_disk)
    resize(small_disk, used + needed_bytes(root, growth_of(TEXTS[4])) - 3 * version)  # more than both old versions free
    listing, current = sorted(os.listdir(corpus)), store.current_version(root)
    with pytest.raises(NoRoom) as refused:
        CorpusUpdater(corpus, root, HashEmbedder(), keep=3).add([Upload(TEXTS[4].encode(), "big.txt")])
    assert refused.value.errno == errno.ENOSPC and "nothing changed" in str(refused.value)
    assert sorted(os.listdir(corpus)) == listing and store.current_version(root) == current
    assert len(list((root / "versions").iterdir())) == 3, "nothing was pruned for a change that could not fit anyway"
    served = store.read_manifest(store.current_dir(root))["corpus"]
    assert set(served) == {d.doc_id for d in load_corpus(corpus)}
