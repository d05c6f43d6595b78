"""Deadlines for slow clients, which uvicorn's h11 protocol does not have, and the uvicorn
options `govqa serve` runs with.

uvicorn (0.54) times out a connection only while it idles *after* a response
(`timeout_keep_alive`): a connection that sends nothing, sends its request head a byte at
a time, or trickles its body is held for ever, and each one holds a socket and counts
against `limit_concurrency`. `GuardedH11Protocol` adds two deadlines:

- the request head must arrive whole within `header_timeout` seconds of the connection
  opening, or of the first byte of a next request on a kept-alive connection;
- the body must arrive within `body_timeout` seconds of the head, plus one second for
  every `body_min_rate` bytes received (so a large upload at a sound rate is not cut,
  and a trickle is), like Apache's mod_reqtimeout. The clock restarts while the server
  itself has paused reading because the app is slow to take the body.

A connection that misses a deadline is answered 408 (unless it sent nothing, or a
response has begun) and closed; the app, if it is reading the body, sees http.disconnect.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.framing import StrictFraming
from service.settings import Settings

log = logging.getLogger("uvicorn.error")

TIMEOUT_408 = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 15\r\nconnection: close\r\n\r\nRequest Timeout"
)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header-read and a body-read deadline."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    body_min_rate: float = 1024.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phase: str | None = None  # "head", "body" or None (no deadline)
        self.phase_started = 0.0
        self.body_received = 0
        self.deadline: asyncio.TimerHandle | None = None
        self.upgraded = False  # handed to a WebSocket protocol: no longer ours to time

    # The hooks: after anything that can change what the connection waits for, see which deadline applies.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.watch()

    def data_received(self, data: bytes) -> None:
        if self.phase == "body":
            self.body_received += len(data)
        super().data_received(data)
        self.watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self.upgraded = True
        self.stop()
        super().handle_websocket_upgrade(event)

    def waiting_for(self) -> str | None:
        """The part of a request the connection is waiting for from the client, if it has a deadline."""
        if self.upgraded or self.transport is None or self.transport.is_closing():
            return None
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            return "body"
        if state is h11.IDLE and self.timeout_keep_alive_task is None:  # idle between requests: keep-alive's timeout
            return "head"
        return None

    def watch(self) -> None:
        phase = self.waiting_for()
        if phase == self.phase:
            return
        self.stop()
        self.phase = phase
        if phase is not None:
            self.phase_started = self.loop.time()
            self.body_received = 0
            self.deadline = self.loop.call_later(
                self.header_timeout if phase == "head" else self.body_timeout, self.expire,
            )

    def stop(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        self.phase = None

    def expire(self) -> None:
        self.deadline = None
        if self.phase != self.waiting_for():
            self.watch()
            return
        now = self.loop.time()
        if self.phase == "body":
            if self.flow.read_paused:  # the app is slow to take the body, not the client to send it
                self.phase_started, self.body_received = now, 0
            left = self.phase_started + self.body_timeout + self.body_received / self.body_min_rate - now
            if left > 0:
                self.deadline = self.loop.call_later(left, self.expire)
                return
        self.close_slow(now - self.phase_started)

    def close_slow(self, waited: float) -> None:
        """Answer 408 when there is a request to answer, and close the connection."""
        phase = self.phase
        self.stop()
        started = self.conn.their_state is not h11.IDLE or bool(self.conn.trailing_data[0])
        cycle = self.cycle if phase == "body" else None
        if started and (cycle is None or not cycle.response_started):
            self.transport.write(TIMEOUT_408)
        if cycle is not None:  # the app now sees http.disconnect, and its response goes nowhere
            cycle.disconnected = True
            cycle.message_event.set()
        client = "%s:%d - " % self.client if self.client else ""
        log.info("%sclosed a slow connection: request %s not received in %.1f s", client, phase, waited)
        self.transport.close()


def guarded_protocol(settings: Settings) -> type[GuardedH11Protocol]:
    """The protocol class with the deadlines of these settings, refusing ambiguous framing (service.framing)."""
    return type("GuardedH11Protocol", (StrictFraming, GuardedH11Protocol), {
        "header_timeout": settings.header_timeout_seconds,
        "body_timeout": settings.body_timeout_seconds,
        "body_min_rate": settings.body_min_bytes_per_second,
    })


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for uvicorn.run or uvicorn.Config: the address, the guarded h11 protocol,
    the connection limit and the keep-alive and shutdown timeouts of these settings."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": guarded_protocol(settings),
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        "log_config": None,  # govqa's entry point configures logging; uvicorn's records reach its handler
        "access_log": False,  # govqa logs each request once itself (service.errors)
        "log_level": settings.log_level.lower(),
        "proxy_headers": bool(settings.trusted_proxies),  # X-Forwarded-For/-Proto only from the configured proxies
        "forwarded_allow_ips": settings.trusted_proxies or [],
    }
