"""What the web page shows a reader, in chromium against a live server: the search-mode select shows its whole
label, no raw score or timing, a link to nowhere read as its label (the cited offsets unchanged), and a
rejected question never becomes a history entry."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlparse

import pytest
from playwright.sync_api import Browser, Page, expect

from browser import ask, needs_chromium

pytestmark = needs_chromium
INITIATIVE = "中方在哪个论坛上宣布将提出《全球人工智能治理倡议》？"
REPORT = "003_522f828de9b5a839"


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    yield page
    context.close()


def test_the_search_mode_select_shows_its_whole_label(page: Page) -> None:
    page.goto("/")
    page.locator("#filters summary").click()
    select = page.locator("#mode")
    needed = select.evaluate("""s => {
        const probe = document.createElement('span');
        probe.style.font = getComputedStyle(s).font;
        probe.style.whiteSpace = 'pre';
        probe.textContent = Array.from(s.options, o => o.text).sort((a, b) => b.length - a.length)[0];
        document.body.append(probe);
        const width = probe.getBoundingClientRect().width;
        probe.remove();
        return width;
    }""")
    assert select.bounding_box()["width"] >= needed + 20  # the label and the arrow


def test_no_raw_score_or_timing(page: Page) -> None:
    page.goto("/")
    ask(page, "首尔峰会的主题是什么？")
    expect(page.locator("article.passage").first).to_be_visible()
    meta = " ".join(page.locator(".passage-meta").all_inner_texts())
    assert "Score" not in meta
    asked = page.locator("#asked").inner_text()
    assert " ms" not in asked and "searched by keywords and meaning" in asked


def test_a_link_to_nowhere_reads_as_its_label(page: Page, base_url: str) -> None:
    import httpx

    page.goto(f"/?q={quote(INITIATIVE)}&k=20")
    expect(page.locator("#asked q")).to_have_text(INITIATIVE)
    article = page.locator(f'article.passage[data-doc-id="{REPORT}"]', has_text="全球人工智能治理倡议》，").first
    expect(article).to_be_visible()
    shown = article.locator(".passage-text").text_content()
    assert "](#)" not in shown and "《全球人工智能治理倡议》" in shown
    doc_id, start, end = (
        article.get_attribute("data-doc-id"),
        int(article.get_attribute("data-start")),
        int(article.get_attribute("data-end")),
    )
    exact = httpx.get(f"{base_url}/v1/documents/{doc_id}/text", params={"start": start, "end": end}).json()["text"]
    assert "[《全球人工智能治理倡议》](#)" in exact  # the citation is the exact text
    assert shown == exact.replace(
        "[《全球人工智能治理倡议》](#)", "《全球人工智能治理倡议》"
    ).replace("[《布莱切利人工智能安全宣言》](#)", "《布莱切利人工智能安全宣言》")


def test_a_rejected_question_is_not_a_history_entry(page: Page) -> None:
    page.goto("/")
    ask(page, "首尔峰会的主题是什么？")
    entries = page.evaluate("history.length")
    box = page.get_by_label("Your question")
    box.fill("问" * 1001)
    with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as answered:
        box.press("Enter")
    assert answered.value.status == 422
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.evaluate("history.length") == entries
    assert parse_qs(urlparse(page.url).query)["q"] == ["首尔峰会的主题是什么？"]
