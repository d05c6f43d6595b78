"""Logging that an input cannot blow up: JSON lines on a stream, each record bounded in size, repeated
records from one call site rate-limited, and a record that fails to format dropped quietly.

Only an entry point calls `configure` (the server, the MCP stdio server, the CLI, the extraction worker);
`library_logging_kept_out` undoes what a library's constructor does to the root logger (the MCP SDK's
server installs a Rich handler there, which fails with RecursionError on a warning logged from deep
inside a parser, and logging's default `handleError` then prints a 1,000-frame traceback per record).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

MAX_MESSAGE_CHARS = 2000
MAX_TRACEBACK_CHARS = 4000
UNLIMITED_LOGGERS = frozenset({"govqa.requests"})  # one line per request, by design


class RepeatLimit(logging.Filter):
    """Let through at most `burst` records per call site (logger, file, line, level) in each `window`
    seconds; the first record after a window that dropped some says how many were dropped."""

    def __init__(self, burst: int = 10, window: float = 60.0, clock=time.monotonic) -> None:  # noqa: ANN001 - a clock
        super().__init__()
        self.burst = burst
        self.window = window
        self.clock = clock
        self.lock = threading.Lock()
        self.sites: dict[tuple, list[float | int]] = {}  # site -> [window start, passed, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            return self.admit(record)
        except RecursionError:  # called from deep inside a parser: drop the record rather than raise into it
            return False

    def admit(self, record: logging.LogRecord) -> bool:
        if record.name in UNLIMITED_LOGGERS:
            return True
        site = (record.name, record.pathname, record.lineno, record.levelno)
        now = self.clock()
        with self.lock:
            state = self.sites.get(site)
            if state is None or now - state[0] >= self.window:
                dropped = int(state[2]) if state else 0
                if len(self.sites) > 10_000:  # call sites are few; never let the table itself grow without bound
                    self.sites.clear()
                self.sites[site] = [now, 1, 0]
                if dropped:
                    record.suppressed = dropped
                return True
            if state[1] < self.burst:
                state[1] += 1
                return True
            state[2] += 1
            return False


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message (cut to a bound) and any `fields` given
    as `extra={"fields": {...}}`; a traceback is cut too."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception as exc:  # noqa: BLE001 - a bad format string must not lose the line
            message = f"{record.msg!r} (unformattable: {type(exc).__name__})"
        line: dict = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": cut(message, MAX_MESSAGE_CHARS),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        if getattr(record, "suppressed", 0):
            line["suppressed_before"] = record.suppressed
        if record.exc_info:
            line["exception"] = cut(self.formatException(record.exc_info), MAX_TRACEBACK_CHARS)
        return json.dumps(line, ensure_ascii=False, default=str)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, saying how many were left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


class BoundedHandler(logging.StreamHandler):
    """A stream handler whose failures cost nothing: a record that cannot be formatted or written (a
    RecursionError from deep inside a parser, a closed stream) is dropped and counted, never printed
    with a traceback."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self.failed = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            with self.lock:  # type: ignore[union-attr] - StreamHandler always has one
                self.stream.write(line + "\n")
                self.stream.flush()
        except RecursionError:
            self.failed += 1
        except Exception:  # noqa: BLE001 - logging must never raise or print
            self.failed += 1

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        self.failed += 1


def configure(
    level: str = "INFO", stream: TextIO | None = None, *, burst: int = 10, window: float = 60.0
) -> BoundedHandler:
    """Make the root logger write bounded JSON lines to `stream` (stderr by default), replacing its handlers."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = BoundedHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RepeatLimit(burst, window))
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings.warn from parsers goes through the same limit
    return handler


LIBRARY_LOGGERS = ("faiss.loader", "sentence_transformers", "transformers", "httpx", "httpcore")


def configure_process(level: str = "INFO") -> None:
    """A govqa process's logging: bounded JSON lines on stderr, and the libraries' own progress notes
    (which faiss build loaded, each HTTP request made) only at DEBUG."""
    configure(level)
    if level.upper() != "DEBUG":
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def library_logging_kept_out() -> Iterator[None]:
    """Undo, on leaving, whatever the code inside did to the root logger's handlers and level."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
