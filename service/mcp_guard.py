"""The door in front of the MCP SDK's session manager at /mcp: a per-client session limit, short lives for
sessions nobody uses, and optionally the API key.

The SDK keeps up to 10,000 sessions for 30 idle minutes each, and anyone may open one with a single
unauthenticated `initialize`: about 10,000 requests lock every new client out (503 "Too many open
sessions") for half an hour. Here a session starts with the short idle timeout
GOVQA_MCP_UNUSED_SESSION_SECONDS (the manager's own), and only a session whose client comes back
with its id gets GOVQA_MCP_IDLE_SESSION_SECONDS; one client address may hold at most
GOVQA_MCP_SESSIONS_PER_CLIENT sessions (openings in flight counted), and gets 429 beyond that.
"""

import hmac
import json
from collections import Counter
from typing import Any

from mcp.server.mcpserver import MCPServer
from starlette.types import Message, Receive, Scope, Send

from service.settings import Settings

SESSION_HEADER = b"mcp-session-id"
FULL_SWEEP_EVERY = 1000  # openings between sweeps of the whole owner table


class SessionGuard:
    """The ASGI app behind /mcp: checks the key and the client's session count, then hands the request
    to the session manager of the app's current run."""

    def __init__(self, server: MCPServer, settings: Settings) -> None:
        self.server = server
        self.settings = settings
        self.owners: dict[str, str] = {}  # open session id -> the client address that opened it
        self.by_client: dict[str, set[str]] = {}
        self.pending: Counter[str] = Counter()  # openings in flight per client address
        self.used: set[str] = set()
        self.openings = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self.server.session_manager
        if scope["type"] != "http":
            await manager.handle_request(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is not None:
            await respond(send, *refusal)
            return
        session = header(scope, SESSION_HEADER)
        client = client_address(scope)
        if session is None:  # the manager opens a session for any request without an id
            await self.open(client, scope, receive, send)
            return
        if session is not None and session in self.owners and session not in self.used:
            self.used.add(session)
            self.lengthen(session)
        await manager.handle_request(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """401/403 when /mcp requires the API key and the request does not carry it."""
        if not self.settings.mcp_require_key:
            return None
        expected = self.settings.api_key
        if not expected:
            return 403, "MCP requires a key (GOVQA_MCP_REQUIRE_KEY) but no GOVQA_API_KEY is set", {}
        scheme, _, given = (header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected.encode()):
            return 401, "missing or wrong API key", {"www-authenticate": "Bearer"}
        return None

    async def open(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        """A request that would open a session: refused with 429 when its client holds its share."""
        self.openings += 1
        if self.openings % FULL_SWEEP_EVERY == 0:
            self.sweep(list(self.by_client))
        else:
            self.sweep([client])
        limit = self.settings.mcp_sessions_per_client
        if len(self.by_client.get(client, ())) + self.pending[client] >= limit:
            retry = str(max(1, round(self.settings.mcp_unused_session_seconds)))
            await respond(
                send, 429, f"too many open MCP sessions from this address (at most {limit})", {"retry-after": retry},
            )
            return
        self.pending[client] += 1

        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                opened = dict(message.get("headers") or []).get(SESSION_HEADER)
                if opened and message.get("status", 500) < 400:
                    session = opened.decode("latin-1")
                    self.owners[session] = client
                    self.by_client.setdefault(client, set()).add(session)
            await send(message)

        try:
            await self.server.session_manager.handle_request(scope, receive, noting_send)
        finally:
            self.pending[client] -= 1
            if not self.pending[client]:
                del self.pending[client]

    def sweep(self, clients: list[str]) -> None:
        """Forget the sessions of these clients that the manager has ended (expired, deleted, failed)."""
        alive = self.open_sessions()
        for client in clients:
            sessions = self.by_client.get(client, set())
            for session in [s for s in sessions if s not in alive]:
                sessions.discard(session)
                self.owners.pop(session, None)
                self.used.discard(session)
            if not sessions:
                self.by_client.pop(client, None)

    def open_sessions(self) -> Any:  # noqa: ANN401 - the manager's own mapping, used read-only
        """The session ids the manager holds (the SDK has no public view of them)."""
        return getattr(self.server.session_manager, "_server_instances", {})

    def lengthen(self, session: str) -> None:
        """A session its client came back to: give it the long idle timeout from its next quiet moment.
        (The transport re-arms its idle deadline from this value after each request.)"""
        transport = self.open_sessions().get(session)
        if transport is not None and hasattr(transport, "_idle_timeout"):
            transport._idle_timeout = self.settings.mcp_idle_session_seconds


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key == name:
            return value.decode("latin-1")
    return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def respond(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    """A JSON-RPC error with no id, as the SDK answers refusals."""
    body = json.dumps({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]})
    await send({"type": "http.response.body", "body": body})
