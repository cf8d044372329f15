"""One error body everywhere: `{"error": {"status", "code", "message", "message_fa"}}`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException


def error_body(status: int, code: str, message: str, message_fa: str = "") -> dict[str, object]:
    return {"error": {"status": status, "code": code, "message": message, "message_fa": message_fa}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        # An area with its own pages (the staff dashboard) may answer its errors in HTML.
        html_errors = request.app.state.deps.extra.get("html_errors")
        if html_errors is not None:
            page = html_errors(request, error)
            if page is not None:
                return page  # type: ignore[no-any-return]
        code = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited"}.get(error.status_code, "error")
        detail = error.detail
        if isinstance(detail, dict):  # {"message", "message_fa"[, "code"]}: the Persian text too
            body = error_body(error.status_code, str(detail.get("code") or code), str(detail.get("message", "")),
                              str(detail.get("message_fa", "")))
        else:
            body = error_body(error.status_code, code, str(detail))
        return JSONResponse(body, status_code=error.status_code, headers=getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        body = error_body(422, "invalid", "the request does not match the schema", "درخواست با قالب تعریف‌شده نمی‌خواند")
        body["error"]["details"] = [  # type: ignore[index]
            {"field": ".".join(str(p) for p in item.get("loc", ())), "reason": item.get("msg", "")}
            for item in error.errors()]
        return JSONResponse(body, status_code=422)
