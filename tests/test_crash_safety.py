"""A rebuild killed at random points, a full disk and a failing write never damage the served index."""

from __future__ import annotations

import errno
import logging
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from helpers import SEOUL, glosses_prelude
from index import store
from index.faiss_bm25 import load_index
from index.updates import CorpusUpdater, RebuildFailed, Upload
from servers import serve, wait_ready
from service.pipeline import search
from service.reloading import clean_leftovers
from service.retrieval import Retriever
from service.settings import PROJECT_ROOT, Settings

KILLS = int(os.environ.get("GOVQA_CRASH_KILLS", "30"))
REBUILD = """
import sys
from pathlib import Path
from index.embedding import SentenceTransformerEmbedder
from index.updates import CorpusUpdater
CorpusUpdater(Path(sys.argv[1]), Path(sys.argv[2]), SentenceTransformerEmbedder(sys.argv[3])).rebuild(force=True)
"""


def copy_of(settings: Settings, built_index: Path, where: Path, index_root: Path | None = None) -> Settings:
    shutil.copytree(settings.corpus, where / "corpus")
    root = index_root or where / "index"
    shutil.copytree(built_index, root, dirs_exist_ok=True)
    return settings.model_copy(
        update={"corpus": where / "corpus", "index_dir": root, "admin_key": "k", "reload_seconds": 0}
    )


def serves_seoul(settings: Settings, embedder) -> str:  # noqa: ANN001
    """Start as the server does (clean leftovers, load and verify CURRENT) and answer a known question."""
    clean_leftovers(settings)
    backend = load_index(settings.index_dir, model_name=settings.model, verify=True)
    passages = search(Retriever(backend, embedder, settings), "首尔峰会的主题是什么", 1)
    assert passages[0].doc_id == SEOUL
    return backend.version


def test_rebuilds_killed_at_random_points_leave_a_complete_verified_index(
    tmp_path: Path, settings: Settings, built_index: Path, embedder, glosses: Path,
) -> None:
    living = copy_of(settings, built_index, tmp_path)
    command = [
        sys.executable, "-c", glosses_prelude(glosses) + REBUILD,
        str(living.corpus), str(living.index_dir), living.model,
    ]
    started = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=300)
    duration = time.perf_counter() - started
    seed = int(os.environ.get("GOVQA_CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    mid_write = completed = 0
    for _ in range(KILLS):
        before = store.current_version(living.index_dir)
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0, 1.2 * duration))
        process.kill()
        process.wait()
        mid_write += any((living.index_dir / "versions").glob(".tmp-*"))
        served = serves_seoul(living, embedder)
        completed += served != before
        assert not list((living.index_dir / "versions").glob(".tmp-*")), "leftovers cleaned on start"
    print(f"seed {seed}: {KILLS} kills, {mid_write} mid-write, {completed} after publishing")
    assert mid_write >= KILLS // 6, f"too few kills landed while writing (seed {seed})"


def test_a_failing_write_leaves_index_and_corpus_as_they_were(
    tmp_path: Path, settings: Settings, built_index: Path, embedder,
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    living = copy_of(settings, built_index, tmp_path)
    before, listing = store.current_version(living.index_dir), sorted(os.listdir(living.corpus))
    metadata = (living.corpus / "metadata.json").read_bytes()

    def disk_full(*args, **kwargs) -> None:  # noqa: ANN002, ANN003
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("index.build.np.save", disk_full)
    updater = CorpusUpdater(living.corpus, living.index_dir, embedder)
    with caplog.at_level(logging.ERROR), pytest.raises(RebuildFailed) as failure:
        updater.add([Upload("谷神星议会讨论了小行星带的算力配额制度。".encode(), "ceres.txt")])
    assert failure.value.out_of_space
    assert "rebuild failed" in caplog.text and "No space left" in caplog.text
    assert store.current_version(living.index_dir) == before
    assert sorted(os.listdir(living.corpus)) == listing and (living.corpus / "metadata.json").read_bytes() == metadata
    assert not list((living.index_dir / "versions").glob(".tmp-*"))
    assert serves_seoul(living, embedder) == before


def tmpfs(path: Path, size_bytes: int) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(path)], capture_output=True, check=False
    )
    return done.returncode == 0


def test_a_full_file_system_fails_the_upload_and_the_old_index_keeps_serving(
    tmp_path: Path, settings: Settings, built_index: Path,
) -> None:
    used = sum(f.stat().st_size for f in built_index.rglob("*") if f.is_file())
    mount = tmp_path / "small"
    if not tmpfs(mount, used + 2 * 1024 * 1024):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        living = copy_of(settings, built_index, tmp_path, index_root=mount / "index")
        for url in serve(living):
            wait_ready(url)
            before = httpx.get(f"{url}/readyz").json()["index_version"]
            files = {"file": ("ceres.txt", "谷神星议会讨论了小行星带的算力配额制度。".encode())}
            response = httpx.post(
                f"{url}/v1/documents", files=files, headers={"authorization": "Bearer k"}, timeout=120
            )
            assert response.status_code == 507, response.text
            assert "nothing changed" in response.json()["error"]["message"]
            assert httpx.get(f"{url}/readyz").json()["index_version"] == before
            asked = httpx.post(f"{url}/v1/ask", json={"question": "首尔峰会的主题是什么？"}, timeout=30).json()
            assert asked["passages"][0]["doc_id"] == SEOUL and asked["index_version"] == before
            assert not list((mount / "index" / "versions").glob(".tmp-*"))
            assert len(os.listdir(living.corpus)) == len(os.listdir(settings.corpus))
    finally:
        subprocess.run(["umount", str(mount)], check=False)
