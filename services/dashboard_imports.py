"""Imports started from the dashboard: upload, a preview that writes nothing, then apply with progress.

The file itself stays in this process's memory (`PendingFiles`) between the preview and the apply, and
is dropped once applied or after `KEEP`: it holds national IDs and mobiles in clear, which the database
never does. The `staff_uploads` row keeps who uploaded what, the preview's problems and the counts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.clock import Clock
from services.imports.importer import IMPORTERS, ImportFileError, ImportPreview, validate_import
from services.privacy import Hasher
from services.staff_accounts import StaffMember
from storage import audit, staff
from storage.database import Database
from storage.staff_models import StaffUpload

log = logging.getLogger(__name__)

KINDS = tuple(IMPORTERS)
MAX_BYTES = 20 * 1024 * 1024
KEEP = timedelta(hours=1)
PROBLEMS_KEPT = 200


class UploadError(ValueError):
    pass


@dataclass
class _Pending:
    lines: list[str]
    at: datetime
    processed: int = 0
    total: int = 0


@dataclass
class PendingFiles:
    """Uploaded files waiting to be applied, by upload id; the oldest go first past `limit`."""

    limit: int = 8
    files: OrderedDict[int, _Pending] = field(default_factory=OrderedDict)

    def put(self, upload_id: int, lines: list[str], at: datetime) -> None:
        self.files[upload_id] = _Pending(lines, at)
        while len(self.files) > self.limit:
            self.files.popitem(last=False)

    def take(self, upload_id: int, now: datetime) -> _Pending | None:
        pending = self.files.get(upload_id)
        if pending is None or now - pending.at > KEEP:
            self.files.pop(upload_id, None)
            return None
        return pending


@dataclass(frozen=True)
class UploadView:
    id: int
    kind: str
    filename: str
    created_by: str
    created_at: datetime
    state: str
    total: int
    good: int
    processed: int
    report: dict[str, object]
    finished_at: datetime | None
    applicable: bool  # previewed, and its file is still here

    @property
    def percent(self) -> int:
        if self.state == "done":
            return 100
        return int(100 * self.processed / self.total) if self.total else 0


def decode(content: bytes) -> list[str]:
    if len(content) > MAX_BYTES:
        raise UploadError("too_large")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError("not_utf8") from None
    return text.splitlines(keepends=True)


class DashboardImports:
    def __init__(self, db: Database, hasher: Hasher, clock: Clock, pending: PendingFiles | None = None) -> None:
        self._db = db
        self._hasher = hasher
        self._clock = clock
        self._pending = pending or PendingFiles()
        self._tasks: set[asyncio.Task[None]] = set()

    def _view(self, upload: StaffUpload) -> UploadView:
        assert upload.id is not None
        pending = self._pending.files.get(upload.id)
        processed = pending.processed if pending is not None and upload.state == "applying" else upload.processed
        return UploadView(upload.id, upload.kind, upload.filename, upload.created_by, upload.created_at, upload.state,
                          upload.total, upload.good, processed, json.loads(upload.report or "{}"),
                          upload.finished_at, upload.state == "previewed" and pending is not None)

    async def preview(self, kind: str, filename: str, content: bytes, staff_member: StaffMember) -> UploadView:
        if kind not in KINDS:
            raise UploadError("unknown_kind")
        lines = decode(content)
        now = self._clock()
        try:
            result: ImportPreview | None = validate_import(kind, lines, self._hasher, now=now)
            file_problem = None
        except ImportFileError as error:
            result, file_problem = None, str(error)
        report: dict[str, object] = {"problems": [[p.line, p.reason] for p in (result.problems if result else [])
                                                  ][:PROBLEMS_KEPT],
                                     "bad": len(result.problems) if result else 0, "file_problem": file_problem}
        async with self._db.session() as session:
            upload = await staff.add_upload(session, StaffUpload(
                kind=kind, filename=filename[-200:], created_by=staff_member.username, created_at=now,
                state="previewed" if result is not None else "failed", total=result.rows if result else 0,
                good=result.good if result else 0, report=json.dumps(report, ensure_ascii=False)))
            audit.record_event(session, actor=staff_member.actor, action="import.previewed", subject=filename[-128:],
                               detail={"kind": kind, "rows": upload.total, "bad": report["bad"]}, at=now)
        assert upload.id is not None
        if result is not None:
            self._pending.put(upload.id, lines, now)
        return self._view(upload)

    async def get(self, upload_id: int) -> UploadView | None:
        async with self._db.session() as session:
            upload = await staff.get_upload(session, upload_id)
        return self._view(upload) if upload is not None else None

    async def recent(self) -> list[UploadView]:
        async with self._db.session() as session:
            return [self._view(u) for u in await staff.recent_uploads(session)]

    async def apply(self, upload_id: int, staff_member: StaffMember) -> UploadView:
        """Start applying a previewed file in the background; the page follows its progress."""
        pending = self._pending.take(upload_id, self._clock())
        async with self._db.session() as session:
            upload = await staff.get_upload(session, upload_id)
            if upload is None or upload.state != "previewed" or pending is None:
                raise UploadError("not_applicable")
            upload.state = "applying"
            session.add(upload)
        pending.total = upload.total
        task = asyncio.create_task(self._run(upload_id, upload.kind, upload.filename, pending, staff_member))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return self._view(upload)

    async def wait(self) -> None:
        """Until every import started here has finished (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, upload_id: int, kind: str, filename: str, pending: _Pending, member: StaffMember) -> None:
        def progress(read: int, total: int) -> None:
            pending.processed = read

        state, counts = "done", dict[str, object]()
        try:
            report = await IMPORTERS[kind](self._db, self._hasher, pending.lines, progress=progress,
                                           now=self._clock(), actor=member.actor, source=filename)
            counts = {"inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
                      "bad": report.bad, "completed": report.completed}
            if not report.completed:
                state = "failed"
                counts.update(applied_through=report.applied_through, failed_from=report.failed_from)
        except Exception as error:  # recorded on the upload; the importer audited it already
            log.warning("dashboard import %d failed: %s", upload_id, type(error).__name__)
            state, counts = "failed", {"error": type(error).__name__}
        finally:
            self._pending.files.pop(upload_id, None)
        async with self._db.session() as session:
            upload = await staff.get_upload(session, upload_id)
            if upload is not None:
                saved = json.loads(upload.report or "{}")
                saved["applied"] = counts
                upload.state, upload.processed = state, pending.processed
                upload.report, upload.finished_at = json.dumps(saved, ensure_ascii=False), self._clock()
                session.add(upload)
