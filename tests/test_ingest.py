"""Ingestion of txt/md/html/pdf/docx files into corpus documents (unit tests, no model needed)."""

from __future__ import annotations

import html
import io
import json
import random
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from index.chunking import ChunkerSettings, chunk_document
from index.documents import load_corpus
from index.ingest import Extracted, IngestError, extract, new_doc_id, remove_document, write_document
from index.normalize import fold_compatibility

TEXT = (
    "人工智能治理的国际合作\n"
    "\n"
    "人工智能治理已经成为国际社会关注的焦点问题。各国政府纷纷出台相关政策法规，以应对技术快速发展带来的挑战。\n"
    "\n"
    "一、监管框架\n"
    "\n"
    "欧盟通过了人工智能法案，建立了基于风险的分级监管体系。中国发布了生成式人工智能服务管理暂行办法。\n"
)
PARAGRAPHS = [
    "人工智能治理已经成为国际社会关注的焦点问题。各国政府纷纷出台相关政策法规，以应对技术快速发展带来的挑战。",
    "欧盟通过了人工智能法案，建立了基于风险的分级监管体系。该法案对高风险系统提出了严格的合规要求。",
    "中国发布了生成式人工智能服务管理暂行办法，强调安全与发展并重，并要求服务提供者履行安全评估义务。",
]
NAV_WORDS = ["网站首页菜单", "登录注册入口", "版权所有某某研究院", "京ICP备12345678号"]


# -- plain text and encodings -------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("gbk"),
        lambda t: t.encode("gb18030"),
        lambda t: t.encode("utf-16"),  # with a BOM, in the machine's byte order
        lambda t: b"\xfe\xff" + t.encode("utf-16-be"),
        lambda t: b"\xff\xfe" + t.encode("utf-16-le"),
        lambda t: t.encode("utf-8-sig"),
        lambda t: t.encode("utf-8"),
    ],
    ids=["gbk", "gb18030", "utf16", "utf16be-bom", "utf16le-bom", "utf8-bom", "utf8"],
)
@pytest.mark.parametrize("name", ["doc.txt", "doc.md", "DOC.TXT"])
def test_text_files_decode_to_the_original_text(encode, name: str) -> None:
    got = extract(encode(TEXT), name)
    assert got.text == TEXT
    assert got.source_format == Path(name).suffix.lower().lstrip(".")


def test_line_endings_are_normalized_and_nuls_dropped() -> None:
    raw = TEXT.replace("\n", "\r\n").replace("焦点", "焦\x00点").encode("gbk")
    assert extract(raw, "crlf.txt").text == TEXT
    assert extract("第一行\r第二行".encode(), "cr.txt").text == "第一行\n第二行"


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(seed: int) -> None:
    data = random.Random(seed).randbytes(4096)
    with pytest.raises(IngestError, match="noise.txt"):
        extract(data, "noise.txt")


def test_a_gbk_file_is_not_read_as_another_encoding() -> None:
    # GBK bytes also decode as Big5/Shift-JIS gibberish: the detection must not prefer those.
    got = extract("生成式人工智能服务管理暂行办法".encode("gbk"), "short.txt")
    assert got.text == "生成式人工智能服务管理暂行办法"


TRADITIONAL = (
    "人工智能治理的國際合作。人工智能治理已經成為國際社會關注的焦點問題。"
    "各國政府紛紛出台相關政策法規，以應對技術快速發展帶來的挑戰。"
)


@pytest.mark.parametrize("encoding", ["big5", "gbk", "utf-8"])
def test_traditional_chinese_decodes_in_its_encodings(encoding: str) -> None:
    assert extract(TRADITIONAL.encode(encoding), "trad.txt").text == TRADITIONAL


def test_a_latin_codepage_file_decodes() -> None:
    text = "Governance of AI — the café’s “naïve” résumé, and Überprüfung der Maßnahmen. Mostly plain text."
    assert extract(text.encode("cp1252"), "en.txt").text == text


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b[:20] + b"\xff" + b[21:],  # one broken byte in UTF-8
        lambda b: b[:-2],  # a character cut off at the end
        lambda b: b[:30] + bytes([b[30] ^ 0x40]) + b[31:] + b"\x80\x80",
    ],
    ids=["byte", "cut", "flip"],
)
def test_damaged_utf8_is_refused_not_read_as_another_encoding(damage) -> None:
    data = damage(TEXT.encode("utf-8"))
    assert data.decode("utf-8", errors="replace") != TEXT  # really damaged
    with pytest.raises(IngestError, match="damaged.txt: damaged UTF-8"):
        extract(data, "damaged.txt")


def test_damaged_gbk_is_refused_rather_than_turned_into_mojibake() -> None:
    data = bytearray(TEXT.encode("gbk"))
    data[7] = 0xFF  # never valid in GB18030
    with pytest.raises(IngestError, match="cannot tell the encoding"):
        extract(bytes(data), "damaged.txt")
    page = html_page("gbk").encode("gbk").replace(b'charset="gbk"', b'charset="g%k"')
    with pytest.raises(IngestError, match="cannot tell the encoding"):
        extract(page + b"\xff", "damaged.html")


def test_whitespace_only_and_unknown_suffixes_are_refused() -> None:
    with pytest.raises(IngestError, match="blank.txt"):
        extract(b" \r\n\t\n", "blank.txt")
    with pytest.raises(IngestError, match="unsupported"):
        extract(TEXT.encode(), "doc.rtf")
    with pytest.raises(IngestError, match="unsupported"):
        extract(TEXT.encode(), "no_suffix")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Co", "Cn"]), min_size=1))
def test_any_utf8_text_round_trips(text: str) -> None:
    assume(not text.startswith("\ufeff"))  # a leading U+FEFF in UTF-8 is a byte-order mark
    if not text.strip():
        with pytest.raises(IngestError):
            extract(text.encode("utf-8"), "h.txt")
        return
    assert extract(text.encode("utf-8"), "h.txt").text == text
    assert extract(text.encode("utf-16"), "h.txt").text == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), st.sampled_from(["x.txt", "x.md", "x.html", "x.pdf", "x.docx"]))
def test_arbitrary_bytes_give_text_or_an_ingest_error(data: bytes, name: str) -> None:
    try:
        got = extract(data, name)
    except IngestError:
        return
    assert got.text.strip() and "\r" not in got.text and "\x00" not in got.text


# -- HTML -----------------------------------------------------------------------


def html_page(charset: str = "utf-8") -> str:
    paragraphs = "\n".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return f"""<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>全球人工智能治理报告</title>
<meta name="author" content="李四"><meta name="date" content="2024-03-05T08:00:00+08:00">
<script>var tracking = "脚本内容不应出现";</script></head>
<body>
<header><div class="logo">{NAV_WORDS[0]}</div><a href="/login">{NAV_WORDS[1]}</a></header>
<nav><ul><li><a href="/">首页</a></li><li><a href="/about">关于我们</a></li>\
<li><a href="/news">新闻中心</a></li></ul></nav>
<main><article>
<h1>全球人工智能治理的新进展</h1>
{paragraphs}
<h2>二、未来展望</h2>
<p>国际社会需要在联合国框架下加强对话，推动形成具有广泛共识的人工智能治理框架和标准规范。</p>
</article></main>
<footer><p>{NAV_WORDS[2]}</p><p>{NAV_WORDS[3]}</p></footer>
</body></html>"""


@pytest.mark.parametrize("charset", ["utf-8", "gbk"])
def test_html_keeps_the_article_and_drops_navigation(charset: str) -> None:
    got = extract(html_page(charset).encode(charset), "page.html")
    positions = [got.text.index(p) for p in PARAGRAPHS]
    assert positions == sorted(positions)
    for word in NAV_WORDS + ["脚本内容不应出现", "关于我们"]:
        assert word not in got.text
    assert got.title == "全球人工智能治理报告"
    assert got.authors == ["李四"]
    assert got.date == "2024-03-05"
    assert got.source_format == "html"


def test_html_charset_declarations() -> None:
    mislabelled = extract(html_page("iso-8859-1").encode("gbk"), "gbk-labelled-latin1.html")
    assert PARAGRAPHS[0] in mislabelled.text and mislabelled.title == "全球人工智能治理报告"
    french = "Le café où l'élève a étudié la régulation de l'intelligence artificielle en Europe, très intéressant."
    page = (
        f'<html><head><meta charset="iso-8859-1"><title>Élève</title></head>'
        f'<body><article><p>{french}</p></article></body></html>'
    )
    got = extract(page.encode("latin-1"), "fr.html")
    assert french in got.text and got.title == "Élève"


def test_html_headings_are_markdown_and_paragraphs_are_separate_blocks() -> None:
    got = extract(html_page().encode(), "page.HTM")
    lines = got.text.split("\n")
    assert "# 全球人工智能治理的新进展" in lines
    assert "## 二、未来展望" in lines
    blocks = got.text.split("\n\n")
    for paragraph in PARAGRAPHS:
        assert paragraph in blocks


def test_inline_markup_and_markdown_characters_come_out_verbatim() -> None:
    literal = "第 3 条 a * b、snake_case_name、[附件](一) 与 <标签> 以及 C:\\dir\\file 和 \\(x\\)。"
    page = html_page().replace("焦点问题", "<b>焦点</b><em>问题</em>").replace(
        "<h2>", f"<p>{html.escape(literal)}</p><h2>"
    )
    got = extract(page.encode(), "bold.html")
    assert PARAGRAPHS[0] in got.text
    assert literal in got.text.split("\n")
    assert "**" not in got.text and "\\*" not in got.text


# -- PDF ------------------------------------------------------------------------


def cjk_font() -> tuple[str, int] | None:
    """A Chinese TrueType/OpenType font known to fontconfig, if any (.ttf preferred)."""
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted({line.split(":")[0].strip() for line in out.splitlines() if line.strip()})
    files = [f for f in files if f.lower().endswith((".ttf", ".otf", ".ttc"))]
    files.sort(key=lambda f: (not f.lower().endswith(".ttf"), f))
    return (files[0], 0) if files else None


def make_pdf(pages: list[str], title: str | None = None, author: str | None = None, **encryption) -> tuple[bytes, bool]:
    """A PDF with one text block per page; True when a CJK font was used (else Latin text is expected)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_compression(False)
    font = cjk_font()
    try:
        if font is None:
            raise RuntimeError("no CJK font")
        pdf.add_font("cjk", fname=font[0], collection_font_number=font[1])
        pdf.set_font("cjk", size=12)
        chinese = True
    except Exception:  # noqa: BLE001 - fall back to a core font with Latin text
        pdf.set_font("helvetica", size=12)
        chinese = False
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    if encryption:
        pdf.set_encryption(**encryption)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output()), chinese


PDF_PAGES_ZH = ["第一页：人工智能治理需要国际合作。", "第二页：风险评估与监管框架。"]
PDF_PAGES_EN = ["First page: governing artificial intelligence.", "Second page: risk assessment and oversight."]


def two_page_pdf() -> tuple[bytes, list[str]]:
    data, chinese = make_pdf(PDF_PAGES_ZH if cjk_font() else PDF_PAGES_EN, title="治理报告", author="张三")
    if not chinese:
        data, _ = make_pdf(PDF_PAGES_EN, title="治理报告", author="张三")
    return data, PDF_PAGES_ZH if chinese else PDF_PAGES_EN


def test_pdf_pages_come_out_in_order_with_metadata() -> None:
    data, pages = two_page_pdf()
    got = extract(data, "report.PDF")
    pages = [fold_compatibility(p) for p in pages]  # a PDF's canonical text is NFKC: "：" is ":"
    first, second = got.text.index(pages[0]), got.text.index(pages[1])
    assert first < second
    assert "\n\n" in got.text[first + len(pages[0]):second]
    assert got.title == "治理报告"
    assert got.authors == ["张三"]
    assert got.date is not None and len(got.date) == 10 and got.date[4] == "-"
    assert got.source_format == "pdf"


def test_pdf_without_a_text_layer_is_refused() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="DF")
    with pytest.raises(IngestError, match=r"scan\.pdf: .*no text layer"):
        extract(bytes(pdf.output()), "scan.pdf")


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n garbage", random.Random(1).randbytes(3000)])
def test_garbage_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(IngestError, match="broken.pdf"):
        extract(data, "broken.pdf")


def test_truncated_pdf_gives_text_or_an_ingest_error() -> None:
    data, _ = two_page_pdf()
    for cut in (len(data) // 4, len(data) // 2, len(data) - 40):
        try:
            extract(data[:cut], "cut.pdf")
        except IngestError:
            pass


def test_password_protected_pdf_is_refused() -> None:
    data, _ = make_pdf(PDF_PAGES_EN, owner_password="owner", user_password="secret")
    with pytest.raises(IngestError, match="password"):
        extract(data, "locked.pdf")


def test_pdf_page_limit() -> None:
    data, pages = two_page_pdf()
    with pytest.raises(IngestError, match="more than the limit of 1"):
        extract(data, "long.pdf", max_pdf_pages=1)
    assert fold_compatibility(pages[1]) in extract(data, "long.pdf", max_pdf_pages=2).text


# -- DOCX -----------------------------------------------------------------------


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("人工智能治理框架", level=1)
    document.add_paragraph(PARAGRAPHS[0])
    document.add_heading("一、监管体系", level=2)
    document.add_paragraph(PARAGRAPHS[1])
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in zip([(0, 0), (0, 1), (1, 0), (1, 1)], ["国家", "法规", "欧盟", "人工智能法案"]):
        table.cell(r, c).text = text
    document.add_paragraph(PARAGRAPHS[2])
    document.core_properties.title = "治理框架文件"
    document.core_properties.author = "王五"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_paragraphs_tables_and_properties() -> None:
    got = extract(make_docx(), "policy.DOCX")
    lines = got.text.split("\n")
    assert "# 人工智能治理框架" in lines
    assert "## 一、监管体系" in lines
    order = [
        got.text.index(s)
        for s in ["# 人工智能治理框架", PARAGRAPHS[0], "## 一、监管体系", PARAGRAPHS[1], "欧盟", PARAGRAPHS[2]]
    ]
    assert order == sorted(order)
    assert any("国家" in line and "法规" in line for line in lines)
    assert got.title == "治理框架文件"
    assert got.authors == ["王五"]
    assert got.source_format == "docx"


def test_docx_zip_bomb_and_non_docx_zips_are_refused() -> None:
    bomb = _with_entry(make_docx(), "word/media/filler.bin", b"\0" * 2_000_000)
    assert len(bomb) < 100_000  # small on the wire, large unpacked
    with pytest.raises(IngestError, match="more than the limit"):
        extract(bomb, "bomb.docx", max_docx_bytes=1_000_000)
    assert PARAGRAPHS[0] in extract(bomb, "bomb.docx", max_docx_bytes=3_000_000).text
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("readme.txt", "not a word document")
    with pytest.raises(IngestError, match="not a valid DOCX"):
        extract(plain.getvalue(), "plain.docx")
    with pytest.raises(IngestError, match="not a valid DOCX"):
        extract(TEXT.encode(), "text.docx")


def _with_entry(docx_bytes: bytes, name: str, payload: bytes) -> bytes:
    buffer = io.BytesIO(docx_bytes)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, payload)
    return buffer.getvalue()


# -- every format through the real chunker -------------------------------------


def all_extracted() -> dict[str, Extracted]:
    return {
        "txt": extract(TEXT.encode("gbk"), "a.txt"),
        "html": extract(html_page().encode(), "a.html"),
        "pdf": extract(two_page_pdf()[0], "a.pdf"),
        "docx": extract(make_docx(), "a.docx"),
    }


def test_extracted_texts_chunk_with_exact_offsets() -> None:
    for fmt, got in all_extracted().items():
        result = chunk_document(new_doc_id(got.text), got.text, ChunkerSettings())
        assert result.chunks, fmt
        for chunk in result.chunks:
            assert got.text[chunk.start:chunk.end] == chunk.text, fmt
        for sentence in result.sentences:
            assert got.text[sentence.start:sentence.end] == sentence.text, fmt
    docx_chunks = chunk_document("d", all_extracted()["docx"].text).chunks
    assert any("一、监管体系" in chunk.section for chunk in docx_chunks)


# -- the corpus directory -------------------------------------------------------


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_new_doc_id_is_deterministic_and_safe() -> None:
    assert new_doc_id(TEXT) == new_doc_id(TEXT)
    assert new_doc_id(TEXT) != new_doc_id(TEXT + " ")
    assert len(new_doc_id(TEXT)) == 20 and new_doc_id(TEXT).startswith("doc_")
    assert all(c in "0123456789abcdef" for c in new_doc_id(TEXT)[4:])


@pytest.mark.parametrize("client_name", ["../../etc/passwd.txt", "a/b.txt", "..\\..\\evil.txt", "/abs/path.md"])
def test_client_file_names_never_reach_the_disk(tmp_path: Path, client_name: str) -> None:
    corpus = tmp_path / "deep" / "corpus"
    corpus.mkdir(parents=True)
    before = files_under(tmp_path)
    got = extract(TEXT.encode(), client_name)
    meta = write_document(corpus, got, {})
    assert files_under(tmp_path) - before == {corpus / f"{meta.doc_id}.txt", corpus / "metadata.json"}
    assert meta.doc_id == new_doc_id(TEXT)


def test_written_document_loads_back_exactly_with_metadata(tmp_path: Path) -> None:
    html = extract(html_page().encode(), "page.html")
    docx_doc = extract(make_docx(), "policy.docx")
    crlf = Extracted("第一行\r\n第二行\r\n", None, [], None, "txt")  # written byte-exactly, whatever it holds
    m1 = write_document(tmp_path, html, {"title": "覆盖的标题", "publisher": "某研究院", "url": "https://example.org/a"})
    m2 = write_document(tmp_path, docx_doc, {"authors": ["赵六", "钱七"], "date": "2023-11"})
    m3 = write_document(tmp_path, crlf, {})
    docs = {d.doc_id: d for d in load_corpus(tmp_path)}
    assert docs[m1.doc_id].text == html.text
    assert docs[m2.doc_id].text == docx_doc.text
    assert (tmp_path / f"{m3.doc_id}.txt").read_bytes() == crlf.text.encode("utf-8")
    first, second, third = docs[m1.doc_id].meta, docs[m2.doc_id].meta, docs[m3.doc_id].meta
    assert (
        (first.title, first.authors, first.date, first.publisher) == ("覆盖的标题", ["李四"], "2024-03-05", "某研究院")
    )
    assert (second.title, second.authors, second.date) == ("治理框架文件", ["赵六", "钱七"], "2023-11")
    assert third.title == "第一行" and third.language == "zh"
    records = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    assert [r["doc_id"] for r in records] == [m1.doc_id, m2.doc_id, m3.doc_id]


def test_same_content_twice_is_refused(tmp_path: Path) -> None:
    got = extract(TEXT.encode(), "a.txt")
    meta = write_document(tmp_path, got, {})
    with pytest.raises(IngestError, match=f"already in the corpus as {meta.doc_id}"):
        write_document(tmp_path, extract(TEXT.encode("gbk"), "other-name.txt"), {"title": "另一个标题"})
    assert len(json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))) == 1


def test_unknown_override_fields_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="unknown metadata"):
        write_document(tmp_path, extract(TEXT.encode(), "a.txt"), {"doc_id": "../x"})
    assert files_under(tmp_path) == set()


def test_remove_document(tmp_path: Path) -> None:
    keep = write_document(tmp_path, extract(TEXT.encode(), "a.txt"), {})
    gone = write_document(tmp_path, extract(make_docx(), "b.docx"), {})
    remove_document(tmp_path, gone.doc_id)
    assert not (tmp_path / f"{gone.doc_id}.txt").exists()
    assert [d.doc_id for d in load_corpus(tmp_path)] == [keep.doc_id]
    records = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    assert [r["doc_id"] for r in records] == [keep.doc_id]
    with pytest.raises(IngestError, match="no such document"):
        remove_document(tmp_path, gone.doc_id)


@pytest.mark.parametrize("bad", ["../metadata", "a/b", "", "x" * 101, "doc id", "..", "metadata.json"])
def test_remove_document_refuses_bad_ids(tmp_path: Path, bad: str) -> None:
    write_document(tmp_path, extract(TEXT.encode(), "a.txt"), {})
    before = {p: p.read_bytes() for p in files_under(tmp_path)}
    with pytest.raises(IngestError):
        remove_document(tmp_path, bad)
    assert {p: p.read_bytes() for p in files_under(tmp_path)} == before


WRAPPED_PARAGRAPHS = [
    "⼈⼯智能治理需要在国际层⾯开展持续的对话与合作，各国政府、企业和研究机构应当共同参与规则的制定，"
    "并在⻛险评估、标准互认和能⼒建设等⽅⾯形成可以落地的安排。",
    "欧洲委员会的框架公约于2024年9⽉在维尔纽斯开放签署，参与谈判的不只有欧洲委员会成员国，"
    "还包括美国、⽇本和加拿⼤等观察员国家以及欧盟。",
]


def test_a_pdf_with_wrapped_lines_and_radical_forms_gives_whole_folded_sentences() -> None:
    if cjk_font() is None:
        pytest.skip("no CJK font to write a Chinese PDF with")
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("cjk", fname=cjk_font()[0])
    pdf.set_font("cjk", size=12)
    pdf.add_page()
    for paragraph in WRAPPED_PARAGRAPHS:
        pdf.multi_cell(90, 8, paragraph)  # 90 mm: every paragraph wraps over several lines
        pdf.ln(6)
    text = extract(bytes(pdf.output()), "wrapped.pdf").text
    assert "⼈" not in text and "⻛" not in text and "人工智能治理" in text and "风险评估" in text
    expected = [fold_compatibility(p) for p in WRAPPED_PARAGRAPHS]
    assert all(p in text for p in expected), "each paragraph is one line of the canonical text"
    sentences = chunk_document("d", text, ChunkerSettings()).sentences
    assert [s.text for s in sentences] == [p for p in expected]
    assert all(text[s.start:s.end] == s.text for s in sentences)
