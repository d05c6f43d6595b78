"""One error shape for every failure, `{"error": {"code", "message", "detail"}}`, and the
request guards that produce some of them: a body-size limit enforced before a body is
read whole, and a request id on every response.

No `from __future__ import annotations`: FastAPI reads the handler signatures at run time.
"""

import json
import logging
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("govqa.requests")

MAX_BODY_BYTES = 64 * 1024
CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "invalid_request",
    500: "internal_error", 503: "unavailable", 507: "insufficient_storage",
}


def error_body(status: int, message: str, detail: object = None) -> dict:
    return {"error": {"code": CODES.get(status, f"http_{status}"), "message": message, "detail": detail}}


def validation_message(errors: list[dict]) -> str:
    """The first invalid field, named the way a client sent it."""
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return f"{where or 'request'}: {first.get('msg', 'invalid')}"


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first matching route's)."""
    def served(method: str) -> bool:
        scope = {**request.scope, "method": method}
        return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)

    return [m for m in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE") if served(m)]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return JSONResponse(error_body(exc.status_code, message), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(error_body(422, validation_message(errors), errors), status_code=422)


class BodyLimit:
    """ASGI middleware: 413 for a body over the limit, judged by Content-Length before reading,
    and by counting for a body sent without one."""

    def __init__(self, app, limit: int = MAX_BODY_BYTES, uploads: tuple[str, int] | None = None) -> None:  # noqa: ANN001 - an ASGI app
        self.app = app
        self.limit = limit
        self.uploads = uploads

    def limit_for(self, scope: dict) -> int:
        """The limit of a request: the upload limit for POSTs to the upload path, the body limit otherwise."""
        if self.uploads and scope["method"] == "POST" and scope["path"] == self.uploads[0]:
            return self.uploads[1]
        return self.limit

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self.reject(send, limit)
        state = {"received": 0, "too_large": False, "replied": False}

        async def counting_receive() -> dict:
            message = await receive()
            state["received"] += len(message.get("body", b""))
            if state["received"] > limit:
                state["too_large"] = True
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict) -> None:
            if not state["too_large"]:
                await send(message)
            elif message["type"] == "http.response.start" and not state["replied"]:
                state["replied"] = True
                await self.reject(send, limit)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not state["too_large"]:
                raise
            if not state["replied"]:
                await self.reject(send, limit)

    async def reject(self, send, limit: int) -> None:  # noqa: ANN001
        body = json.dumps(error_body(413, f"request body over {limit} bytes")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [
                        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                        (b"connection", b"close"),
                    ]})
        await send({"type": "http.response.body", "body": body})


def install_request_ids(app: FastAPI) -> None:
    """Every response carries X-Request-ID (the client's, when it sent a sane one), and every
    request is logged as one JSON line: route, status, latency; never the body."""

    @app.middleware("http")
    async def request_id(request: Request, call_next):  # noqa: ANN001, ANN202
        sent = request.headers.get("x-request-id", "")
        rid = sent if 0 < len(sent) <= 128 and sent.isprintable() and sent.isascii() else uuid.uuid4().hex
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-ID"] = rid
        log.info("request", extra={"fields": {
            "request_id": rid, "method": request.method, "path": request.url.path, "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 2), "query_chars": len(request.url.query),
        }})
        return response
