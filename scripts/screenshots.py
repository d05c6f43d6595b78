"""Screenshots of the web page's answer view, at desktop and phone width, for the README.

Starts `govqa serve` on a free loopback port (the index that GOVQA_* points at, built by `make index`),
asks a question in Debian's chromium and writes docs/screenshots/answer-desktop.png and answer-phone.png.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(timeout: float = 180) -> Iterator[str]:
    """`govqa serve` on a free loopback port until the block ends; its log goes to stderr."""
    port = free_port()
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy())
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise SystemExit(f"govqa serve exited with status {process.returncode}")
            try:
                ready = httpx.get(f"{url}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
                if ready.json().get("error"):
                    raise SystemExit(f"the index did not load: {ready.json()['error']} (run `make index` first)")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"govqa serve was not ready within {timeout:.0f} s")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def show_answer(page: Page, url: str, question: str) -> None:
    page.goto(f"{url}/?q={quote(question)}")
    page.locator("#answer .cite, #answer .abstain").first.wait_for()
    page.evaluate("document.fonts.ready")


def desktop(page: Page, url: str, question: str, target: Path) -> None:
    """The answer, its passages and the cited passage open in the reader, with one citation's preview showing."""
    show_answer(page, url, question)
    page.locator(".show-in-document").first.click()
    page.locator("#reader-hit").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    cite = page.locator("#answer .cite").last
    if cite.count():
        cite.hover()
        page.locator("#cite-tip").wait_for()
    page.screenshot(path=str(target))


def phone(page: Page, url: str, question: str, target: Path) -> None:
    """The answer and the first passages at phone width."""
    show_answer(page, url, question)
    page.screenshot(path=str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--question", default="首尔峰会的主题是什么？", help="the question to ask")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots", help="directory for the PNGs")
    parser.add_argument("--url", help="use a govqa already serving here instead of starting one")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no {CHROMIUM}: run `make browser` first")
    args.out.mkdir(parents=True, exist_ok=True)

    with (served() if args.url is None else _given(args.url)) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            wide = browser.new_context(viewport={"width": 1440, "height": 900}, color_scheme="light")
            desktop(wide.new_page(), url, args.question, args.out / "answer-desktop.png")
            narrow = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                         has_touch=True, color_scheme="light")
            phone(narrow.new_page(), url, args.question, args.out / "answer-phone.png")
        finally:
            browser.close()
    for name in ("answer-desktop.png", "answer-phone.png"):
        print(args.out / name)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url.rstrip("/")


if __name__ == "__main__":
    main()
