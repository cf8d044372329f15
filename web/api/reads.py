"""`GET /v1/rulings/{ruling_id}` and the event feed `GET /v1/events`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request

from services.api_keys import ApiRole, KeyInfo
from web.api.deps import api_of, problem, require
from web.api.models import BIGINT, ErrorOut, EventsOut, RulingOut

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 404, 422, 429)}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["reads"])

    @router.get("/rulings/{ruling_id}", response_model=RulingOut, responses=ERRORS,
                summary="A ruling and, for each chat, where its notice stands")
    async def get_ruling(request: Request, ruling_id: str = Path(max_length=64),
                         key: KeyInfo = Depends(require(ApiRole.READ))) -> dict[str, Any]:
        found = await api_of(request).reads.ruling(ruling_id)
        if found is None:
            raise problem(404, "no ruling with this ruling_id", "رأیی با این شناسه نیست")
        return found

    @router.get("/events", response_model=EventsOut, responses=ERRORS, summary="Events in order, after a cursor")
    async def get_events(request: Request, after: int = Query(0, ge=0, le=BIGINT, description="the last id seen"),
                         limit: int = Query(100, ge=1, le=1000),
                         key: KeyInfo = Depends(require(ApiRole.READ))) -> dict[str, Any]:
        """notice.delivered, notice.viewed, notice.deemed_served, notice.failed, citizen.bound; pass `next` as
        `after` to read on (the same cursor comes back while nothing is new)."""
        page = await api_of(request).events.page(after, limit)
        return {"events": page.events, "next": page.next}

    return router
