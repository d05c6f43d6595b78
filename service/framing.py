"""Request heads whose framing a proxy in front could read differently are refused (400, connection closed).

h11 accepts a request carrying both Content-Length and Transfer-Encoding (it frames by the latter)
and lines ended by a bare LF. Behind a proxy that frames by Content-Length, or splits lines only at
CRLF, the two disagree about where a request ends, which is how requests are smuggled past a proxy.
`StrictFraming` checks each request head as it arrives, before h11 parses it.
"""

from __future__ import annotations

import logging
import re

import h11

log = logging.getLogger("uvicorn.error")

HEAD_END = b"\r\n\r\n"
BARE_LF = re.compile(rb"(?<!\r)\n")
CONTENT_LENGTH = re.compile(rb"\r\ncontent-length[ \t]*:", re.IGNORECASE)
TRANSFER_ENCODING = re.compile(rb"\r\ntransfer-encoding[ \t]*:", re.IGNORECASE)
MAX_HEAD_SCAN = 256 * 1024  # beyond this h11's own head-size limit has already answered


def refused_framing(head: bytes) -> str | None:
    """Why a request head (without its final blank line) is ambiguous, or None."""
    if BARE_LF.search(head):
        return "a line ends with a bare LF (CRLF is required)"
    if CONTENT_LENGTH.search(head) and TRANSFER_ENCODING.search(head):
        return "both Content-Length and Transfer-Encoding are present"
    return None


def bad_request(reason: str) -> bytes:
    body = f"Bad Request: {reason}".encode()
    return (b"HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)) + body


class StrictFraming:
    """A mixin for uvicorn's h11 protocol: scans each request head before h11 parses it."""

    head_seen = b""

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and len(self.head_seen) < MAX_HEAD_SCAN:  # type: ignore[attr-defined]
            self.head_seen += data
            end = self.head_seen.find(HEAD_END)
            reason = refused_framing(self.head_seen if end < 0 else self.head_seen[:end])
            if reason is not None:
                self.refuse(reason)
                return
            if end >= 0:
                self.head_seen = b""
        else:
            self.head_seen = b""
        super().data_received(data)  # type: ignore[misc]

    def refuse(self, reason: str) -> None:
        transport = self.transport  # type: ignore[attr-defined]
        log.info("refused a request whose framing is ambiguous: %s", reason)
        transport.write(bad_request(reason))
        transport.close()
