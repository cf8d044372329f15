"""`POST /v1/citizens`, `/v1/cases`, `/v1/rulings`: up to 1,000 items, answered per item."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from services.api_keys import ApiRole, KeyInfo
from services.api_writes import WriteFailed
from web.api.deps import api_of, problem, require
from web.api.idempotent import idempotent
from web.api.models import CasesIn, CitizensIn, ErrorOut, RulingsIn, WriteOut

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 403, 409, 413, 422, 429)}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["writes"])

    async def write(request: Request, kind: str, items: list[dict[str, Any]], key: KeyInfo) -> Response:
        async def work() -> tuple[int, Any]:
            try:
                results = await api_of(request).ingest.write(kind, items, key=key)
            except WriteFailed:
                raise problem(503, "the database failed; nothing of this request was applied, send it again",
                              "پایگاه داده پاسخ نداد؛ چیزی از این درخواست ثبت نشد، دوباره بفرستید") from None
            return 200, {"results": [r.as_json() for r in results]}

        return await idempotent(request, key, work)

    @router.post("/citizens", response_model=WriteOut, responses=ERRORS, summary="Add or update citizens")
    async def post_citizens(body: CitizensIn, request: Request, key: KeyInfo = Depends(require(ApiRole.INGEST))) -> Response:
        """Upsert by national ID. `id` in a result is the masked national ID."""
        return await write(request, "citizens", body.items, key)

    @router.post("/cases", response_model=WriteOut, responses=ERRORS, summary="Add or update cases")
    async def post_cases(body: CasesIn, request: Request, key: KeyInfo = Depends(require(ApiRole.INGEST))) -> Response:
        """Upsert by case_number; the citizen must exist. A field left out keeps its value."""
        return await write(request, "cases", body.items, key)

    @router.post("/rulings", response_model=WriteOut, responses=ERRORS, summary="Add rulings (each becomes a notice)")
    async def post_rulings(body: RulingsIn, request: Request, key: KeyInfo = Depends(require(ApiRole.INGEST))) -> Response:
        """Insert when absent; a stored ruling never changes. Each result lists the ruling's notices, one per
        bound chat (none yet when the citizen has not logged in). A `--test` key's rulings are never sent."""
        return await write(request, "rulings", body.items, key)

    return router
