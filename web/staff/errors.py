"""Errors on /staff pages as pages: a redirect stays a redirect, 403 and 404 are Persian pages."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from web.staff.render import Pages

HEADINGS = {
    403: ("دسترسی ندارید", "نقش شما اجازه این کار یا دیدن این صفحه را نمی‌دهد."),
    404: ("پیدا نشد", "صفحه یا موردی که خواستید نیست."),
}


def error_pages(pages: Pages):  # type: ignore[no-untyped-def]
    def render(request: Request, error: HTTPException) -> Response | None:
        if not request.url.path.startswith("/staff"):
            return None
        if 300 <= error.status_code < 400 and error.headers and "Location" in error.headers:
            if request.headers.get("hx-request"):  # htmx follows HX-Redirect, not a 303 inside a fragment
                return Response(status_code=204, headers={"HX-Redirect": error.headers["Location"]})
            return RedirectResponse(error.headers["Location"], status_code=error.status_code)
        heading, message = HEADINGS.get(error.status_code, ("خطا", str(error.detail)))
        return pages.render(request, "staff/error.html", status_code=error.status_code, status=error.status_code,
                            heading=heading, message=message)
    return render
