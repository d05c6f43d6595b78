"""The web page at `/`, driven in Debian's chromium (headless, through playwright) against a real server and index."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browser import ask, needs_chromium
from helpers import SEOUL
from servers import serve
from service.display import readable
from service.settings import PROJECT_ROOT, Settings

pytestmark = needs_chromium

DIALOGUE = "002_a1dcfd1d81e98d6f"
REPORT = "003_522f828de9b5a839"
THEME = "首尔峰会的主题是什么？"
THEME_IN_CORPUS = "首尔峰会以“安全、创新、包容”为主题"
VENUE = "中美人工智能政府间首次对话在哪里举行？"
VENUE_IN_CORPUS = "瑞士日内瓦"
UNANSWERABLE = "欧盟人工智能办公室的首任主任是谁？"  # the corpus names the EU AI Office, never who heads it
METADATA = json.loads((PROJECT_ROOT / "corpus" / "metadata.json").read_text(encoding="utf-8"))
TITLES = {d["doc_id"]: d["title"] for d in METADATA}

expect.set_options(timeout=30_000)


def open_page(browser: Browser, base_url: str, **context_options) -> tuple[Page, list[str]]:
    context = browser.new_context(base_url=base_url, **{"viewport": {"width": 1280, "height": 800}, **context_options})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    # an API error is logged by chromium as a failed resource load; anything else (a CSP violation, a script error)
    # is a fault
    page.on("console", lambda m: (
        problems.append(m.text) if m.type == "error" and not m.text.startswith("Failed to load resource") else None
    ))
    return page, problems


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    page, problems = open_page(browser, base_url)
    yield page
    page.context.close()
    assert not problems, problems


def url_question(page: Page) -> list[str]:
    return parse_qs(urlparse(page.url).query).get("q", [])


def document_text(base_url: str, doc_id: str) -> str:
    return httpx.get(f"{base_url}/v1/documents/{doc_id}/text").json()["text"]


def test_the_page_is_served_beside_the_api(base_url: str) -> None:
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/app.js", "/static/style.css"):
        assert httpx.get(f"{base_url}{asset}").status_code == 200
    assert httpx.get(f"{base_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base_url}/docs").status_code == 200
    assert httpx.get(f"{base_url}/v1/documents").json()["documents"]


def test_answer_cites_a_passage_and_the_marker_leads_to_it(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 640})
    page.goto("/")
    ask(page, THEME)
    assert url_question(page) == [THEME]
    expect(page.locator("#answer")).to_contain_text(THEME_IN_CORPUS)
    cite = page.locator("#answer a.cite").first
    expect(cite).to_have_text(re.compile(r"^\[\d+\]$"))
    n = int(cite.inner_text().strip("[]"))
    sentence = page.locator(".answer-sentence").first.text_content()
    passage = page.locator(f"#passage-{n}")
    assert passage.get_attribute("data-doc-id") == SEOUL
    expect(passage).not_to_be_in_viewport()

    cite.focus()
    tip = page.locator("#cite-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(sentence)
    expect(tip).to_contain_text(TITLES[SEOUL])

    cite.click()
    expect(passage).to_be_focused()
    expect(passage).to_be_in_viewport()
    expect(passage.locator("mark.flash")).to_have_text(sentence)


def test_show_in_document_highlights_the_passage_in_the_whole_text(browser: Browser, base_url: str) -> None:
    page, problems = open_page(browser, base_url, permissions=["clipboard-read", "clipboard-write"])
    page.goto("/")
    ask(page, THEME)
    passage = page.locator("#passage-1")
    doc_id, start, end = (
        passage.get_attribute("data-doc-id"),
        int(passage.get_attribute("data-start")),
        int(passage.get_attribute("data-end")),
    )
    whole = document_text(base_url, doc_id)
    assert passage.locator(".passage-text").text_content() == whole[start:end]

    opener = passage.get_by_role("button", name="Show passage 1 in its document")
    opener.click()
    reader = page.get_by_role("complementary")
    expect(reader).to_be_visible()
    expect(reader.get_by_role("heading", level=2)).to_have_text(TITLES[doc_id])
    hit = page.locator("#reader-hit")
    expect(hit).to_be_in_viewport()
    assert hit.text_content() == whole[start:end]
    assert THEME_IN_CORPUS in hit.text_content()
    assert page.locator("#reader-text").text_content() == whole
    assert hit.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")

    reader.get_by_role("button", name="Copy citation").click()
    expect(page.locator("#reader-status")).to_have_text("Citation copied.")
    citation = page.evaluate("navigator.clipboard.readText()")
    assert citation == page.locator("#citation").text_content()
    assert TITLES[doc_id] in citation and f"{start}–{end}" in citation
    assert citation.count(TITLES[doc_id]) == 1  # the section, which repeats the title here, is left out
    cited_url = re.search(r"https?://\S+", citation).group(0)
    assert parse_qs(urlparse(cited_url).query) == {"read": [doc_id], "start": [str(start)], "end": [str(end)]}
    linked = page.context.new_page()
    linked.goto(cited_url)  # the link opens govqa's reader on the cited range
    expect(linked.locator("#reader-hit")).to_have_text(whole[start:end])
    expect(linked.locator("#reader-status")).to_contain_text(f"characters {start}–{end}")
    linked.close()

    page.keyboard.press("Escape")
    expect(reader).to_be_hidden()
    expect(opener).to_be_focused()
    page.context.close()
    assert not problems, problems


def test_an_unanswerable_question_says_so_and_lists_the_closest_passages(page: Page, retriever) -> None:
    page.goto("/")
    ask(page, UNANSWERABLE)
    expect(page.locator(".abstain")).to_have_text("The documents do not answer this.")
    expect(page.locator("#answer a.cite")).to_have_count(0)
    expect(page.locator("#passages-heading")).to_have_text("Closest passages")
    expect(page.locator("article.passage")).to_have_count(5)
    for article in page.locator("article.passage").all():
        doc_id, start, end = (
            article.get_attribute("data-doc-id"),
            int(article.get_attribute("data-start")),
            int(article.get_attribute("data-end")),
        )
        # the exact text, a Markdown link to nowhere ("[…](#)") read as its label
        assert article.locator(".passage-text").text_content() == readable(retriever.backend.texts[doc_id][start:end])


@pytest.mark.parametrize(
    ("length", "status", "headline"),
    [(1001, 422, "This question is too long"), (25_000, 413, "This question is too large to send")],
)
def test_an_over_long_question_gets_a_readable_error(page: Page, length: int, status: int, headline: str) -> None:
    page.goto("/")
    box = page.get_by_label("Your question")
    box.fill("问" * length)
    expect(page.locator("#question-count")).to_contain_text("too long")
    with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as answered:
        box.press("Enter")
    assert answered.value.status == status
    error = page.get_by_role("alert")
    expect(error).to_be_visible()
    expect(error).to_contain_text(headline)
    expect(error).to_contain_text(f"this one has {length}")
    shown = error.inner_text()
    assert "{" not in shown and '"error"' not in shown and "detail" not in shown
    expect(page.locator("#answer-section")).to_be_hidden()


def test_an_api_that_cannot_answer_yet_is_explained(browser: Browser, tmp_path: Path) -> None:
    for url in serve(Settings(index_dir=tmp_path / "empty")):
        page, _ = open_page(browser, url)
        page.goto("/")
        with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as answered:
            page.get_by_label("Your question").fill(THEME)
            page.get_by_label("Your question").press("Enter")
        assert answered.value.status == 503
        error = page.get_by_role("alert")
        expect(error).to_contain_text("govqa cannot answer right now")
        expect(error).to_contain_text("govqa build")
        assert "{" not in error.inner_text()
        expect(page.locator("#doc-options")).to_contain_text("govqa cannot answer right now")
        page.context.close()


def test_a_q_url_reproduces_the_answer(page: Page, base_url: str) -> None:
    api = httpx.post(f"{base_url}/v1/ask", json={"question": THEME}).json()
    expected = [s["text"].strip() for s in api["answer"]["sentences"]]
    page.goto(f"/?q={quote(THEME)}")
    expect(page.locator(".answer-sentence")).to_have_text(expected)
    expect(page.get_by_label("Your question")).to_have_value(THEME)
    page.reload()
    expect(page.locator(".answer-sentence")).to_have_text(expected)
    expect(page.locator("#answer")).to_contain_text(THEME_IN_CORPUS)


def test_a_double_submit_sends_one_request(page: Page) -> None:
    sent: list[dict] = []
    page.on("request", lambda r: sent.append(r.post_data_json) if r.url.endswith("/v1/ask") else None)
    page.goto("/")
    box = page.get_by_label("Your question")
    box.fill("首尔峰会产出了哪些文件？")
    box.press("Enter")
    box.press("Enter")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("#answer a.cite").first).to_be_visible()

    box.fill(THEME)
    page.evaluate(
        "() => { const form = document.getElementById('ask-form');"
        " form.requestSubmit(); form.requestSubmit(); form.requestSubmit(); }"
    )
    expect(page.locator("#asked q")).to_have_text(THEME)
    expect(page.locator("#results")).to_have_attribute("aria-busy", "false")
    page.wait_for_timeout(500)
    assert [body["question"] for body in sent] == ["首尔峰会产出了哪些文件？", THEME]


def test_back_and_forward_restore_each_answer(page: Page) -> None:
    page.goto("/")
    ask(page, THEME)
    expect(page.locator("#answer")).to_contain_text(THEME_IN_CORPUS)
    ask(page, VENUE)
    expect(page.locator("#answer")).to_contain_text(VENUE_IN_CORPUS)
    cited = int(page.locator("#answer a.cite").first.inner_text().strip("[]"))
    assert page.locator(f"#passage-{cited}").get_attribute("data-doc-id") == DIALOGUE

    page.go_back()
    assert url_question(page) == [THEME]
    expect(page.get_by_label("Your question")).to_have_value(THEME)
    expect(page.locator("#answer")).to_contain_text(THEME_IN_CORPUS)
    expect(page.locator("#answer")).not_to_contain_text(VENUE_IN_CORPUS)

    page.go_forward()
    assert url_question(page) == [VENUE]
    expect(page.get_by_label("Your question")).to_have_value(VENUE)
    expect(page.locator("#answer")).to_contain_text(VENUE_IN_CORPUS)


def test_the_documents_view_lists_the_corpus_and_filters_questions(page: Page) -> None:
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Documents").click()
    assert parse_qs(urlparse(page.url).query) == {"view": ["documents"]}
    cards = page.locator("article.document")
    expect(cards.locator("h2")).to_have_text([d["title"] for d in METADATA])
    for doc, card in zip(METADATA, cards.all()):
        if doc["date"]:
            expect(card).to_contain_text(doc["date"])
        for author in doc["authors"]:
            expect(card).to_contain_text(author)

    page.get_by_role("button", name=f"Ask about {TITLES[REPORT]} only").click()
    expect(page.locator("#doc-options").get_by_label(TITLES[REPORT])).to_be_checked()
    page.get_by_label("Search mode").select_option("keyword")
    with page.expect_request(lambda r: r.url.endswith("/v1/ask")) as requested:
        ask(page, "人工智能治理")
    assert requested.value.post_data_json["doc_ids"] == [REPORT] and requested.value.post_data_json["mode"] == "keyword"
    assert parse_qs(urlparse(page.url).query) == {"q": ["人工智能治理"], "mode": ["keyword"], "doc": [REPORT]}
    doc_ids = {a.get_attribute("data-doc-id") for a in page.locator("article.passage").all()}
    assert doc_ids == {REPORT}

    page.reload()
    expect(page.get_by_label("Search mode")).to_have_value("keyword")
    expect(page.locator("#doc-options").get_by_label(TITLES[REPORT])).to_be_checked()
    expect(page.locator("article.passage").first).to_have_attribute("data-doc-id", REPORT)


def test_keyboard_alone_reaches_a_citation_and_the_document(page: Page) -> None:
    page.goto(f"/?q={quote(THEME)}")
    expect(page.locator("#answer a.cite").first).to_be_visible()
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    else:
        pytest.fail("Tab never reached a citation marker")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    expect(page.locator("#cite-tip")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("#passage-1")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show passage 1 in its document")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#reader-hit")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("complementary")).to_be_hidden()


def test_landmarks_labels_and_languages(page: Page) -> None:
    page.goto(f"/?q={quote(THEME)}")
    expect(page.locator("#answer a.cite").first).to_be_visible()
    for role in ("banner", "main", "navigation", "search"):
        expect(page.get_by_role(role)).to_have_count(1)
    expect(page.get_by_label("Your question")).to_be_editable()
    expect(page.locator("#answer")).to_have_attribute("aria-live", "polite")
    expect(page.get_by_role("status").first).to_have_attribute("aria-live", "polite")
    expect(page.locator(".answer-text")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator(".passage-text").first).to_have_attribute("lang", "zh-Hans")
    font = page.locator(".passage-text").first.evaluate("e => getComputedStyle(e).fontFamily")
    assert "Noto Sans CJK SC" in font and "Microsoft YaHei" in font and "PingFang SC" in font


def test_questions_and_documents_are_shown_as_text_never_as_html(page: Page) -> None:
    question = '<img src=x onerror="window.owned = 1">首尔峰会的主题是什么'
    page.goto("/")
    ask(page, question)
    expect(page.locator("#asked q")).to_have_text(question)
    assert page.locator("main img").count() == 0
    assert page.evaluate("window.owned") is None


@pytest.mark.parametrize("path", [f"/?q={quote(THEME)}", "/?view=documents"])
def test_phone_width_has_no_sideways_scrolling(browser: Browser, base_url: str, path: str) -> None:
    page, problems = open_page(
        browser, base_url, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page.goto(path)
    expect(page.locator("#answer a.cite, article.document").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator(".show-in-document, .document-actions button").first.click()
    reader = page.get_by_role("complementary")
    expect(reader).to_be_in_viewport()
    box = reader.bounding_box()
    assert box["width"] == 360
    reader.get_by_role("button", name="Close the document").click()
    expect(reader).to_be_hidden()
    page.context.close()
    assert not problems, problems
