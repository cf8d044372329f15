"""`POST /v1/imports` (a file, run in the background) and `GET /v1/imports/{id}`."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Request, Response, UploadFile

from services.api_keys import ApiRole, KeyInfo
from web.api.deps import api_of, problem, require
from web.api.idempotent import idempotent
from web.api.models import BIGINT, ErrorOut, JobCreated, JobOut

ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422, 429)}


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/imports", tags=["imports"])

    @router.post("", response_model=JobCreated, status_code=202, responses=ERRORS,
                 summary="Upload an import file (citizens CSV, cases or rulings JSONL)")
    async def start(request: Request, kind: Literal["citizens", "cases", "rulings"] = Form(),
                    file: UploadFile = File(description="the file, as `eblagh import KIND FILE` takes it"),
                    key: KeyInfo = Depends(require(ApiRole.INGEST))) -> Response:
        data = await file.read()
        digest = hashlib.sha256(b"import " + kind.encode() + b"\n" + data).hexdigest()

        async def work() -> tuple[int, Any]:
            return 202, {"id": await api_of(request).imports.start(key, kind, data)}

        return await idempotent(request, key, work, request_hash=digest)

    @router.get("/{job_id}", response_model=JobOut, responses=ERRORS, summary="An import's status and row errors")
    async def status(request: Request, job_id: int = Path(ge=1, le=BIGINT),
                     key: KeyInfo = Depends(require(ApiRole.INGEST))) -> dict[str, Any]:
        found = await api_of(request).imports.status(key, job_id)
        if found is None:
            raise problem(404, "no such import of this key", "چنین درون‌بُردی برای این کلید نیست")
        return found

    return router
