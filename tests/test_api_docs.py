"""/docs and /redoc render in chromium with the network cut: every request that leaves the server is refused
and recorded, and the page must still show the API's operations."""

from __future__ import annotations

from urllib.parse import urlparse

import httpx
from playwright.sync_api import Browser, Route, expect

from browser import needs_chromium


def offline_page(browser: Browser, base_url: str):  # noqa: ANN201 - playwright's Page
    """A page whose every request to another host is aborted, with the list of those it tried."""
    context = browser.new_context()
    elsewhere: list[str] = []
    own = urlparse(base_url).netloc

    def gate(route: Route) -> None:
        url = route.request.url
        if urlparse(url).netloc == own or url.startswith("data:"):
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("internetdisconnected")

    context.route("**/*", gate)
    return context.new_page(), elsewhere


@needs_chromium
def test_swagger_ui_renders_offline(browser: Browser, base_url: str) -> None:
    page, elsewhere = offline_page(browser, base_url)
    page.goto(f"{base_url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("govqa", timeout=30_000)
    expect(page.locator(".opblock-summary-path", has_text="/v1/ask").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/retrieval").first).to_be_visible()
    assert elsewhere == []
    page.context.close()


@needs_chromium
def test_redoc_renders_offline(browser: Browser, base_url: str) -> None:
    page, elsewhere = offline_page(browser, base_url)
    page.goto(f"{base_url}/redoc")
    expect(page.get_by_text("/v1/chat/completions").first).to_be_attached(timeout=30_000)
    assert elsewhere == []
    page.context.close()


def test_the_pages_name_only_local_assets(base_url: str) -> None:
    for path in ("/docs", "/redoc"):
        html = httpx.get(f"{base_url}{path}").text
        assert "cdn." not in html and "fonts.googleapis" not in html and "/docs-static/" in html
    assert httpx.get(f"{base_url}/docs-static/swagger-ui-bundle.js").status_code == 200
    redoc = httpx.get(f"{base_url}/docs-static/redoc.offline.js")
    assert redoc.status_code == 200 and "cdn.redoc.ly" not in redoc.text and "Redoc" in redoc.text
