"""Requests a proxy could frame differently are refused, links are built from GOVQA_PUBLIC_URL and never
from the Host header, and X-Forwarded-Proto is believed only from a configured proxy; against a real
server with the options `govqa serve` uses."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.requests import Request

from servers import Server, embedder_for, free_port
from service.public_url import public_base_url
from service.settings import Settings
from service.slow_clients import uvicorn_options

PUBLIC = "https://govqa.example.org/qa/"
CHAT = (
    b'{"model": "govqa", "messages": [{"role": "user", "content": '
    b'"\\u9996\\u5c14\\u5cf0\\u4f1a\\u7684\\u4e3b\\u9898\\u662f\\u4ec0\\u4e48"}]}'
)


@pytest.fixture(scope="module")
def url(settings: Settings, built_index) -> Iterator[str]:
    from service.app import create_app

    served = settings.model_copy(update={"port": free_port(), "reload_seconds": 0, "public_url": PUBLIC})
    app = create_app(served, embedder_for(served))
    running = Server(uvicorn.Config(app, **{**uvicorn_options(served), "log_level": "warning"}))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not (running.started and getattr(app.state, "asker", None)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started and app.state.asker is not None, "server did not start"
    yield f"http://127.0.0.1:{served.port}"
    running.should_exit = True
    thread.join(15)


def exchange(url: str, raw: bytes) -> tuple[bytes, bool]:
    """Send raw bytes; the response and whether the server closed the connection after it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(raw)
        received = b""
        closed = False
        sock.settimeout(3)
        try:
            while True:
                block = sock.recv(65536)
                if not block:
                    closed = True
                    break
                received += block
        except TimeoutError:
            pass
    return received, closed


def test_content_length_with_transfer_encoding_is_refused(url: str) -> None:
    body = b'{"question": "hi"}'
    raw = (b"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
    response, closed = exchange(url, raw)
    assert response.startswith(b"HTTP/1.1 400 ") and b"Content-Length and Transfer-Encoding" in response and closed


def test_bare_line_feeds_are_refused(url: str) -> None:
    response, closed = exchange(url, b"GET /healthz HTTP/1.1\nHost: 127.0.0.1\n\n")
    assert response.startswith(b"HTTP/1.1 400 ") and b"bare LF" in response and closed
    response, _ = exchange(url, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\nX-A: b\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400 ")


def test_well_framed_requests_still_work_in_pieces_and_kept_alive(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for _ in range(2):
            for piece in (b"GET /healthz HTTP/1.1\r\nHo", b"st: 127.0.0.1\r", b"\n\r\n"):
                sock.sendall(piece)
                time.sleep(0.05)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
    chunked = httpx.post(f"{url}/v1/ask",
                         content=iter([b'{"question": "\xe9\xa6\x96\xe5\xb0\x94\xe5\xb3\xb0\xe4\xbc\x9a"}']),
                         headers={"content-type": "application/json"}, timeout=30)
    assert chunked.status_code == 200


def test_links_come_from_the_public_url_whatever_the_host_header_says(url: str) -> None:
    headers = {"content-type": "application/json", "host": "evil.example:666", "x-forwarded-proto": "gopher",
               "x-forwarded-host": "evil.example"}
    response = httpx.post(f"{url}/v1/chat/completions", content=CHAT, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    links = [c["link"] for c in body["citations"]]
    assert links and all(link.startswith(PUBLIC + "v1/passages/") for link in links)
    assert "evil.example" not in response.text


def scope(**changes: object) -> dict:
    base = {"type": "http", "method": "GET", "path": "/", "headers": [(b"host", b"evil.example:666")], "scheme": "http",
            "server": ("127.0.0.1", 8000), "query_string": b""}
    return {**base, **changes}


class App:
    def __init__(self, settings: Settings) -> None:
        self.state = type("State", (), {"settings": settings})()


def test_without_a_public_url_links_use_the_listening_socket_not_the_host_header() -> None:
    request = Request({**scope(), "app": App(Settings())})
    assert public_base_url(request) == "http://127.0.0.1:8000/"
    request = Request({**scope(server=("::1", 8443), scheme="https"), "app": App(Settings())})
    assert public_base_url(request) == "https://[::1]:8443/"


def test_forwarded_headers_are_believed_only_from_configured_proxies() -> None:
    assert uvicorn_options(Settings())["proxy_headers"] is False
    trusting = uvicorn_options(Settings(trusted_proxies=["10.0.0.5"]))
    assert trusting["proxy_headers"] is True and trusting["forwarded_allow_ips"] == ["10.0.0.5"]


def test_a_public_url_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings(public_url="javascript:alert(1)")
