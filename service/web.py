"""The web page at `/`: static HTML, CSS and plain JavaScript from service/static, calling the same HTTP API.

No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"

# Everything the page needs comes from this server; document text can never run as script.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class NoCacheStatic(StaticFiles):
    """Static files revalidated on every load, so a new release's script never meets an old page."""

    def file_response(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - StaticFiles' own signature
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install_web(app: FastAPI) -> None:
    """Serve the page at `/` and its assets under `/static`; the API's own routes are left as they are."""
    app.mount("/static", NoCacheStatic(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        """The ask-and-read page."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
