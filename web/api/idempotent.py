"""`Idempotency-Key` around a POST's work (services/idempotency.py keeps the records)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from services.api_keys import KeyInfo
from services.idempotency import Verdict, body_hash
from web.api.deps import api_of, problem

Work = Callable[[], Awaitable[tuple[int, Any]]]


async def idempotent(request: Request, key: KeyInfo, work: Work, *, request_hash: str | None = None) -> Response:
    """Run `work` (-> status, JSON body) once per Idempotency-Key; replay its answer for the same body."""
    header = request.headers.get("idempotency-key")
    if header is None:
        status, body = await work()
        return JSONResponse(body, status_code=status)
    if not header.strip() or len(header) > 255:
        raise problem(422, "Idempotency-Key must be 1 to 255 characters", "کلید Idempotency-Key باید ۱ تا ۲۵۵ نویسه باشد")
    store = api_of(request).idempotency
    digest = request_hash or body_hash(request.method, request.url.path, await request.body())
    begun = await store.begin(key.id, header, digest)
    if begun.verdict is Verdict.REPLAY:
        return Response(begun.body or "", status_code=begun.status_code or 200, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    if begun.verdict is Verdict.IN_FLIGHT:
        raise problem(409, "a request with this Idempotency-Key is still running",
                      "درخواستی با همین Idempotency-Key هنوز در جریان است")
    if begun.verdict is Verdict.MISMATCH:
        raise problem(422, "this Idempotency-Key was used with another request body",
                      "این Idempotency-Key با بدنهٔ دیگری به کار رفته است", code="idempotency_mismatch")
    try:
        status, body = await work()
    except BaseException:
        await store.release(key.id, header)  # no answer to keep: the key may be used again
        raise
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    await store.finish(key.id, header, status, text)
    return Response(text, status_code=status, media_type="application/json")
