"""The integration API's plumbing: one ASGI middleware (request id, body limit, metrics, access log) and
the routes beside the API proper: `GET /metrics`, `GET /v1/openapi.json`, `GET /v1/docs`.

The docs page is a small local page (web/static/api/docs.html) that renders /v1/openapi.json: it loads
nothing from outside the server (municipal networks are closed).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from importlib import resources
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.metrics import CONTENT_TYPE_LATEST, Metrics
from web.errors import error_body

log = logging.getLogger("eblagh.api")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("eblagh_request_id", default=None)
"""The request being served (logs carry it: bot/log_format.py)."""

_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _TooLarge(Exception):
    pass


class ApiMiddleware:
    """Request id (X-Request-Id, kept when the caller sends a sane one), the body limit (413), the
    requests-by-route-and-status metric and one access log line per request (no key, no body)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body: int, max_upload: int,
                 upload_paths: tuple[str, ...] = ("/v1/imports",)) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.max_upload = max_upload
        self.upload_paths = upload_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        given = headers.get("x-request-id", "")
        rid = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        limit = self.max_upload if scope["path"] in self.upload_paths else self.max_body
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            length = headers.get("content-length", "")
            if length.isdigit() and int(length) > limit:
                raise _TooLarge
            await self.app(scope, limited_receive, send_with_id)
        except _TooLarge:
            if status["sent"]:
                raise
            body = error_body(413, "too_large", f"the request body is larger than {limit} bytes",
                              "بدنهٔ درخواست بزرگ‌تر از حد مجاز است")
            await JSONResponse(body, status_code=413)(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.api_requests.labels(scope["method"], route, str(status["code"])).inc()
            self.metrics.api_latency.labels(route).observe(elapsed)
            state = scope.get("state") or {}
            log.info("%s %s %s %.1fms key=%s", scope["method"], route, status["code"], elapsed * 1000,
                     state.get("api_key_name", "-"))
            request_id.reset(token)


def build_router(metrics: Metrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response, include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @router.get("/v1/openapi.json", include_in_schema=False)
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(api_schema(request.app))

    @router.get("/v1/docs", include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        page = resources.files("web").joinpath("static/api/docs.html").read_text(encoding="utf-8")
        return HTMLResponse(page, headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' "
                                           "'unsafe-inline'; script-src 'self' 'unsafe-inline'"})

    return router


def api_schema(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI of /v1 and the health routes (the staff pages are not part of the API)."""
    schema = json.loads(json.dumps(app.openapi()))
    schema["paths"] = {path: item for path, item in schema.get("paths", {}).items()
                       if path.startswith("/v1/") or path in ("/healthz", "/readyz")}
    schema["info"].update(title="eblagh integration API", version="1",
                          description="Citizens, cases and rulings from the commission's case system; rulings' "
                          "service status as a feed and as signed callbacks (Standard Webhooks).")
    return schema
