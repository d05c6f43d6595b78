"""The command line's way to a running govqa server: which one to ask, and asking it over HTTP, so
`govqa ask` answers in milliseconds instead of loading the index and model itself."""

from __future__ import annotations

import ipaddress

import httpx

from service.schemas import AskOut, SearchOut
from service.settings import Mode, Settings

PROBE_SECONDS = 0.5
ASK_SECONDS = 60.0


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


def error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return str(error.get("message") or response.text)
    except ValueError:
        return response.text or response.reason_phrase


def call(url: str, api_key: str | None, method: str, path: str, **kwargs) -> dict:  # noqa: ANN003 - httpx request arguments
    """One request to the server: its JSON, or ServerError with the server's own message."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.request(method, f"{url}{path}", headers=headers, timeout=ASK_SECONDS, **kwargs)
    except httpx.HTTPError as exc:
        raise ServerError(0, f"cannot reach the govqa server at {url} ({type(exc).__name__}: {exc})") from exc
    if response.status_code != 200:
        raise ServerError(response.status_code, f"{url} answered {response.status_code}: {error_message(response)}")
    return response.json()


def ask(url: str, api_key: str | None, question: str, k: int, mode: Mode | None, doc_ids: list[str] | None) -> AskOut:
    body: dict = {"question": question, "top_k": k, "mode": mode or "hybrid"}
    if doc_ids:
        body["doc_ids"] = doc_ids
    return AskOut.model_validate(call(url, api_key, "POST", "/v1/ask", json=body))


def search(url: str, api_key: str | None, query: str, k: int, mode: Mode | None) -> SearchOut:
    params = {"q": query, "k": k, "mode": mode or "hybrid"}
    return SearchOut.model_validate(call(url, api_key, "GET", "/v1/search", params=params))
