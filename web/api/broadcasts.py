"""`POST /v1/broadcasts`, `GET /v1/broadcasts/{id}`, `POST /v1/broadcasts/{id}/cancel`: as `eblagh broadcast`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request, Response

from services.api_keys import ApiRole, KeyInfo
from services.broadcasts import BroadcastError, Segment, parse_time
from web.api.deps import api_of, problem, require
from web.api.idempotent import idempotent
from web.api.models import BIGINT, BroadcastIn, BroadcastOut, CancelOut, ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 422, 429)}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/broadcasts", tags=["broadcasts"])

    @router.post("", response_model=BroadcastOut, responses=ERRORS, summary="Queue an announcement")
    async def create(body: BroadcastIn, request: Request, key: KeyInfo = Depends(require(ApiRole.BROADCAST))) -> Response:
        try:
            segment = Segment.parse(body.segment)
            at = parse_time(body.at) if body.at else None
        except BroadcastError as error:
            raise problem(422, f"invalid broadcast: {error}", "اعلان نامعتبر است", code=error.problem.value) from None

        async def work() -> tuple[int, Any]:
            try:
                progress = await api_of(request).broadcasts.create(text=body.text, segment=segment, at=at,
                                                                   created_by=f"api:{key.name}"[:64])
            except BroadcastError as error:
                raise problem(422, f"invalid broadcast: {error}", "اعلان نامعتبر است", code=error.problem.value) from None
            return 200, progress.as_json()

        return await idempotent(request, key, work)

    @router.get("/{broadcast_id}", response_model=BroadcastOut, responses=ERRORS, summary="A broadcast's progress")
    async def status(request: Request, broadcast_id: int = Path(ge=1, le=BIGINT),
                     key: KeyInfo = Depends(require(ApiRole.READ))) -> dict[str, Any]:
        progress = await api_of(request).broadcasts.status(broadcast_id)
        if progress is None:
            raise problem(404, "no such broadcast", "چنین اعلانی نیست")
        return progress.as_json()

    @router.post("/{broadcast_id}/cancel", response_model=CancelOut, responses=ERRORS,
                 summary="Withdraw what is not yet sent")
    async def cancel(request: Request, broadcast_id: int = Path(ge=1, le=BIGINT),
                     key: KeyInfo = Depends(require(ApiRole.BROADCAST))) -> Response:
        async def work() -> tuple[int, Any]:
            withdrawn = await api_of(request).broadcasts.cancel(broadcast_id, by=f"api:{key.name}"[:64])
            if withdrawn is None:
                raise problem(404, "no such broadcast running", "چنین اعلانی در جریان نیست")
            return 200, {"id": broadcast_id, "withdrawn": withdrawn}

        return await idempotent(request, key, work)

    return router
