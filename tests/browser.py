"""Debian's chromium, headless through playwright, for the browser tests that are not the web page's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="no /usr/bin/chromium: `make browser` installs Debian's chromium (apt-get, as root)"
)


def launch() -> Iterator[Browser]:
    """A headless chromium for one test module."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def ask(page: Page, question: str) -> None:
    """Type a question into the web page and wait until its answer is shown."""
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#results")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#asked q")).to_have_text(question)
