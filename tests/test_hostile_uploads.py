"""Hostile uploads against a live `govqa serve` process: each shape once cost minutes of CPU, gigabytes of
memory or of log; now each is refused within seconds, with the server's memory and log growth bounded
and /healthz and /v1/ask answering within a second throughout."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hostile_files import deeply_nested_pdf, endless_line, forged_size_docx, sentence_flood, shared_stream_pdf
from servers import Probe, rss_bytes, serve_process
from service.settings import Settings

KEY = "hostile-key"
AUTH = {"authorization": f"Bearer {KEY}"}
MB = 1 << 20
LOG_BOUND = 1 * MB  # log growth allowed for a whole attack
RSS_BOUND = 150 * MB  # resident memory the server may keep after an attack
EXTRACT_SECONDS = 4  # the server's extraction limits here (30 s by default)
GROWTH_LIMIT = 20 * MB  # index growth one upload may cause here (200 MiB by default)


class Live:
    """The server under attack: its URL, process and log file."""

    def __init__(self, url: str, process, log: Path) -> None:  # noqa: ANN001 - a Popen
        self.url, self.process, self.log = url, process, log

    def log_size(self) -> int:
        return self.log.stat().st_size

    def rss(self) -> int:
        return rss_bytes(self.process.pid)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, settings: Settings, built_index: Path) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(settings.corpus, root / "corpus")
    shutil.copytree(built_index, root / "index")
    attacked = settings.model_copy(update={
        "corpus": root / "corpus", "index_dir": root / "index", "admin_key": KEY, "reload_seconds": 0.5,
        "extract_timeout_seconds": EXTRACT_SECONDS, "extract_cpu_seconds": EXTRACT_SECONDS, "extract_workers": 2,
        "max_index_growth_bytes": GROWTH_LIMIT,
    })
    for url, process in serve_process(attacked, root / "server.log"):
        yield Live(url, process, root / "server.log")


def workers(pid: int) -> list[int]:
    """The extraction worker processes the server has running."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                if b"index.extract_worker" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
            except FileNotFoundError:
                pass
    return found


def upload(live: Live, files: list[tuple[str, bytes]], timeout: float = 60) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = httpx.post(f"{live.url}/v1/documents", files=[("file", f) for f in files], headers=AUTH, timeout=timeout)
    return response, time.perf_counter() - started


def attack(live: Live, files: list[tuple[str, bytes]], rounds: int = 1, seconds: float = 10.0) -> list[httpx.Response]:
    """Send the upload `rounds` times while a normal client probes; check the bounds the issue sets."""
    log_before, rss_before = live.log_size(), live.rss()
    responses, took_most = [], 0.0
    with Probe(live.url) as probe:
        for _ in range(rounds):
            response, took = upload(live, files)
            assert took < seconds, f"took {took:.1f} s"
            assert 400 <= response.status_code < 500, response.text
            responses.append(response)
            took_most = max(took_most, took)
        time.sleep(0.5)
    grown = live.log_size() - log_before
    print(f"\n{files[0][0]} ×{len(files)}, {rounds} round(s): {responses[0].status_code} in at most {took_most:.2f} s, "
          f"log +{grown} B, RSS {(live.rss() - rss_before) / MB:+.0f} MB, slowest probe {probe.worst():.2f} s")
    probe.check(1.0)
    assert grown < LOG_BOUND, f"the log grew by {grown} bytes"
    assert live.rss() - rss_before < RSS_BOUND, f"RSS grew by {(live.rss() - rss_before) / MB:.0f} MB"
    return responses


def test_a_pdf_that_makes_the_parser_warn_from_deep_recursion_costs_little_log(live: Live) -> None:
    files = [(f"deep{i}.pdf", deeply_nested_pdf(50_000 + i)) for i in range(20)]
    for response in attack(live, files, rounds=3):
        assert response.status_code == 422 and "deep0.pdf" in response.json()["error"]["message"]
    log_lines = live.log.read_text(errors="replace").splitlines()
    assert not any("Traceback" in line or "RecursionError" in line for line in log_lines)


def test_a_docx_with_forged_sizes_is_refused_by_counting_what_it_really_inflates_to(live: Live) -> None:
    bomb = forged_size_docx(inflated_bytes=1 << 30, declared_bytes=1000)  # 1 MB on the wire, 1 GiB inflated
    assert len(bomb) < 2 * MB
    outcomes: list[httpx.Response] = []

    def send() -> None:
        outcomes.append(upload(live, [("bomb.docx", bomb)])[0])

    rss_before = live.rss()
    with Probe(live.url) as probe:
        senders = [threading.Thread(target=send) for _ in range(2)]  # two at once, as many as extraction slots
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(60)
        responses = attack(live, [("bomb.docx", bomb)], rounds=3)
    probe.check(1.0)
    assert live.rss() - rss_before < RSS_BOUND
    for response in responses + outcomes:
        assert response.status_code == 422, response.text
        assert "declares 1000" in response.json()["error"]["message"] and "limit" in response.json()["error"]["message"]


def test_a_pdf_that_takes_minutes_to_parse_is_stopped_at_the_extraction_time_limit(live: Live) -> None:
    pdf = shared_stream_pdf(pages=1999, stream_bytes=256 * 1024)  # ~300 KB; about 22 minutes of CPU unbounded
    results: list[tuple[int, float, str]] = []

    def send(n: int) -> None:
        response, took = upload(live, [(f"slow{n}.pdf", pdf)])
        results.append((response.status_code, took, response.text))

    log_before, rss_before = live.log_size(), live.rss()
    with Probe(live.url) as probe:
        senders = [threading.Thread(target=send, args=(n,)) for n in range(8)]  # eight at once
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(60)
    print(f"\n8 × slow.pdf at once: {sorted((status, round(took, 1)) for status, took, _ in results)}, "
          f"slowest probe {probe.worst():.2f} s")
    probe.check(1.0)
    statuses = sorted(status for status, _, _ in results)
    assert len(results) == 8 and set(statuses) <= {413, 503}, results
    assert statuses.count(413) >= 2, "both extraction slots were used"
    for status, took, text in results:
        assert took < EXTRACT_SECONDS + 5
        if status == 413:
            assert f"longer than {EXTRACT_SECONDS} s" in text and "GOVQA_EXTRACT_TIMEOUT_SECONDS" in text
    assert live.log_size() - log_before < LOG_BOUND and live.rss() - rss_before < RSS_BOUND
    assert not workers(live.process.pid)


def test_a_client_that_leaves_mid_extraction_has_its_worker_stopped(live: Live) -> None:
    pdf = shared_stream_pdf(pages=1999, stream_bytes=256 * 1024)
    boundary = "hostile-boundary"
    body = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\n"
            f"content-type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
    head = (f"POST /v1/documents HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {KEY}\r\n"
            f"content-type: multipart/form-data; boundary={boundary}\r\ncontent-length: {len(body)}\r\n\r\n").encode()
    host, port = live.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(head + body)
        deadline = time.monotonic() + 5
        while not workers(live.process.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert workers(live.process.pid), "the extraction started"
    left = time.monotonic()
    while workers(live.process.pid) and time.monotonic() - left < 3:
        time.sleep(0.05)
    stopped_after = time.monotonic() - left
    print(f"\nthe worker stopped {stopped_after:.2f} s after its client left")
    assert not workers(live.process.pid) and stopped_after < 2, (
        f"the worker outlived its client by {stopped_after:.1f} s"
    )


def message(response: httpx.Response) -> str:
    return response.json()["error"]["message"]


def test_valid_text_that_would_cost_too_much_to_index_is_refused_naming_the_limit(live: Live) -> None:
    flood = sentence_flood(1 << 20)  # 1 MB of 好。: 174,762 sentences
    for response in attack(live, [("flood.txt", flood)], rounds=2):
        assert response.status_code == 413 and "GOVQA_MAX_DOCUMENT_SENTENCES" in message(response), response.text
    line = endless_line(19 * MB)  # one line of `a`, no sentence end
    for response in attack(live, [("line.txt", line)], rounds=2, seconds=20):
        assert response.status_code == 413 and "GOVQA_MAX_DOCUMENT_CHARS" in message(response), response.text
    long_sentence = b"a" * 60_000 + "。\n".encode()
    response = attack(live, [("sentence.txt", long_sentence)])[0]
    assert response.status_code == 413 and "GOVQA_MAX_SENTENCE_CHARS" in message(response)
    # each within the document limits
    many = [(f"part{n}.txt", f"第{n}部分。".encode() + "好。".encode() * 5_000) for n in range(3)]
    response = attack(live, many)[0]
    assert response.status_code == 413 and "GOVQA_MAX_INDEX_GROWTH_BYTES" in message(response), response.text


def test_after_the_attacks_an_honest_upload_is_added_and_listed_exactly(live: Live) -> None:
    text = "火卫一数据伦理章程规定，轨道数据中心的每一次模型更新都必须由两名独立审查员签字。".encode()
    response, _ = upload(live, [("phobos.txt", text)], timeout=300)
    assert response.status_code == 201, response.text
    added = response.json()["added"]
    assert len(added) == 1 and added[0]["title"].startswith("火卫一数据伦理章程")
    listed = httpx.get(f"{live.url}/v1/documents").json()["documents"]
    assert len(listed) == 6 and added[0]["doc_id"] in {d["doc_id"] for d in listed}
