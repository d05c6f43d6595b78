"""The base URL that links in answers start with: GOVQA_PUBLIC_URL, else the address of the socket the
request came in on, never the client's Host header (`Host: evil.example:666` would send readers there).

No `from __future__ import annotations` here, like the other modules FastAPI routes use.
"""

from fastapi import Request


def public_base_url(request: Request) -> str:
    """The base URL, ending with '/'."""
    settings = request.app.state.settings
    if settings.public_url:
        return settings.public_url.rstrip("/") + "/"
    server = request.scope.get("server")
    host, port = (server[0], server[1]) if server else (settings.host, settings.port)
    host = f"[{host}]" if ":" in str(host) else host
    # set from X-Forwarded-Proto only for trusted proxies
    scheme = "https" if request.scope.get("scheme") == "https" else "http"
    return f"{scheme}://{host}:{port}/"
