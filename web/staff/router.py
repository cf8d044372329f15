"""The /staff routes, one module per area, each declaring its permission (web/staff/guard.py)."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from web.staff import admin_pages, auth_pages, message_pages, notice_pages
from web.staff.guard import public
from web.staff.render import STATIC, Pages


def build_staff_router() -> APIRouter:
    pages = Pages()
    router = APIRouter(prefix="/staff", tags=["staff pages"], include_in_schema=False)
    auth_pages.add_routes(router, pages)
    notice_pages.add_routes(router, pages)
    message_pages.add_routes(router, pages)
    admin_pages.add_routes(router, pages)

    @router.get("/static/{name:path}", dependencies=[public()])
    async def static(name: str) -> Response:
        path = (STATIC / name).resolve()
        if not path.is_relative_to(STATIC) or not path.is_file() or path.suffix not in (
                ".js", ".css", ".woff2", ".png", ".svg", ".txt", ".md"):
            raise HTTPException(404, "no such file")
        kind = "font/woff2" if path.suffix == ".woff2" else mimetypes.guess_type(path.name)[0] or "text/plain"
        return FileResponse(path, media_type=kind, headers={"Cache-Control": "public, max-age=3600"})

    return router

