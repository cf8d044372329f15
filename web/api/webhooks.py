"""Callback endpoints: `POST/GET/DELETE /v1/webhooks`, their deliveries and replay."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.api_keys import ApiRole, KeyInfo
from services.webhooks import WebhookProblem
from web.api.deps import api_of, problem, require
from web.api.idempotent import idempotent
from web.api.models import BIGINT, Accepted, CallbacksOut, ErrorOut, WebhookCreated, WebhookIn, WebhooksOut

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 404, 409, 422, 429)}


def _missing() -> Exception:
    return problem(404, "no such webhook of this key", "چنین نشانی بازگشتی برای این کلید نیست")


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])

    @router.post("", response_model=WebhookCreated, status_code=201, responses=ERRORS,
                 summary="Register a callback URL (the secret is shown once)")
    async def create(body: WebhookIn, request: Request, key: KeyInfo = Depends(require(ApiRole.READ))) -> Response:
        """Each event of `events` is POSTed to `url`, signed per Standard Webhooks (webhook-id,
        webhook-timestamp, webhook-signature). The url is https, or http on loopback and private networks."""
        async def work() -> tuple[int, Any]:
            try:
                hook, secret = await api_of(request).webhooks.create(key, body.url, body.events)
            except WebhookProblem as error:
                raise problem(422, str(error), "نشانی یا رویدادها نامعتبر است") from None
            return 201, {**hook.as_json(), "secret": secret}

        return await idempotent(request, key, work)

    @router.get("", response_model=WebhooksOut, responses=ERRORS, summary="This key's callback URLs")
    async def listing(request: Request, key: KeyInfo = Depends(require(ApiRole.READ))) -> dict[str, Any]:
        return {"webhooks": [h.as_json() for h in await api_of(request).webhooks.list(key)]}

    @router.delete("/{webhook_id}", status_code=204, responses=ERRORS, summary="Stop sending to this URL")
    async def delete(request: Request, webhook_id: int = Path(ge=1, le=BIGINT),
                     key: KeyInfo = Depends(require(ApiRole.READ))) -> Response:
        if not await api_of(request).webhooks.delete(key, webhook_id):
            raise _missing()
        return Response(status_code=204)

    @router.get("/{webhook_id}/deliveries", response_model=CallbacksOut, responses=ERRORS,
                summary="The callbacks to this URL, newest first, with every attempt's status code")
    async def deliveries(request: Request, webhook_id: int = Path(ge=1, le=BIGINT),
                         limit: int = Query(100, ge=1, le=1000),
                         key: KeyInfo = Depends(require(ApiRole.READ))) -> dict[str, Any]:
        found = await api_of(request).webhooks.deliveries(key, webhook_id, limit)
        if found is None:
            raise _missing()
        return {"deliveries": found}

    @router.post("/{webhook_id}/deliveries/{delivery_id}/replay", response_model=Accepted, status_code=202,
                 responses=ERRORS, summary="Send one callback again")
    async def replay(request: Request, webhook_id: int = Path(ge=1, le=BIGINT),
                     delivery_id: int = Path(ge=1, le=BIGINT), key: KeyInfo = Depends(require(ApiRole.READ))) -> Response:
        async def work() -> tuple[int, Any]:
            if not await api_of(request).webhooks.replay(key, webhook_id, delivery_id):
                raise _missing()
            return 202, {"status": "queued"}

        return await idempotent(request, key, work)

    return router
