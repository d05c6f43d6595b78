"""The command line's way to a running govqa server: which one to ask, and asking it over HTTP, so
`govqa ask` answers in milliseconds instead of loading the index and model itself."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TypeVar

import httpx
from pydantic import BaseModel

from govqa.client import GovQA, GovQAError
from service.schemas import AskOut, SearchOut
from service.settings import Mode, Settings

PROBE_SECONDS = 0.5
ASK_SECONDS = 60.0

T = TypeVar("T", bound=BaseModel)


class ServerError(Exception):
    """A server that cannot be reached or refused the request; `status` is the HTTP status (0 when unreachable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def reachable_host(host: str) -> str:
    """The address a client uses for a listen address: a wildcard (every interface) is reached on loopback."""
    try:
        address = ipaddress.ip_address(host) if host else None
    except ValueError:
        return host
    if address is None or address.is_unspecified:
        return "::1" if address is not None and address.version == 6 else "127.0.0.1"
    return host


def local_address(settings: Settings) -> str:
    """Where a server started with these settings listens, as a client reaches it."""
    host = reachable_host(settings.host)
    return f"http://[{host}]:{settings.port}" if ":" in host else f"http://{host}:{settings.port}"


def served_version(url: str, timeout: float = PROBE_SECONDS) -> str | None:
    """The index version a govqa server at `url` serves (GET /readyz is 200), else None."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/readyz", timeout=timeout)
        return str(response.json().get("index_version") or "") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def local_version(settings: Settings) -> str | None:
    from index.store import IndexUnavailable, current_version

    try:
        return current_version(settings.index_dir)
    except (IndexUnavailable, OSError):
        return None


def server_url(explicit: str | None, settings: Settings) -> str | None:
    """The server to ask: --url, else GOVQA_URL, else the configured host and port when a server answers
    there and serves the configured index (or there is none here); None to load the index in process."""
    if explicit or settings.url:
        return (explicit or settings.url or "").rstrip("/")
    configured = local_address(settings)
    served = served_version(configured)
    if served is None:
        return None
    local = local_version(settings)
    return configured if local is None or local == served else None


def asked(url: str, api_key: str | None, request: Callable[[GovQA], BaseModel], out: type[T]) -> T:
    """One request through govqa's client, its reply read as the API's own response model; ServerError
    with the server's message when it refuses, or when it cannot be reached."""
    try:
        with GovQA(url, api_key=api_key, timeout=ASK_SECONDS) as client:
            return out.model_validate(request(client).model_dump())
    except GovQAError as exc:
        raise ServerError(exc.status, f"{url} answered {exc.status}: {exc.message}") from exc
    except httpx.HTTPError as exc:
        raise ServerError(0, f"cannot reach the govqa server at {url} ({type(exc).__name__}: {exc})") from exc


def ask(url: str, settings: Settings, question: str, k: int, mode: Mode | None, doc_ids: list[str] | None) -> AskOut:
    return asked(
        url, settings.api_key, lambda c: c.ask(question, top_k=k, mode=mode or settings.mode, doc_ids=doc_ids), AskOut,
    )


def search(url: str, settings: Settings, query: str, k: int, mode: Mode | None) -> SearchOut:
    return asked(url, settings.api_key, lambda c: c.search(query, k=k, mode=mode or settings.mode), SearchOut)
