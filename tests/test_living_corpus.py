"""Adding and removing documents while a real server answers: formats, keys, limits, swaps, locking."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from helpers import SEOUL
from index.locking import rebuild_lock
from servers import serve, wait_ready
from service.settings import PROJECT_ROOT, Settings

KEY = "test-admin-key"
AUTH = {"authorization": f"Bearer {KEY}"}
NAV_WORDS = ("站点导航菜单", "版权所有不得转载")


@pytest.fixture(scope="module")
def living(tmp_path_factory: pytest.TempPathFactory, settings: Settings, built_index: Path) -> Settings:
    """A copy of the corpus and of the built index that this module may change."""
    root = tmp_path_factory.mktemp("living")
    shutil.copytree(settings.corpus, root / "corpus")
    shutil.copytree(built_index, root / "index")
    return settings.model_copy(update={
        "corpus": root / "corpus", "index_dir": root / "index", "admin_key": KEY, "reload_seconds": 0.3,
        "max_upload_bytes": 256 * 1024,
    })


@pytest.fixture(scope="module")
def base_url(living: Settings) -> Iterator[str]:
    yield from serve(living)


def version(base_url: str) -> str:
    return httpx.get(f"{base_url}/readyz").json()["index_version"]


def ask(base_url: str, question: str, **extra) -> dict:  # noqa: ANN003
    response = httpx.post(f"{base_url}/v1/ask", json={"question": question, "top_k": 3, **extra}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def assert_cited_exactly(base_url: str, body: dict) -> None:
    """Every passage and answer sentence is the served document's exact text at its offsets."""
    spans = body["passages"] + (body["answer"]["sentences"] if body["answer"] else [])
    for span in spans:
        got = httpx.get(
            f"{base_url}/v1/documents/{span['doc_id']}/text", params={"start": span["start"], "end": span["end"]}
        )
        assert got.status_code == 200 and got.json()["text"] == span["text"]


def gbk_text() -> bytes:
    return (
        "海王星数据主权公约\n\n海王星数据主权公约于2040年在特里同城签署，"
        "规定每一个星际数据中心必须设立独立的算法监察员。\n"
    ).encode("gbk")


def html_page() -> bytes:
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>木卫二算法审计署年度报告</title></head><body>
<nav><a href="/">{NAV_WORDS[0]}</a> <a href="/a">关于我们</a></nav>
<main><article><h1>木卫二算法审计署年度报告</h1>
<p>木卫二算法审计署在第一个工作年度共审查了四十二个冰下洋流预测模型，并要求其中九个模型公开训练数据来源。</p>
<p>审计署认为，冰层采矿机器人必须在断网时自动进入安全停机状态，这一要求将写入下一版审计规程。</p>
</article></main>
<footer>{NAV_WORDS[1]} · 联系我们</footer></body></html>""".encode()


def cjk_font() -> str | None:
    found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout.split()
    return next((f.rstrip(":") for f in found if f.rstrip(":").endswith((".ttf", ".otf", ".ttc"))), None)


PDF_PAGES_ZH = (
    "土卫六伦理委员会第一章总则。委员会由十一名成员组成。",
    "土卫六伦理委员会规定，甲烷湖勘探模型在部署前必须通过三轮红队测试。",
)
PDF_PAGES_EN = (
    "Titan Ethics Board, chapter one. The board has eleven members.",
    "The Titan Ethics Board requires three rounds of red-team testing before a methane-lake survey model is deployed.",
)


def two_page_pdf() -> tuple[bytes, bool]:
    """A two-page PDF with a text layer; Chinese when a CJK font is installed."""
    from fpdf import FPDF

    pdf, font = FPDF(), cjk_font()
    pdf.set_title("土卫六伦理委员会章程")
    if font:
        pdf.add_font("cjk", fname=font)
        pdf.set_font("cjk", size=12)
    else:
        pdf.set_font("helvetica", size=12)
    for page in PDF_PAGES_ZH if font else PDF_PAGES_EN:
        pdf.add_page()
        pdf.multi_cell(0, 10, page)
    return bytes(pdf.output()), bool(font)


def docx_file() -> bytes:
    from docx import Document

    document = Document()
    document.core_properties.title = "冥王星模型登记制度"
    document.core_properties.author = "卡戎研究所"
    document.add_heading("冥王星模型登记制度", level=1)
    document.add_paragraph("冥王星模型登记制度要求所有参数超过一万亿的模型在卡戎登记处备案，并每季度提交一次安全评估。")
    document.add_heading("罚则", level=2)
    document.add_paragraph("未按期备案的开发者将被暂停使用深空算力网络六个月。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_changes_need_the_admin_key(base_url: str) -> None:
    files = {"file": ("a.txt", "内容".encode())}
    assert httpx.post(f"{base_url}/v1/documents", files=files).status_code == 401
    assert httpx.post(
        f"{base_url}/v1/documents", files=files, headers={"authorization": "Bearer wrong"}
    ).status_code == 401
    denied = httpx.delete(f"{base_url}/v1/documents/{SEOUL}", headers={"authorization": "Basic " + KEY})
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    assert httpx.get(f"{base_url}/v1/documents/{SEOUL}").status_code == 200


def test_changes_are_disabled_without_a_key(settings: Settings, built_index: Path) -> None:
    for url in serve(settings.model_copy(update={"admin_key": None})):
        wait_ready(url)
        refused = httpx.post(f"{url}/v1/documents", files={"file": ("a.txt", "内容".encode())}, headers=AUTH)
        assert refused.status_code == 403 and "GOVQA_ADMIN_KEY" in refused.json()["error"]["message"]
        assert httpx.delete(f"{url}/v1/documents/{SEOUL}", headers=AUTH).status_code == 403


def test_oversized_upload_is_refused_and_nothing_changes(base_url: str, living: Settings) -> None:
    before, listing = version(base_url), sorted(os.listdir(living.corpus))
    big = ("人工智能治理。" * 20000).encode()  # about 420 KB against a 256 KiB limit
    response = httpx.post(f"{base_url}/v1/documents", files={"file": ("big.txt", big)}, headers=AUTH)
    assert response.status_code == 413
    assert version(base_url) == before and sorted(os.listdir(living.corpus)) == listing


def test_unreadable_files_are_422_with_the_reason(base_url: str) -> None:
    for name, data, reason in [
        ("scan.pdf", b"%PDF-1.4 not really", "pdf"), ("notes.exe", b"MZ", ".exe"), ("empty.txt", b"  \n", ""),
    ]:
        response = httpx.post(f"{base_url}/v1/documents", files={"file": (name, data)}, headers=AUTH)
        assert response.status_code == 422, (name, response.text)
        assert reason in response.json()["error"]["message"].lower()


def test_every_format_is_searchable_with_exact_citations_without_restart(base_url: str) -> None:
    pdf, chinese_pdf = two_page_pdf()
    before = version(base_url)
    files = [
        ("file", ("neptune.txt", gbk_text(), "text/plain")),
        ("file", ("europa.html", html_page(), "text/html")),
        ("file", ("titan.pdf", pdf, "application/pdf")),
        ("file", ("pluto.docx", docx_file(), "application/octet-stream")),
    ]
    response = httpx.post(f"{base_url}/v1/documents", files=files, headers=AUTH, timeout=120)
    assert response.status_code == 201, response.text
    body = response.json()
    added = {d["title"]: d for d in body["added"]}
    assert len(added) == 4 and body["index_version"] != before and version(base_url) == body["index_version"]
    assert body["reused"] > 1000 and body["embedded"] < 50, "unchanged chunks are not re-embedded"
    assert "木卫二算法审计署年度报告" in added and added["冥王星模型登记制度"]["authors"] == ["卡戎研究所"]

    questions = {
        "海王星数据主权公约是哪一年签署的？": "2040",
        "木卫二算法审计署审查了多少个冰下洋流预测模型？": "四十二",
        ("土卫六伦理委员会要求甲烷湖勘探模型部署前通过几轮红队测试？" if chinese_pdf
         else "How many rounds of red-team testing does the Titan Ethics Board require?"):
            "三" if chinese_pdf else "three",
        "冥王星模型登记制度要求模型在哪里备案？": "卡戎登记处",
    }
    for question, expected in questions.items():
        answer = ask(base_url, question)
        assert answer["passages"][0]["doc_id"] in {d["doc_id"] for d in body["added"]}, question
        assert expected in answer["passages"][0]["text"], question
        assert_cited_exactly(base_url, answer)

    europa = added["木卫二算法审计署年度报告"]["doc_id"]
    text = httpx.get(f"{base_url}/v1/documents/{europa}/text").json()["text"]
    assert not any(word in text for word in NAV_WORDS)


def test_a_path_like_file_name_writes_only_a_generated_id(base_url: str, living: Settings) -> None:
    outside = sorted(os.listdir(living.corpus.parent))
    before = set(os.listdir(living.corpus))
    files = {
        "file": ("../../escape/../../evil.txt", "火卫一轨道交通条例规定所有自动驾驶矿车限速每小时四十公里。".encode()),
    }
    response = httpx.post(f"{base_url}/v1/documents", files=files, headers=AUTH, timeout=60)
    assert response.status_code == 201, response.text
    doc_id = response.json()["added"][0]["doc_id"]
    assert set(os.listdir(living.corpus)) - before == {f"{doc_id}.txt"}
    assert sorted(os.listdir(living.corpus.parent)) == outside
    assert not (living.corpus.parent.parent / "evil.txt").exists()


def test_the_same_text_twice_is_409(base_url: str) -> None:
    files = {"file": ("again.txt", gbk_text())}
    response = httpx.post(f"{base_url}/v1/documents", files=files, headers=AUTH)
    assert response.status_code == 409 and "already" in response.json()["error"]["message"]


def test_a_second_rebuild_gets_409_while_one_runs(base_url: str, living: Settings) -> None:
    before = version(base_url)
    with rebuild_lock(living.index_dir, wait=0):
        files = {"file": ("busy.txt", "谷神星议会讨论了小行星带的算力配额制度。".encode())}
        response = httpx.post(f"{base_url}/v1/documents", files=files, headers=AUTH)
        assert response.status_code == 409 and response.headers["retry-after"]
        deleted = httpx.delete(f"{base_url}/v1/documents/{SEOUL}", headers=AUTH)
        assert deleted.status_code == 409
    assert version(base_url) == before
    assert httpx.get(f"{base_url}/v1/documents/{SEOUL}").status_code == 200


def test_remove_is_visible_to_ask_without_restart(base_url: str) -> None:
    question = "海王星数据主权公约是哪一年签署的？"
    doc_id = ask(base_url, question)["passages"][0]["doc_id"]
    before = version(base_url)
    response = httpx.delete(f"{base_url}/v1/documents/{doc_id}", headers=AUTH, timeout=60)
    assert response.status_code == 200 and response.json()["removed"] == [doc_id]
    assert response.json()["index_version"] != before
    assert httpx.get(f"{base_url}/v1/documents/{doc_id}").status_code == 404
    assert doc_id not in {p["doc_id"] for p in ask(base_url, question)["passages"]}
    assert httpx.delete(f"{base_url}/v1/documents/{doc_id}", headers=AUTH).status_code == 404


def test_mcp_follows_the_swaps(base_url: str) -> None:
    """The /mcp tools and document resources see the version being served, added and removed documents included."""
    import anyio
    from mcp import Client

    files = {"file": ("io.txt", "木卫一火山观测站规定，所有观测模型每天必须自检两次。".encode())}
    added = httpx.post(f"{base_url}/v1/documents", files=files, headers=AUTH, timeout=60).json()["added"][0]["doc_id"]

    async def listed() -> tuple[set[str], set[str]]:
        async with Client(f"{base_url}/mcp", read_timeout_seconds=120) as client:
            resources = {str(r.uri) for r in (await client.list_resources()).resources}
            documents = (await client.call_tool("list_documents", {})).structured_content["documents"]
            return resources, {d["doc_id"] for d in documents}

    resources, documents = anyio.run(listed)
    assert f"govqa://documents/{added}" in resources and added in documents
    assert httpx.delete(f"{base_url}/v1/documents/{added}", headers=AUTH, timeout=60).status_code == 200
    resources, documents = anyio.run(listed)
    assert f"govqa://documents/{added}" not in resources and added not in documents
    assert f"govqa://documents/{SEOUL}" in resources


def test_old_versions_are_pruned(living: Settings) -> None:
    versions = [p for p in (living.index_dir / "versions").iterdir() if not p.name.startswith(".")]
    assert 1 < len(versions) <= living.keep_versions


def test_cli_add_and_remove_reach_the_running_server(base_url: str, living: Settings, tmp_path: Path) -> None:
    env = {
        **os.environ, "GOVQA_CORPUS": str(living.corpus), "GOVQA_INDEX_DIR": str(living.index_dir),
        "GOVQA_MODEL": living.model,
    }
    cli = [sys.executable, "-m", "service.cli"]
    source = tmp_path / "ganymede.md"
    source.write_text("# 木卫三\n\n木卫三自治议会决定，所有冰层钻探机器人必须配备人工接管开关。\n", encoding="utf-8")
    before = version(base_url)
    added = subprocess.run([*cli, "add", str(source), "--title", "木卫三议会决定", "--date", "2041-03-01"],
                           env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert added.returncode == 0, added.stderr
    doc_id = added.stdout.split()[1].rstrip(":")
    listed = subprocess.run(
        [*cli, "list", "--json"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert any(
        row["doc_id"] == doc_id and row["indexed"] and row["date"] == "2041-03-01"
        for row in __import__("json").loads(listed.stdout)
    )
    wait_for(lambda: version(base_url) != before)
    assert ask(base_url, "木卫三自治议会对冰层钻探机器人有什么要求？")["passages"][0]["doc_id"] == doc_id
    removed = subprocess.run(
        [*cli, "remove", doc_id], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert removed.returncode == 0, removed.stderr
    wait_for(lambda: httpx.get(f"{base_url}/v1/documents/{doc_id}").status_code == 404)
    refused = subprocess.run(
        [*cli, "remove", "no_such_doc"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 1 and "no_such_doc" in refused.stderr


def wait_for(condition, timeout: float = 20) -> None:  # noqa: ANN001
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
