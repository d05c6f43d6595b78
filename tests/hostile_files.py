"""Small generators of hostile uploads, each the shape of an attack that once cost govqa dearly
(used by tests/test_hostile_uploads.py and scripts/fuzz_ingest.py)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib


def pdf_of(objects: list[bytes]) -> bytes:
    """A PDF with these objects (1 0 obj is the catalog), a correct xref table and trailer."""
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(content: bytes) -> bytes:
    packed = zlib.compress(content, 9)
    return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def deeply_nested_pdf(depth: int = 50_000) -> bytes:
    """About 1 KB: a content stream with a BDC operator followed by `depth` nested `<< /A` dictionaries,
    which make pypdf warn from deep recursion (hole 1: a logging handler that failed there printed a
    1,000-frame traceback per warning)."""
    content = b"/Tag BDC " + b"<< /A " * depth + b"\nBT /F1 12 Tf 72 712 Td (Hello) Tj ET\n"
    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        stream(content),
        FONT,
    ])


def shared_stream_pdf(pages: int = 1999, stream_bytes: int = 256 * 1024) -> bytes:
    """About 300 KB: `pages` pages that all share one content stream of `stream_bytes` of text operators,
    so extraction parses that stream once per page (hole 3: about 22 minutes of CPU)."""
    line = b"BT /F1 1 Tf 10 10 Td (a) Tj ET\n"
    content = line * (stream_bytes // len(line))
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
        b" /Resources << /Font << /F1 4 0 R >> >> >>"
    )
    return pdf_of([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        stream(content),
        FONT,
        *[page] * pages,
    ])


def minimal_docx_parts(body_xml: bytes) -> dict[str, bytes]:
    """The parts of a one-paragraph DOCX whose document.xml body is `body_xml`."""
    return {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Override PartName="/word/document.xml"'
            b' ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            b"</Types>"
        ),
        "_rels/.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1"'
            b' Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"'
            b' Target="word/document.xml"/>'
            b"</Relationships>"
        ),
        "word/document.xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            b"<w:body>" + body_xml + b"</w:body></w:document>"
        ),
    }


def forged_size_docx(inflated_bytes: int = 1 << 30, declared_bytes: int = 1000) -> bytes:
    """A DOCX whose word/document.xml declares `declared_bytes` (sizes and CRC forged in both headers)
    but inflates to `inflated_bytes` of XML whitespace (hole 2: zipfile inflated up to 2 GiB in one call)."""
    parts = minimal_docx_parts(b"<w:p><w:r><w:t>bomb</w:t></w:r></w:p>")
    head, tail = parts["word/document.xml"].split(b"<w:body>")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = [compressor.compress(head + b"<w:body>")]
    block = b" " * (1 << 20)
    for _ in range(inflated_bytes // len(block)):
        packed.append(compressor.compress(block))
    packed.append(compressor.compress(tail))
    packed.append(compressor.flush())
    deflated = b"".join(packed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != "word/document.xml":
                archive.writestr(name, data)
    return append_raw_entry(
        buffer.getvalue(), "word/document.xml", deflated, declared_bytes, zlib.crc32(b"x" * declared_bytes)
    )


def append_raw_entry(archive: bytes, name: str, deflated: bytes, declared_size: int, crc: int) -> bytes:
    """Add an entry of already deflated bytes with the sizes and CRC given (forged) to a zip's bytes."""
    with zipfile.ZipFile(io.BytesIO(archive)) as existing:
        entries = [(info, existing.read(info)) for info in existing.infolist()]
    out, central = bytearray(), bytearray()
    for info, data in entries:
        packed = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = packed.compress(data) + packed.flush()
        central += entry(out, info.filename.encode(), body, len(data), zlib.crc32(data))
    central += entry(out, name.encode(), deflated, declared_size, crc)
    count = len(entries) + 1
    start = len(out)
    out += central
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
    return bytes(out)


def entry(out: bytearray, name: bytes, body: bytes, size: int, crc: int) -> bytes:
    """Write one local header and its data to `out`; return its central-directory record."""
    offset = len(out)
    out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body), size, len(name), 0) + name + body
    return struct.pack(
        "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(body), size, len(name), 0, 0, 0, 0, 0, offset
    ) + name


def sentence_flood(total_bytes: int = 1 << 20) -> bytes:
    """Valid UTF-8 text of `好。` repeated to `total_bytes` (hole 4: 174,762 sentences from 1 MB)."""
    unit = "好。".encode()
    return unit * (total_bytes // len(unit))


def endless_line(total_bytes: int = 19 * (1 << 20)) -> bytes:
    """One line of `a` without any sentence end (hole 4: it held the rebuild lock for over 10 minutes)."""
    return b"a" * total_bytes
