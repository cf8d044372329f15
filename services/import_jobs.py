"""`POST /v1/imports`: an import file uploaded over HTTP and run in the background by the same importers
as `eblagh import`; `GET /v1/imports/{id}` reports its status (queued, running, finished, failed), its
counts and the first 100 row errors with their line numbers.

The job runs in the web process that took it; one cut short by a restart stays `running` and is reported
`failed` when read after `STALE` (its committed batches stay applied: imports are idempotent, so the
file can simply be sent again).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

from services.api_keys import KeyInfo
from services.clock import Clock
from services.imports.importer import (
    DATABASE_ERRORS,
    ImportFileError,
    import_cases,
    import_citizens,
    import_rulings,
)
from services.privacy import Hasher
from storage import api_store
from storage.api_models import ImportJob
from storage.database import Database

log = logging.getLogger(__name__)

KINDS = ("citizens", "cases", "rulings")
MAX_ERRORS = 100
STALE = timedelta(hours=6)


class ImportJobs:
    def __init__(self, db: Database, hasher: Hasher, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, key: KeyInfo, kind: str, data: bytes) -> int:
        if kind not in KINDS:
            raise ValueError(kind)
        async with self._db.session() as session:
            job = await api_store.add_job(session, ImportJob(api_key_id=key.id, kind=kind, created_at=self._clock()))
        assert job.id is not None
        task = asyncio.create_task(self._run(job.id, key, kind, data))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return job.id

    async def _run(self, job_id: int, key: KeyInfo, kind: str, data: bytes) -> None:
        async def update(**values: Any) -> None:
            async with self._db.session() as session:
                await api_store.update_job(session, job_id, **values)

        await update(status="running")
        try:
            lines = data.decode("utf-8-sig").splitlines()
            common: dict[str, Any] = {"actor": f"api:{key.name}", "source": f"api import {job_id}"}
            if kind == "citizens":
                report = await import_citizens(self._db, self._hasher, lines, **common)
            elif kind == "cases":
                report = await import_cases(self._db, self._hasher, lines, **common)
            else:
                report = await import_rulings(self._db, self._hasher, lines, test=key.test, **common)
        except UnicodeDecodeError:
            await update(status="failed", failure="the file is not UTF-8", finished_at=self._clock())
            return
        except ImportFileError as error:
            await update(status="failed", failure=str(error)[:200], finished_at=self._clock())
            return
        except DATABASE_ERRORS as error:
            log.warning("import job %d failed: %s", job_id, type(error).__name__)
            await update(status="failed", failure=type(error).__name__, finished_at=self._clock())
            return
        errors = [{"line": p.line, "field": p.field, "reason": p.reason_en or p.reason, "reason_fa": p.reason}
                  for p in report.problems[:MAX_ERRORS]]
        await update(status="finished" if report.completed else "failed", inserted=report.inserted,
                     updated=report.updated, unchanged=report.unchanged, bad=report.bad, errors=errors,
                     failure=report.failure, finished_at=self._clock())

    async def status(self, key: KeyInfo, job_id: int) -> dict[str, Any] | None:
        async with self._db.session() as session:
            job = await api_store.get_job(session, job_id)
        if job is None or job.api_key_id != key.id:
            return None
        status = job.status
        if status in ("queued", "running") and self._clock() - job.created_at > STALE:
            status = "failed"
        return {"id": job.id, "kind": job.kind, "status": status, "inserted": job.inserted, "updated": job.updated,
                "unchanged": job.unchanged, "bad": job.bad, "errors": json.loads(job.errors or "[]"),
                "failure": job.failure, "created_at": job.created_at.isoformat(),
                "finished_at": job.finished_at.isoformat() if job.finished_at else None}

    async def wait(self) -> None:
        """Let the jobs in hand finish (a clean shutdown, tests)."""
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
