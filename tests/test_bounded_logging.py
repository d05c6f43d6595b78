"""Logging an input cannot blow up: repeats rate-limited per call site, records bounded in size, a record
that fails deep in a parser's recursion dropped silently, and the MCP SDK's constructor kept off the root logger."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from index.bounded_logging import BoundedHandler, JsonLines, RepeatLimit, configure, library_logging_kept_out


@pytest.fixture()
def captured() -> Iterator[io.StringIO]:
    """The root logger configured by `configure` into a buffer, restored afterwards."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure("INFO", stream, burst=3, window=60)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved:
        root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_repeats_from_one_call_site_are_limited_and_counted(captured: io.StringIO) -> None:
    noisy = logging.getLogger("pypdf._reader")
    for offset in range(1000):
        noisy.warning("Multiple definitions in dictionary at byte %#x for key /A", offset)  # one call site
    logging.getLogger("govqa").warning("a different call site")
    written = lines(captured)
    assert [line["logger"] for line in written].count("pypdf._reader") == 3
    assert written[-1]["message"] == "a different call site"


def test_a_window_later_the_first_record_says_how_many_were_dropped() -> None:
    now = [0.0]
    limit = RepeatLimit(burst=2, window=10, clock=lambda: now[0])
    record = logging.LogRecord("pypdf", logging.WARNING, "x.py", 1, "warn", None, None)
    assert [limit.filter(record) for _ in range(5)] == [True, True, False, False, False]
    now[0] = 11.0
    assert limit.filter(record) and record.suppressed == 3


def test_requests_are_never_limited(captured: io.StringIO) -> None:
    requests = logging.getLogger("govqa.requests")
    for n in range(50):
        requests.info("request", extra={"fields": {"path": "/healthz", "n": n}})
    written = [line for line in lines(captured) if line["logger"] == "govqa.requests"]
    assert len(written) == 50 and written[7]["n"] == 7 and written[0]["path"] == "/healthz"


def test_a_record_is_bounded_in_size(captured: io.StringIO) -> None:
    try:
        raise ValueError("x" * 100_000)
    except ValueError:
        logging.getLogger("govqa").exception("y" * 100_000)
    assert len(captured.getvalue()) < 10_000


class TooDeep(logging.Formatter):
    """A formatter that fails the way Rich's did when a parser logged from 1,000 frames down."""

    def format(self, record: logging.LogRecord) -> str:
        raise RecursionError("maximum recursion depth exceeded")


@pytest.mark.parametrize("handler_class", [BoundedHandler, logging.StreamHandler])
def test_a_record_that_fails_to_format_is_dropped_not_printed(
    handler_class: type, capsys: pytest.CaptureFixture,
) -> None:
    handler = handler_class(io.StringIO())
    handler.setFormatter(TooDeep())
    logger = logging.getLogger(f"deep.{handler_class.__name__}")
    logger.propagate, logger.handlers = False, [handler]
    raised = 0
    try:
        for n in range(100):
            try:
                logger.warning("deep: %d", n)
            except RecursionError:
                raised += 1
    finally:
        logger.handlers, logger.propagate = [], True
    if handler_class is BoundedHandler:
        assert capsys.readouterr().err == "" and handler.failed == 100 and raised == 0
    else:  # logging's own stream handler raises it into the code that logged (a parser, mid-recursion)
        assert raised == 100


def test_the_mcp_servers_constructor_leaves_the_root_logger_alone(captured: io.StringIO) -> None:
    from service.mcp_server import build_server

    before = list(logging.getLogger().handlers)
    build_server(lambda: None)
    assert logging.getLogger().handlers == before


def test_without_the_guard_the_sdk_would_install_its_handler() -> None:
    """What the guard undoes: the SDK's constructor adds a handler to a root logger that has none."""
    from mcp.server.mcpserver import MCPServer

    root = logging.getLogger()
    saved = list(root.handlers)
    for handler in saved:
        root.removeHandler(handler)
    try:
        with library_logging_kept_out():
            MCPServer("probe", log_level="WARNING")
            installed = [type(h).__name__ for h in root.handlers]
        assert installed == ["RichHandler"]
        assert root.handlers == []
    finally:
        for handler in saved:
            root.addHandler(handler)
