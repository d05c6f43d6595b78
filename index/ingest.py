"""Turning the files operators receive (txt, md, html, pdf, docx) into corpus documents.

`extract` reads a file's bytes into plain text plus whatever metadata the file
carries; that text becomes the canonical `<doc_id>.txt` that citations point
into, so it is produced once here and never rewritten. Structure the chunker
understands (markdown `#` headings, blank-line separated paragraphs) is kept.
Anything that cannot be ingested raises `IngestError`, and nothing else.
"""

from __future__ import annotations

import codecs
import datetime as dt
import fcntl
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from hashlib import sha256
from pathlib import Path

from index.documents import METADATA_FILE, DocumentMeta, fallback_title, load_metadata
from index.lang.scripts import ANY_HAN_CHAR as CJK
from index.lang.scripts import SPACE_BESIDE_CJK
from index.normalize import fold_compatibility
from index.wrapping import unwrap
from index.zipcheck import ZipRefused, real_sizes

MAX_PDF_PAGES = 2000
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
MAX_HTML_ELEMENTS = 300_000  # trafilatura takes ~15 s per million elements
TEXT_SAMPLE = 300_000  # characters checked one by one for unassigned code points
DOC_ID = re.compile(r"^[A-Za-z0-9_\-]{1,100}$")
OVERRIDABLE = ("title", "authors", "date", "publisher", "url", "language")
SUFFIX_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
SINGLE_BYTE = frozenset({"cp1252", "latin_1", "iso8859_15", "ascii"})
GUESSABLE = SINGLE_BYTE | {"big5", "big5hkscs", "cp950", "gb18030", "gbk", "gb2312", "utf_16", "utf_16_le",
                           "utf_16_be", "utf_32", "utf_32_le", "utf_32_be"}
META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]{1,40})""", re.IGNORECASE)
BAD_CHARS = re.compile(r"[\x01-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]")
NON_ASCII = re.compile(r"[^\x00-\x7f]")
NON_ASCII_RUN = re.compile(r"[^\x00-\x7f\s]{3,}")  # how CJK mojibake looks in a Latin codepage
SURROGATES = re.compile(r"[\ud800-\udfff]")
DATE = re.compile(r"(\d{4})\D?(\d{1,2})\D?(\d{1,2})")
HEADING_STYLE = re.compile(r"^heading\s*([1-9])$", re.IGNORECASE)
AUTHOR_META = ("author", "article:author", "dc.creator", "dc.creator.author", "citation_author")
DATE_META = ("date", "pubdate", "publishdate", "article:published_time", "dc.date", "dc.date.issued",
             "citation_publication_date", "citation_date")


class IngestError(ValueError):
    """A file that cannot become a corpus document; the message names the file and the reason."""


class DocumentTooLarge(IngestError):
    """A file whose text, or what indexing it would cost, is over a configured limit (413 over HTTP)."""


@dataclass(frozen=True)
class Extracted:
    """A file's canonical text and the metadata found in the file itself."""

    text: str
    title: str | None
    authors: list[str] = field(default_factory=list)
    date: str | None = None
    source_format: str = "txt"


# -- dispatch -------------------------------------------------------------------


def extract(data: bytes, filename: str, *, max_pdf_pages: int = MAX_PDF_PAGES,
            max_docx_bytes: int = MAX_DOCX_UNCOMPRESSED, max_chars: int | None = None) -> Extracted:
    """Extract text and metadata from a file's bytes, choosing the reader by the name's suffix; with
    `max_chars`, a text longer than that is refused (a PDF's as soon as its pages pass it).

    Untrusted files go through index.extraction, which runs this in a bounded process of its own."""
    name = display_name(filename)
    fmt = SUFFIX_FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise IngestError(f"{name}: unsupported file type (expected one of {', '.join(sorted(SUFFIX_FORMATS))})")
    if fmt in ("txt", "md"):
        extracted = Extracted(decode_text(data, name), None, [], None, fmt)
    elif fmt == "html":
        extracted = extract_html(data, name)
    elif fmt == "pdf":
        extracted = extract_pdf(data, name, max_pdf_pages, max_chars)
    else:
        extracted = extract_docx(data, name, max_docx_bytes)
    if max_chars is not None and len(extracted.text) > max_chars:
        raise too_long(name, max_chars)
    return finish(extracted, name)


def too_long(name: str, max_chars: int) -> IngestError:
    return DocumentTooLarge(f"{name}: the extracted text has more than {max_chars} characters, "
                            "the limit per document (GOVQA_MAX_DOCUMENT_CHARS)")


def display_name(filename: str) -> str:
    """The file name a client sent, without any directory part, as messages name the file."""
    return Path(filename.replace("\\", "/")).name or "file"


def finish(extracted: Extracted, name: str) -> Extracted:
    """Normalize line endings, drop NULs and stray surrogates, and refuse an empty result."""
    text = SURROGATES.sub("", extracted.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", ""))
    if not text.strip():
        raise IngestError(f"{name}: no text left after extraction")
    title = " ".join(extracted.title.split()) if extracted.title else None
    return Extracted(text, title or None, extracted.authors, extracted.date, extracted.source_format)


# -- plain text and encodings -------------------------------------------------


def decode_text(data: bytes, name: str, declared: str | None = None) -> str:
    """Decode by BOM, strict UTF-8, GB18030, a declared charset, then a confident guess; never mojibake."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return checked(strict_decode(data[len(bom):], encoding, name), name)
    text = try_decode(data, "utf-8")
    if text is not None:
        return checked(text, name)
    refuse_damaged_utf8(data, name)
    for encoding in ("gb18030", declared_codec(declared)):  # GBK first: pages mislabelled iso-8859-1 are common
        text = try_decode(data, encoding)
        if text is not None and reads_as_text(text):
            return text
    return guess_encoding(data, name)


def strict_decode(data: bytes, encoding: str, name: str) -> str:
    """Decode strictly, turning failure into an IngestError."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise IngestError(f"{name}: not valid {encoding} despite its byte-order mark ({exc.reason})") from exc


def try_decode(data: bytes, encoding: str | None) -> str | None:
    """The strict decoding, or None when the bytes are not in that encoding."""
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def declared_codec(declared: str | None) -> str | None:
    """A declared charset as a Python codec; GB2312/GBK widen to GB18030, unknown names are ignored."""
    if not declared:
        return None
    try:
        codec = codecs.lookup(declared.strip().lower()).name
    except LookupError:
        return None
    return "gb18030" if codec in ("gb2312", "gbk") else codec


def refuse_damaged_utf8(data: bytes, name: str) -> None:
    """Refuse UTF-8 with a few broken bytes or a cut-off end, rather than let a codepage turn it into mojibake."""
    text = data.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    valid = len(NON_ASCII.findall(text)) - broken
    if valid >= 2 * broken or truncated_utf8(data):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IngestError(
                f"{name}: damaged UTF-8 ({broken} undecodable bytes, the first at byte {exc.start})"
            ) from exc


def truncated_utf8(data: bytes) -> bool:
    """Valid UTF-8 but for a multi-byte character cut off at the very end."""
    for cut in (1, 2, 3):
        if len(data) > cut and try_decode(data[:-cut], "utf-8") is not None:
            return True
    return False


def guess_encoding(data: bytes, name: str) -> str:
    """charset-normalizer's best plausible guess, only when confident and it reads as text."""
    from charset_normalizer import from_bytes

    try:
        matches = list(from_bytes(data[:1_000_000]))
    except Exception as exc:  # noqa: BLE001 - third-party detector on arbitrary bytes
        raise IngestError(f"{name}: cannot tell the encoding ({exc})") from exc
    encoding = plausible_encoding(matches)
    if encoding is None:
        raise IngestError(f"{name}: cannot tell the encoding (not UTF-8, UTF-16 with a BOM, GB18030/GBK or Big5)")
    text = try_decode(data, encoding)
    if text is None or not reads_as_text(text) or (encoding in SINGLE_BYTE and not mostly_ascii_letters(text)):
        raise IngestError(f"{name}: cannot tell the encoding (best guess {encoding} does not read as text)")
    return text


def plausible_encoding(matches: list) -> str | None:
    """The first confident match (best first) that is, or is equivalent to, an encoding govqa expects."""
    for match in matches:
        if match.chaos <= 0.1:
            for encoding in (match.encoding, *match.could_be_from_charset):
                if encoding in GUESSABLE:
                    return encoding
    return None


def reads_as_text(text: str) -> bool:
    """Text a person wrote: few control/unassigned characters and, if Chinese, mostly common characters."""
    return looks_like_text(text) and mostly_common_hanzi(text)


def looks_like_text(text: str) -> bool:
    """Few control, private-use or unassigned characters: what real documents look like."""
    limit = max(2, len(text) // 200)
    if len(BAD_CHARS.findall(text)) > limit:
        return False
    sample = text if len(text) <= TEXT_SAMPLE else text[: TEXT_SAMPLE // 2] + text[-TEXT_SAMPLE // 2:]
    unassigned = sum(1 for ch in sample if unicodedata.category(ch) == "Cn")
    return unassigned <= max(2, len(sample) // 200)


def mostly_common_hanzi(text: str) -> bool:
    """Most ideographs are common (GB2312 or Big5 level 1): real text is ~99%, misread bytes ~40-60%."""
    hanzi = CJK.findall(text[:TEXT_SAMPLE])
    return not hanzi or sum(map(common_hanzi, hanzi)) >= 0.85 * len(hanzi)


@lru_cache(maxsize=65536)
def common_hanzi(ch: str) -> bool:
    """Whether an ideograph is in GB2312 (common simplified) or Big5 level 1 (common traditional)."""
    try:
        ch.encode("gb2312")
        return True
    except UnicodeEncodeError:
        pass
    try:
        code = int.from_bytes(ch.encode("big5"), "big")
    except UnicodeEncodeError:
        return False
    return 0xA440 <= code <= 0xC67E


def mostly_ascii_letters(text: str) -> bool:
    """A single-byte codepage guess is believable for mostly-ASCII text with isolated accents, not for mojibake."""
    sample = text[:TEXT_SAMPLE]
    letters = [ch for ch in sample if ch.isalpha()]
    accented = sum(1 for ch in letters if ord(ch) > 0x7F)
    return accented <= 0.2 * len(letters) and not NON_ASCII_RUN.search(sample)


def checked(text: str, name: str) -> str:
    """The decoded text, unless it reads as binary data rather than text."""
    if not looks_like_text(text):
        raise IngestError(f"{name}: looks like binary data, not text (many control characters)")
    return text


# -- HTML -----------------------------------------------------------------------


def extract_html(data: bytes, name: str) -> Extracted:
    """The main content of a page (no navigation, header, footer or scripts) as markdown-style blocks."""
    import lxml.html

    match = META_CHARSET.search(data[:4096])
    text = decode_text(data, name, match.group(1).decode("ascii") if match else None)
    try:
        tree = lxml.html.fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(encoding="utf-8"))
    except Exception as exc:  # noqa: BLE001 - lxml raises several types on odd markup
        raise IngestError(f"{name}: not a readable HTML page ({exc})") from exc
    if sum(1 for _ in tree.iter()) > MAX_HTML_ELEMENTS:
        raise IngestError(f"{name}: the HTML page has more than {MAX_HTML_ELEMENTS} elements; too large to extract")
    title, authors, date = html_metadata(tree)
    body = main_content(tree, name)
    return Extracted("\n\n".join(b for b in map(xml_block, body) if b), title, authors, date, "html")


def main_content(tree, name: str):
    """trafilatura's main-content XML body (recall favoured only when precision finds nothing)."""
    import trafilatura

    for recall in (False, True):
        try:
            found = trafilatura.bare_extraction(tree, include_comments=False, include_tables=True, include_links=False,
                                                include_images=False, include_formatting=False, with_metadata=False,
                                                favor_recall=recall)
        except Exception as exc:  # noqa: BLE001 - trafilatura on arbitrary markup
            raise IngestError(f"{name}: the HTML could not be parsed ({type(exc).__name__}: {exc})") from exc
        body = getattr(found, "body", None)
        if body is not None and "".join(body.itertext()).strip():
            return body
    raise IngestError(f"{name}: no main text found in the HTML page")


def xml_block(element) -> str:
    """One block of trafilatura's XML as text: `#` headings, `- ` list items, ` | ` table rows, else paragraphs.

    trafilatura's own markdown output backslash-escapes `*_[<` and rewrites `\\(…\\)` as math; the canonical
    text must keep the page's characters, so the structure is rendered here from the unescaped XML.
    """
    if element.tag == "head":
        rend = element.get("rend") or ""
        level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else 2
        text = " ".join(inner_text(element).split())
        return "#" * level + " " + text if text else ""
    if element.tag == "list":
        items = (" ".join(inner_text(item, skip="list").split()) for item in element.iter("item"))
        return "\n".join("- " + item for item in items if item)
    if element.tag == "table":
        rows = (" | ".join(" ".join(inner_text(c).split()) for c in row.iter("cell")) for row in element.iter("row"))
        return "\n".join(row for row in rows if row.strip(" |"))
    return "\n".join(line.strip() for line in inner_text(element).strip().split("\n"))


def inner_text(element, skip: str | None = None) -> str:
    """An element's text with line breaks (<lb/>) as newlines, leaving out nested `skip` elements."""
    parts = [element.text or ""]
    for child in element:
        if child.tag in ("lb", "p", "head", "quote", "list", "item", "table", "row"):
            parts.append("\n")  # a break, or a block nested in a cell or item
        if child.tag not in (skip, "lb"):
            parts.append(inner_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


def html_metadata(tree) -> tuple[str | None, list[str], str | None]:
    """<title>, meta author(s) and meta date of a parsed page."""
    title = next((t.text_content().strip() for t in tree.iter("title") if t.text_content().strip()), None)
    metas: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        content = (meta.get("content") or "").strip()
        if key and content:
            metas.setdefault(key, []).append(content)
    authors = next((metas[k] for k in AUTHOR_META if k in metas), [])
    date = next((iso_date(v[0]) for k in DATE_META if k in metas for v in [metas[k]] if iso_date(v[0])), None)
    return title, list(dict.fromkeys(authors)), date


def iso_date(value: str | None) -> str | None:
    """YYYY-MM-DD from a date-like string (ISO, PDF D:YYYYMMDD…, 2024/3/5, 2024年3月5日), or None."""
    match = DATE.search(value or "")
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return None


# -- PDF ------------------------------------------------------------------------


def extract_pdf(data: bytes, name: str, max_pages: int, max_chars: int | None = None) -> Extracted:
    """The PDF's text layer, pages joined by blank lines; scanned, encrypted or broken PDFs are refused."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        unlock_pdf(reader, name)
        count = len(reader.pages)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types on broken files
        raise IngestError(f"{name}: not a readable PDF ({type(exc).__name__}: {exc})") from exc
    if count > max_pages:
        raise IngestError(f"{name}: the PDF has {count} pages, more than the limit of {max_pages}")
    pages, length = [], 0
    for i in range(count):
        pages.append(page_text(reader, i, name))
        length += len(pages[-1])
        if max_chars is not None and length > max_chars:
            raise too_long(name, max_chars)
    text = pdf_canonical("\n\n".join(p for p in pages if p))
    if not text.strip():
        raise IngestError(f"{name}: the PDF has no text layer (scanned?); govqa needs extractable text")
    title, authors, date = pdf_metadata(reader)
    return Extracted(text, title, authors, date, "pdf")


def pdf_canonical(text: str) -> str:
    """A PDF's text as govqa cites it: compatibility forms folded (NFKC: text layers often write 人 as
    the Kangxi radical ⼈, 见 as ⻅), the spaces a justified line puts beside Chinese characters
    ("基 金 会") removed, and the layout's line breaks inside paragraphs removed."""
    return unwrap(SPACE_BESIDE_CJK.sub("", fold_compatibility(text)))



def unlock_pdf(reader, name: str) -> None:
    """Open a PDF encrypted with an empty user password (permissions only); refuse a real password."""
    if not reader.is_encrypted:
        return
    try:
        unlocked = reader.decrypt("")
    except Exception as exc:  # noqa: BLE001 - unsupported algorithms, missing crypto backend
        raise IngestError(f"{name}: the PDF is encrypted and cannot be opened ({exc})") from exc
    if not unlocked:
        raise IngestError(f"{name}: the PDF is encrypted with a password; send an unencrypted copy")


def page_text(reader, index: int, name: str) -> str:
    """One page's text layer, stripped of surrounding blank space."""
    try:
        return (reader.pages[index].extract_text() or "").strip()
    except Exception as exc:  # noqa: BLE001 - broken content streams, fonts or encodings
        raise IngestError(f"{name}: page {index + 1} of the PDF cannot be read ({type(exc).__name__}: {exc})") from exc


def pdf_metadata(reader) -> tuple[str | None, list[str], str | None]:
    """Title, Author and CreationDate of the PDF's info dictionary, when present and readable."""
    try:
        info = reader.metadata or {}
        title, author, created = (info.get(key) for key in ("/Title", "/Author", "/CreationDate"))
    except Exception:  # noqa: BLE001 - a broken info dictionary only loses metadata
        return None, [], None
    title = str(title).strip() if title else None
    authors = [str(author).strip()] if author and str(author).strip() else []
    return title or None, authors, iso_date(str(created)) if created else None


# -- DOCX -----------------------------------------------------------------------


def extract_docx(data: bytes, name: str, max_bytes: int) -> Extracted:
    """Paragraphs and tables in document order; heading styles become markdown headings."""
    import docx

    check_zip(data, name, max_bytes)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [block for item in document.iter_inner_content() for block in docx_blocks(item)]
        title, authors, date = docx_metadata(document)
    except Exception as exc:  # noqa: BLE001 - python-docx raises many types on broken packages
        raise IngestError(f"{name}: not a valid DOCX file ({type(exc).__name__}: {exc})") from exc
    return Extracted("\n\n".join(blocks), title, authors, date, "docx")


def check_zip(data: bytes, name: str, max_bytes: int) -> None:
    """Refuse a file that is not a zip, or whose entries really unpack (counted while inflating, never
    taken from the sizes it declares) to more than max_bytes: a zip bomb, forged sizes or not."""
    try:
        real_sizes(data, max_bytes, MAX_ZIP_ENTRIES)
    except ZipRefused as exc:
        raise IngestError(f"{name}: not a valid DOCX file ({exc})") from exc


def docx_blocks(item) -> list[str]:
    """A body paragraph or table as text blocks (a table gives one block, a row per line)."""
    from docx.table import Table

    if isinstance(item, Table):
        rows = [" | ".join(cell_texts(row)) for row in item.rows]
        text = "\n".join(row for row in rows if row.strip(" |"))
        return [text] if text else []
    text = item.text.strip()
    if not text:
        return []
    level = heading_level(item.style)
    if level:
        return ["#" * min(level, 6) + " " + " ".join(text.split())]
    if item.style is not None and (item.style.name or "").lower().startswith("list bullet"):
        return ["- " + text]
    return [text]


def cell_texts(row) -> list[str]:
    """A table row's cell texts on one line, each merged cell once."""
    cells = list(row.cells)  # a horizontally merged cell appears once per grid column, as the same <w:tc>
    return [" ".join(cell.text.split()) for i, cell in enumerate(cells) if i == 0 or cell._tc is not cells[i - 1]._tc]


def heading_level(style, depth: int = 0) -> int | None:
    """The heading level of a paragraph style (Title is 1), following base styles a few steps."""
    if style is None or depth > 4:
        return None
    style_name = (style.name or "").strip()
    match = HEADING_STYLE.match(style_name)
    if match:
        return int(match.group(1))
    if style_name.lower() == "title":
        return 1
    return heading_level(style.base_style, depth + 1)


def docx_metadata(document) -> tuple[str | None, list[str], str | None]:
    """core_properties title, author and created date."""
    props = document.core_properties
    authors = [a.strip() for a in re.split(r"[;；]", props.author or "") if a.strip()]
    created = props.created.date().isoformat() if props.created else None
    return (props.title or "").strip() or None, authors, created


# -- the corpus directory -------------------------------------------------------


def new_doc_id(text: str) -> str:
    """A file-name-safe id from the content, so the same text always gets the same id."""
    return "doc_" + sha256(text.encode("utf-8")).hexdigest()[:16]


def write_document(corpus: Path, extracted: Extracted, overrides: dict) -> DocumentMeta:
    """Store extracted text as <corpus>/<doc_id>.txt and its record in metadata.json, atomically."""
    doc_id = new_doc_id(extracted.text)
    meta = document_meta(doc_id, extracted, overrides)
    corpus.mkdir(parents=True, exist_ok=True)
    with corpus_lock(corpus):
        path = corpus / f"{doc_id}.txt"
        if path.exists() or (corpus / f"{doc_id}.md").exists():
            raise IngestError(f"already in the corpus as {doc_id}")
        records = read_records(corpus)
        atomic_write(path, extracted.text)
        try:
            records = [r for r in records if r.get("doc_id") != doc_id] + [meta.to_dict()]
            atomic_write(corpus / METADATA_FILE, json.dumps(records, ensure_ascii=False, indent=2) + "\n")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return meta


def document_meta(doc_id: str, extracted: Extracted, overrides: dict) -> DocumentMeta:
    """Metadata from the overrides, else the file's own properties, else the text itself."""
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise IngestError(f"unknown metadata field(s) {unknown}; allowed: {', '.join(OVERRIDABLE)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    authors = given.get("authors", extracted.authors)
    if not isinstance(authors, (list, tuple)) or not all(isinstance(a, str) for a in authors):
        raise IngestError("authors must be a list of names")
    return DocumentMeta(
        doc_id=doc_id,
        title=given.get("title") or extracted.title or fallback_title(extracted.text, doc_id),
        authors=list(authors),
        date=given.get("date", extracted.date),
        publisher=given.get("publisher"),
        language=given.get("language") or guess_language(extracted.text),
        url=given.get("url"),
    )


def guess_language(text: str) -> str:
    """zh when Chinese characters make up a real share of the letters, else en."""
    letters = sum(1 for ch in text[:20_000] if ch.isalpha())
    return "zh" if letters and len(CJK.findall(text[:20_000])) >= 0.1 * letters else "en"


def remove_document(corpus: Path, doc_id: str) -> None:
    """Remove a document's file and metadata record (record first, so no record outlives a half-removal unseen)."""
    if not isinstance(doc_id, str) or not DOC_ID.match(doc_id):
        raise IngestError(f"not a valid doc_id: {doc_id!r}")
    with corpus_lock(corpus):
        paths = [p for p in (corpus / f"{doc_id}.txt", corpus / f"{doc_id}.md") if p.is_file()]
        if not paths:
            raise IngestError(f"{doc_id}: no such document in {corpus}")
        records = read_records(corpus)
        if any(r.get("doc_id") == doc_id for r in records):
            kept = [r for r in records if r.get("doc_id") != doc_id]
            atomic_write(corpus / METADATA_FILE, json.dumps(kept, ensure_ascii=False, indent=2) + "\n")
        for path in paths:
            path.unlink()


def read_records(corpus: Path) -> list[dict]:
    """metadata.json's records in file order (none when absent); a corrupt file is an error."""
    try:
        return list(load_metadata(corpus).values())
    except ValueError as exc:
        raise IngestError(f"{corpus / METADATA_FILE}: {exc}") from exc


@contextmanager
def corpus_lock(corpus: Path) -> Iterator[None]:
    """An exclusive lock on the corpus directory, so concurrent writers do not lose metadata records."""
    if not corpus.is_dir():
        raise IngestError(f"corpus directory not found: {corpus}")
    fd = os.open(corpus, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def atomic_write(path: Path, text: str) -> None:
    """Write UTF-8 text byte-exactly via a synced temp file in the same directory and os.replace."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
