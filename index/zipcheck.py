"""A zip's real unpacked size, counted by inflating each entry a bounded block at a time.

The sizes a zip declares are the sender's word: a DOCX whose document.xml declares 1,000 bytes may
inflate to gigabytes, and zipfile's `read()` inflates up to 2 GiB in one call before it notices. Here
each entry's stored bytes are inflated in blocks of at most `BLOCK` bytes and counted; the archive is
refused as soon as the count passes the limit, or when an entry inflates to other than it declares
(a forged size), so the parser that reads the archive afterwards only sees sizes that are true.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

BLOCK = 1 << 20
# signature, version, flags, method, time, date, crc, sizes, name and extra lengths
LOCAL_HEADER = struct.Struct("<4s5H3L2H")


class ZipRefused(ValueError):
    """An archive that is not a zip, uses an unsupported method, forges a size or unpacks to too much."""


class TooLarge(ZipRefused):
    """Inflating passed the allowance."""


def real_sizes(data: bytes, max_total: int, max_entries: int) -> dict[str, int]:
    """Each entry's inflated size, counted; ZipRefused once the total passes `max_total`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except Exception as exc:  # noqa: BLE001 - zipfile raises BadZipFile, ValueError, OSError…
        raise ZipRefused(f"not a zip archive: {exc}") from exc
    if len(entries) > max_entries:
        raise ZipRefused(f"{len(entries)} zip entries, more than {max_entries}")
    sizes: dict[str, int] = {}
    total = 0
    for info in entries:
        try:
            size = inflated_size(data, info, max_total - total)
        except TooLarge:
            raise ZipRefused(f"it unpacks to more than the limit of {max_total} bytes (counted while inflating; "
                             f"{info.filename!r} declares {info.file_size})") from None
        if size != info.file_size:
            raise ZipRefused(f"entry {info.filename!r} declares {info.file_size} bytes but unpacks to {size}")
        sizes[info.filename] = size
        total += size
    return sizes


def stored_bytes(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The entry's compressed bytes, located through its local header."""
    header = data[info.header_offset:info.header_offset + LOCAL_HEADER.size]
    if len(header) < LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise ZipRefused(f"entry {info.filename!r} has no local header")
    fields = LOCAL_HEADER.unpack(header)
    start = info.header_offset + LOCAL_HEADER.size + fields[9] + fields[10]
    return data[start:start + info.compress_size]


def inflated_size(data: bytes, info: zipfile.ZipInfo, allowance: int) -> int:
    """How many bytes the entry really unpacks to, refusing beyond `allowance` without inflating further."""
    if info.flag_bits & 0x1:
        raise ZipRefused(f"entry {info.filename!r} is encrypted")
    packed = stored_bytes(data, info)
    if info.compress_type == zipfile.ZIP_STORED:
        size = len(packed)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        size = counted_inflate(packed, info.filename, allowance)
    else:
        raise ZipRefused(f"entry {info.filename!r} uses compression method {info.compress_type}, which a DOCX does not")
    if size > allowance:
        raise TooLarge()
    return size


def counted_inflate(packed: bytes, name: str, allowance: int) -> int:
    """Inflate raw deflate data block by block, counting; stop one block past the allowance."""
    inflater = zlib.decompressobj(-15)
    size, pending = 0, packed
    try:
        while pending and not inflater.eof:
            size += len(inflater.decompress(pending, BLOCK))
            pending = inflater.unconsumed_tail
            if size > allowance:
                raise TooLarge()
        while not inflater.eof:  # input used up: what the inflater still holds, block by block
            block = inflater.decompress(b"", BLOCK)
            if not block:
                break
            size += len(block)
            if size > allowance:
                raise TooLarge()
    except zlib.error as exc:
        raise ZipRefused(f"entry {name!r} is damaged ({exc})") from exc
    return size

