"""Opening the index on a thread while a server already answers its protocol: an MCP client's
`initialize` and `tools/list` get their replies at once, and a tool call waits until the index is there."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable

from mcp.server.mcpserver.exceptions import ToolError

from service.asking import Asker

log = logging.getLogger("govqa")

WAIT_SECONDS = 300.0


class BackgroundLoad:
    """An asker opened by `open_asker` on a thread, started by `start` (or by the server's `lifespan`)."""

    def __init__(self, open_asker: Callable[[], Asker], wait_seconds: float = WAIT_SECONDS) -> None:
        self.open_asker = open_asker
        self.wait_seconds = wait_seconds
        self.loaded: Asker | None = None
        self.error: Exception | None = None
        self.done = threading.Event()
        self.listeners: list[Callable[[Asker], None]] = []
        self.thread = threading.Thread(target=self.run, name="govqa-load", daemon=True)

    def start(self) -> None:
        if not self.thread.is_alive() and not self.done.is_set():
            self.thread.start()

    def run(self) -> None:
        try:
            asker = self.open_asker()
            for listener in self.listeners:
                listener(asker)
            self.loaded = asker
        except Exception as exc:  # reported to every tool call instead of ending the server
            log.error("the index could not be loaded: %s", exc)
            self.error = exc
        finally:
            self.done.set()

    def asker(self) -> Asker:
        """The loaded asker, waiting for it if need be; a ToolError that says why when there is none."""
        self.start()
        if not self.done.wait(self.wait_seconds):
            raise ToolError(f"the index is still loading after {self.wait_seconds:.0f} s: try again shortly")
        if self.loaded is None:
            raise ToolError(f"the index could not be loaded: {self.error}")
        return self.loaded

    @contextlib.asynccontextmanager
    async def lifespan(self, _server: object) -> AsyncIterator[None]:
        """Start loading once the server runs (over stdio: after the SDK has moved stray output off the wire)."""
        self.start()
        yield
