"""The OpenAPI pages, `/docs` (Swagger UI) and `/redoc`, with their scripts and styles served by govqa itself
from the fastapi-offline package, so they render with no network (FastAPI's defaults load them from a CDN)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS_URL = "/docs-static"
NO_ICON = "data:,"  # no favicon request at all
# ReDoc's bundle draws Redocly's logo from their CDN; served without that address, the image fails and is hidden.
REDOC_LOGO = 'src:"https://cdn.redoc.ly/redoc/logo-mini.svg"'


def install_docs(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page and /redoc on local assets (the app is made with docs_url=None,
    redoc_url=None)."""
    @app.get(f"{ASSETS_URL}/redoc.offline.js", include_in_schema=False)
    def redoc_script() -> Response:
        """ReDoc's standalone bundle with no address outside govqa."""
        return Response(offline_redoc(), media_type="text/javascript")

    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-static")
    redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        """Swagger UI over /openapi.json."""
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} API", oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css", swagger_favicon_url=NO_ICON,
        )

    @app.get(redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        """Swagger UI's OAuth2 redirect page."""
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        """ReDoc over /openapi.json, without web fonts."""
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}", title=f"{app.title} API",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.offline.js", redoc_favicon_url=NO_ICON, with_google_fonts=False,
        )


@cache
def offline_redoc() -> str:
    """The ReDoc bundle of the fastapi-offline package, its one CDN address (a logo) replaced by an empty image."""
    return (ASSETS / "redoc.standalone.js").read_text(encoding="utf-8").replace(REDOC_LOGO, f'src:"{NO_ICON}"')
