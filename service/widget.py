"""The embeddable ask widget, `GET /widget.js` (service/static/widget.js): served so that any page may load it
(`Cross-Origin-Resource-Policy: cross-origin`); the questions it sends to /v1/ask are cross-origin requests,
which only the origins in GOVQA_CORS_ORIGINS may read.

No `from __future__ import annotations`: FastAPI reads the route signatures at run time.
"""

from fastapi import APIRouter
from fastapi.responses import FileResponse

from service.web import STATIC_DIR

router = APIRouter()
WIDGET_HEADERS = {
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@router.get("/widget.js", include_in_schema=False)
def widget() -> FileResponse:
    """The ask widget's script."""
    return FileResponse(STATIC_DIR / "widget.js", media_type="text/javascript; charset=utf-8", headers=WIDGET_HEADERS)
