"""The ask widget on a page of another origin under a strict Content-Security-Policy, in chromium: one script
element adds an ask box that shows the cited answer and links into govqa's reader; nothing is fetched from
anywhere but govqa; an origin not in GOVQA_CORS_ORIGINS cannot read the answers."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browser import needs_chromium
from servers import free_port, serve
from service.settings import Settings

pytestmark = needs_chromium
QUESTION = "首尔峰会的主题是什么？"
THEME = "安全、创新、包容"
HOST_PORT = free_port()
HOST = f"http://127.0.0.1:{HOST_PORT}"


def host_page(govqa: str) -> bytes:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>A host page</title></head><body>"
        "<h1>Someone else's page</h1><p>Ask govqa below.</p>"
        f"<script src='{govqa}/widget.js' data-govqa='Ask about AI governance'></script>"
        "</body></html>"
    ).encode()


def strict_csp(govqa: str) -> str:
    """No inline script or style, nothing from anywhere but govqa for scripts and requests."""
    return (
        f"default-src 'none'; script-src {govqa}; connect-src {govqa}; style-src 'self'; img-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


class HostServer:
    """The host page, served from another origin (another loopback port) with the strict CSP."""

    def __init__(self, port: int, govqa: str) -> None:
        body, csp = host_page(govqa), strict_csp(govqa)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-security-policy", csp)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HostServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def govqa(settings: Settings, built_index) -> Iterator[str]:
    yield from serve(settings.model_copy(update={"cors_origins": [HOST]}))


def open_host(browser: Browser, url: str) -> tuple[Page, list[str], list[str]]:
    """The host page, with the console's errors (CSP violations among them) and every request it made."""
    page = browser.new_context(viewport={"width": 900, "height": 700}).new_page()
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    return page, problems, requests


def test_the_widget_answers_on_a_foreign_page_under_a_strict_csp(
    browser: Browser, govqa: str, corpus_documents,
) -> None:
    texts = {d.doc_id: d.text for d in corpus_documents}
    with HostServer(HOST_PORT, govqa):
        page, problems, requests = open_host(browser, f"{HOST}/")
        widget = page.locator("div.govqa-widget")
        box = widget.get_by_label("Ask about AI governance")
        box.fill(QUESTION)
        box.press("Enter")
        answer = widget.locator("blockquote").first
        expect(answer).to_contain_text(THEME, timeout=60_000)
        marker = widget.locator("blockquote sup a").first
        link = marker.get_attribute("href")
        query = parse_qs(urlparse(link).query)
        doc_id, start, end = query["read"][0], int(query["start"][0]), int(query["end"][0])
        assert link.startswith(f"{govqa}/?") and THEME in texts[doc_id][start:end]
        assert widget.locator(".sources a").count() >= 1
        if os.environ.get("GOVQA_WIDGET_SCREENSHOT"):
            page.screenshot(path=os.environ["GOVQA_WIDGET_SCREENSHOT"], full_page=True)
        assert problems == [], problems
        assert {urlparse(u).netloc for u in requests} <= {urlparse(HOST).netloc, urlparse(govqa).netloc}
        reader = page.context.new_page()
        reader.goto(link)  # the link opens govqa's reader on the quoted sentence
        expect(reader.locator("#reader-hit")).to_have_text(texts[doc_id][start:end])
        page.context.close()


def test_cors_is_limited_to_the_configured_origins(govqa: str) -> None:
    body = {"question": QUESTION, "top_k": 1}
    allowed = httpx.post(f"{govqa}/v1/ask", json=body, headers={"Origin": HOST}, timeout=60)
    assert allowed.headers.get("access-control-allow-origin") == HOST
    other = httpx.post(f"{govqa}/v1/ask", json=body, headers={"Origin": "http://127.0.0.1:1"}, timeout=60)
    assert "access-control-allow-origin" not in other.headers
    script = httpx.get(f"{govqa}/widget.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "innerHTML" not in script.text and "eval(" not in script.text


def test_an_origin_not_allowed_gets_a_readable_error(browser: Browser, settings: Settings, built_index) -> None:
    for url in serve(settings):  # no GOVQA_CORS_ORIGINS
        with HostServer(free_port(), url) as host:
            page, _, _ = open_host(browser, f"http://127.0.0.1:{host.server.server_address[1]}/")
            widget = page.locator("div.govqa-widget")
            box = widget.get_by_label("Ask about AI governance")
            box.fill(QUESTION)
            box.press("Enter")
            expect(widget.get_by_role("alert")).to_have_text("Could not reach govqa from this page.", timeout=60_000)
            page.context.close()
