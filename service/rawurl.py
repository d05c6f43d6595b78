"""Accepting request targets with raw UTF-8, as curl sends `?q=首尔峰会`.

RFC 9112 wants non-ASCII bytes in a URL percent-encoded, and h11 (uvicorn's HTTP/1.1
parser) rejects them with 400; nginx and most servers accept them. govqa accepts them
in the query string: h11's request-line pattern is widened to admit bytes 0x80–0xFF, and
an ASGI middleware percent-encodes those bytes so the framework decodes them as UTF-8.
The widening changes h11 for the whole process, so the entry point (`govqa serve`) makes it.
"""

from __future__ import annotations

import re
from urllib.parse import quote_from_bytes

PRINTABLE_ASCII = bytes(range(0x21, 0x7F)).decode("ascii")


def widen_h11_request_line() -> None:
    """Let h11 read request targets that contain bytes 0x80–0xFF (idempotent)."""
    import h11._abnf as abnf
    import h11._events as events
    import h11._readers as readers

    target = r"[\x21-\x7e\x80-\xff]+"
    readers.request_line_re = re.compile(abnf.request_line.replace(abnf.request_target, target, 1).encode("ascii"))
    events.request_target_re = re.compile(target.encode("ascii"))


class PercentEncodeQuery:
    """ASGI middleware: percent-encode raw non-ASCII bytes of the query string."""

    def __init__(self, app) -> None:  # noqa: ANN001 - any ASGI app
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] == "http" and any(b >= 0x80 for b in scope.get("query_string", b"")):
            # in place: the server's access log reads the same scope and expects ASCII
            scope["query_string"] = quote_from_bytes(scope["query_string"], safe=PRINTABLE_ASCII).encode("ascii")
        await self.app(scope, receive, send)
