"""Slow and greedy clients against a real server (uvicorn with the options `govqa serve` uses,
short deadlines): slow request heads and bodies are cut with 408, silent and idle keep-alive
connections are closed, others are answered meanwhile, a request beyond the connection limit
gets 503 at once, and clients that leave mid-request cost no more than their own work."""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner

from servers import Server, embedder_for, free_port
from service.settings import Settings
from service.slow_clients import GuardedH11Protocol, uvicorn_options

HEAD_TIMEOUT = 2.5
BODY_TIMEOUT = 2.5
KEEP_ALIVE = 1.0
MAX_CONNECTIONS = 150
SLACK = 1.5  # the deadline fires on the server's event loop; the test's clients poll every 0.1 s
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.fixture(scope="module")
def server(settings: Settings, built_index) -> Iterator[tuple[str, object]]:
    """A real server in a thread with short deadlines; yields its URL and the app (for its in-flight counter)."""
    from service.app import create_app

    guarded = settings.model_copy(update={
        "port": free_port(), "header_timeout_seconds": HEAD_TIMEOUT, "body_timeout_seconds": BODY_TIMEOUT,
        "keep_alive_seconds": KEEP_ALIVE, "max_connections": MAX_CONNECTIONS, "reload_seconds": 0,
    })
    app = create_app(guarded, embedder_for(guarded))
    running = Server(uvicorn.Config(app, **{**uvicorn_options(guarded), "log_level": "warning"}))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 180  # loading the model and index on a loaded 2-core machine
    while not (running.started and getattr(app.state, "asker", None)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started and app.state.asker is not None, "server did not start"
    yield f"http://127.0.0.1:{guarded.port}", app
    running.should_exit = True
    thread.join(15)


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


class Slow:
    """A connection that sends `script` one byte at a time, and what became of it."""

    def __init__(self, url: str, kind: str, prefix: bytes, script: bytes) -> None:
        self.kind = kind
        self.sock = connect(url)
        self.opened = time.monotonic()
        if prefix:
            self.sock.sendall(prefix)
        self.sock.setblocking(False)
        self.script = script
        self.received = b""
        self.closed_after: float | None = None

    def trickle(self) -> None:
        if self.closed_after is None and self.script:
            try:
                self.sock.send(self.script[:1])
                self.script = self.script[1:]
            except OSError:
                self.close()

    def readable(self) -> None:
        try:
            data = self.sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self.received += data
        if not data:
            self.close()

    def close(self) -> None:
        if self.closed_after is None:
            self.closed_after = time.monotonic() - self.opened


def drive(connections: list[Slow], until: float) -> None:
    """Send each connection's next byte every 0.25 s and watch for the server closing them, until all are closed
    or `until`."""
    selector = selectors.DefaultSelector()
    for c in connections:
        selector.register(c.sock, selectors.EVENT_READ, c)
    next_byte = 0.0
    try:
        while time.monotonic() < until and any(c.closed_after is None for c in connections):
            if time.monotonic() >= next_byte:
                for c in connections:
                    c.trickle()
                next_byte = time.monotonic() + 0.25
            for key, _ in selector.select(0.1):
                key.data.readable()
                if key.data.closed_after is not None:
                    selector.unregister(key.fileobj)
    finally:
        selector.close()
        for c in connections:
            c.sock.close()


def ask_body(question: str) -> bytes:
    return json.dumps({"question": question}, ensure_ascii=False).encode()


def post_head(body_length: int) -> bytes:
    return (
        b"POST /v1/ask HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
        % body_length
    )


def test_serve_runs_uvicorn_with_the_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn as uvicorn_module

    from service.cli import app as cli

    seen: dict = {}
    monkeypatch.setattr(uvicorn_module, "run", lambda app, **options: seen.update(options))
    for name, value in {"HEADER_TIMEOUT_SECONDS": "3", "BODY_TIMEOUT_SECONDS": "7", "BODY_MIN_BYTES_PER_SECOND": "100",
                        "MAX_CONNECTIONS": "77", "KEEP_ALIVE_SECONDS": "4", "PORT": "8123"}.items():
        monkeypatch.setenv(f"GOVQA_{name}", value)
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    protocol = seen["http"]
    assert issubclass(protocol, GuardedH11Protocol)
    assert (protocol.header_timeout, protocol.body_timeout, protocol.body_min_rate) == (3, 7, 100)
    assert (seen["limit_concurrency"], seen["timeout_keep_alive"], seen["port"]) == (77, 4, 8123)


def test_slow_heads_and_bodies_are_cut_and_others_are_answered_meanwhile(server: tuple[str, object]) -> None:
    """100 slow connections (50 heads, 50 bodies, a byte every 0.25 s) and a silent one: each is closed
    within its deadline (+ slack), the slow ones with 408; meanwhile /healthz and /v1/ask answer at once."""
    url, app = server
    body = ask_body("首尔峰会的主题是什么？" * 20)
    slow = [Slow(url, "head", b"", b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Pad: " + b"a" * 100) for _ in range(50)]
    slow += [Slow(url, "body", post_head(len(body)), body) for _ in range(50)]
    slow.append(Slow(url, "silent", b"", b""))
    driver = threading.Thread(target=drive, args=(slow, time.monotonic() + HEAD_TIMEOUT + BODY_TIMEOUT + 10))
    driver.start()
    latencies, statuses = [], []
    with httpx.Client(base_url=url, timeout=10) as client:
        for n in range(8):
            for method, path, payload in (
                ("GET", "/healthz", None), ("POST", "/v1/ask", {"question": f"首尔峰会第{n}天讨论了什么？"}),
            ):
                started = time.monotonic()
                statuses.append(client.request(method, path, json=payload).status_code)
                latencies.append(time.monotonic() - started)
            time.sleep(0.2)
    driver.join()
    assert all(c.closed_after is not None for c in slow), "a slow connection was never closed"
    assert statuses == [200] * len(statuses)
    assert max(latencies) < 2.0, f"normal requests waited up to {max(latencies):.2f} s"
    for c in slow:
        timeout = BODY_TIMEOUT if c.kind == "body" else HEAD_TIMEOUT
        assert timeout - 0.5 < c.closed_after < timeout + SLACK, (c.kind, c.closed_after)
        assert (
            c.received.startswith(b"HTTP/1.1 408 ") if c.kind != "silent" else c.received == b""
        ), (c.kind, c.received[:40])
    assert app.state.in_flight == 0


def test_idle_keep_alive_connections_are_closed(server: tuple[str, object]) -> None:
    sock = connect(server[0])
    with sock:
        sock.sendall(HEALTHZ)
        answered = time.monotonic()
        received = b""
        while b"\r\n\r\n" not in received or not received.endswith(b"}"):
            received += sock.recv(4096)
        assert received.startswith(b"HTTP/1.1 200 ")
        sock.settimeout(KEEP_ALIVE + SLACK + 1)
        assert sock.recv(4096) == b""
    assert KEEP_ALIVE - 0.3 < time.monotonic() - answered < KEEP_ALIVE + SLACK


def test_a_request_beyond_the_connection_limit_is_answered_503_at_once(server: tuple[str, object]) -> None:
    url, _ = server
    held = [connect(url) for _ in range(MAX_CONNECTIONS)]
    time.sleep(0.3)  # let the server accept them all
    try:
        started = time.monotonic()
        response = httpx.get(f"{url}/healthz", timeout=5)
        assert response.status_code == 503
        assert time.monotonic() - started < 1.0
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while (status := httpx.get(f"{url}/healthz", timeout=5).status_code) != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status == 200


def test_clients_that_leave_mid_request_cost_at_most_their_own_work(server: tuple[str, object]) -> None:
    """50 clients send a new question and disconnect: each is answered at most once (into the void), the
    in-flight count returns to 0, and others are answered promptly meanwhile and after."""
    url, app = server
    cache = app.state.asker.cache
    computed_before = cache.misses

    def send_and_leave(n: int) -> None:
        body = ask_body(f"人工智能安全研究所第{n}次会议讨论了什么？")
        with connect(url) as sock:
            sock.sendall(post_head(len(body)) + body)

    leavers = [threading.Thread(target=send_and_leave, args=(n,)) for n in range(50)]
    for thread in leavers:
        thread.start()
    latencies = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        started = time.monotonic()
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        latencies.append(time.monotonic() - started)
        if all(not t.is_alive() for t in leavers) and app.state.in_flight == 0:
            break
        time.sleep(0.05)
    for thread in leavers:
        thread.join()
    assert app.state.in_flight == 0
    assert cache.misses - computed_before <= 50
    assert max(latencies) < 2.0
    started = time.monotonic()
    assert httpx.post(f"{url}/v1/ask", json={"question": "首尔峰会的主题是什么？"}, timeout=10).status_code == 200
    assert time.monotonic() - started < 2.0
