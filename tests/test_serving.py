"""`govqa serve` with several worker processes sharing one port (service/serving.py)."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from servers import serve_process
from service.serving import memory_refusal, per_worker, worker_bytes
from service.settings import Settings


def spawned_workers(pid: int) -> list[int]:
    """The worker processes a supervisor started (multiprocessing's spawn children, not its resource tracker)."""
    workers = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields.get("PPid", "0")) == pid and b"spawn_main" in command:
            workers.append(int(fields["Pid"]))
    return sorted(workers)


def test_each_worker_gets_its_share_of_the_cores() -> None:
    assert per_worker(Settings(workers=2), cpus=2).torch_threads == 1
    assert per_worker(Settings(workers=2), cpus=8).torch_threads == 4
    assert per_worker(Settings(workers=4), cpus=2).torch_threads == 1
    assert per_worker(Settings(workers=2, torch_threads=3), cpus=2).torch_threads == 3  # set by the operator: kept
    assert per_worker(Settings(workers=1), cpus=2).torch_threads is None  # one process: the encoder's own default


def test_workers_that_would_not_fit_in_memory_are_refused(tmp_path: Path) -> None:
    settings = Settings(workers=8, index_dir=tmp_path / "index", model=str(tmp_path / "model"))
    one = worker_bytes(settings)
    assert memory_refusal(settings, available=8 * one) is None
    refusal = memory_refusal(settings, available=3 * one + 1)
    assert refusal is not None and "GOVQA_WORKERS to 3 or fewer" in refusal
    assert memory_refusal(settings, available=None) is None


def test_index_files_count_towards_a_workers_memory(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index", model=str(tmp_path / "model"), keep_versions=1)
    empty = worker_bytes(settings)
    (tmp_path / "index" / "v1").mkdir(parents=True)
    (tmp_path / "index" / "v1" / "vectors.npy").write_bytes(b"\0" * 100_000)
    assert worker_bytes(settings) == empty + 100_000


@pytest.fixture(scope="module")
def two_workers(settings: Settings, built_index: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("serving") / "serve.log"
    yield from serve_process(settings.model_copy(update={"workers": 2}), log)


def ask(url: str, question: str) -> dict:
    response = httpx.post(f"{url}/v1/ask", json={"question": question, "top_k": 3}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


QUESTIONS = ["首尔峰会的主题是什么？", "中美人工智能政府间首次对话在哪里举行？",
             "What did the Bletchley Declaration say about frontier AI?",
             "布莱切利宣言由多少个国家签署？", "欧盟人工智能法案的罚款是多少？", "人工智能治理的国际合作有哪些机制？"]


def test_two_workers_answer_as_one_process_does(two_workers, asker) -> None:
    url, process = two_workers
    assert len(spawned_workers(process.pid)) == 2
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda q: ask(url, q), QUESTIONS * 3))
    for question, reply in zip(QUESTIONS * 3, answers):
        local = asker.ask(question, 3)
        assert [p["doc_id"] for p in reply["passages"]] == [p.doc_id for p in local.passages], question
        assert reply["index_version"] == local.index_version


def test_a_killed_worker_is_replaced_and_the_other_keeps_answering(two_workers) -> None:
    url, process = two_workers
    first, second = spawned_workers(process.pid)
    os.kill(first, signal.SIGKILL)
    for _ in range(5):  # the kernel hands every connection to the worker still accepting
        assert ask(url, QUESTIONS[0])["passages"]
    deadline = time.time() + 120
    while time.time() < deadline and (len(spawned_workers(process.pid)) < 2 or first in spawned_workers(process.pid)):
        time.sleep(0.5)
    workers = spawned_workers(process.pid)
    assert len(workers) == 2 and second in workers and first not in workers
    assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200


def test_sigterm_stops_the_supervisor_and_every_worker(settings: Settings, built_index: Path, tmp_path: Path) -> None:
    serving = serve_process(settings.model_copy(update={"workers": 2}), tmp_path / "serve.log")
    url, process = next(serving)
    workers = spawned_workers(process.pid)
    assert len(workers) == 2
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0
    assert not [
        pid for pid in workers
        if Path(f"/proc/{pid}").exists() and b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    serving.close()


def test_the_shared_socket_hands_out_connections_without_nagle_delay() -> None:
    import socket

    import uvicorn

    from service.serving import listening_socket

    listener = listening_socket(uvicorn.Config(app="service.app:create_app", host="127.0.0.1", port=0))
    listener.listen()  # a worker's event loop does this
    try:
        with socket.create_connection(listener.getsockname()[:2]):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        listener.close()
