"""Staff broadcasts: choose a segment, check the text, queue one message per recipient chat.

Segments: `all`; `district:N` (citizens whose own district is N or who have a case in district N);
`status:S` (citizens with a case in status S). The text is sent as plain text (HTML-escaped by the
renderer), at most 4096 characters. A time without a zone is Tehran's (services.law.calendar). An immediate broadcast gets
its recipients in the same transaction that records it; a scheduled one when a worker starts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.clock import Clock
from services.law.calendar import parse_datetime
from services.messaging import TEXT_LIMIT
from storage import audit, broadcasts
from storage.broadcast_models import BroadcastState
from storage.broadcasts import PENDING
from storage.database import Database
from storage.models import DeliveryStatus
from storage.vocabulary import DISTRICTS, CaseStatus

CASE_STATUSES = tuple(s.value for s in CaseStatus)


class BroadcastProblem(StrEnum):
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"
    UNKNOWN_SEGMENT = "unknown_segment"
    BAD_DISTRICT = "bad_district"
    UNKNOWN_STATUS = "unknown_status"
    BAD_TIME = "bad_time"


class BroadcastError(ValueError):
    def __init__(self, problem: BroadcastProblem, detail: str = "") -> None:
        super().__init__(f"{problem.value}: {detail}" if detail else problem.value)
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class Segment:
    kind: str  # all, district, status
    value: str | int | None = None

    @classmethod
    def parse(cls, raw: str) -> Segment:
        text = raw.strip().lower()
        if text == "all":
            return cls("all")
        kind, sep, value = text.partition(":")
        if not sep or kind not in ("district", "status"):
            raise BroadcastError(BroadcastProblem.UNKNOWN_SEGMENT, raw)
        if kind == "district":
            if not value.isdigit() or int(value) not in DISTRICTS:
                raise BroadcastError(BroadcastProblem.BAD_DISTRICT, value)
            return cls("district", int(value))
        if value not in CASE_STATUSES:
            raise BroadcastError(BroadcastProblem.UNKNOWN_STATUS, value)
        return cls("status", value)

    def __str__(self) -> str:
        return self.kind if self.value is None else f"{self.kind}:{self.value}"


def check_text(text: str) -> str:
    stripped = text.strip()
    if not stripped:
        raise BroadcastError(BroadcastProblem.EMPTY_TEXT)
    if len(stripped) > TEXT_LIMIT:
        raise BroadcastError(BroadcastProblem.TEXT_TOO_LONG, str(len(stripped)))
    return stripped


def parse_time(raw: str) -> datetime:
    """ISO 8601 or Jalali `1403/11/01 09:30`; without a zone the time is Tehran's. Returned in UTC."""
    try:
        return parse_datetime(raw)
    except ValueError:
        raise BroadcastError(BroadcastProblem.BAD_TIME, raw) from None


@dataclass(frozen=True)
class BroadcastProgress:
    id: int
    state: str
    recipients: int
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    pending: int = 0
    cancelled: int = 0
    scheduled_at: datetime | None = None

    def as_json(self) -> dict[str, object]:
        """The contract of `eblagh broadcast status --json`."""
        return {"id": self.id, "state": self.state, "recipients": self.recipients, "sent": self.sent,
                "failed": self.failed, "blocked": self.blocked, "pending": self.pending}

    @property
    def finished(self) -> bool:
        return self.state in (BroadcastState.DONE.value, BroadcastState.CANCELLED.value) or (
            self.state == BroadcastState.QUEUED.value and self.pending == 0)


class BroadcastService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def count_recipients(self, segment: Segment) -> int:
        async with self._db.session() as session:
            return await broadcasts.count_recipients(session, segment.kind, segment.value)

    async def create(self, *, text: str, segment: Segment, at: datetime | None, created_by: str) -> BroadcastProgress:
        """Record the broadcast and, unless it is for later, its recipients' messages, in one transaction."""
        text = check_text(text)
        now = self._clock()
        async with self._db.session() as session:
            later = at is not None and at > now
            broadcast = await broadcasts.create(session, text=text, segment=str(segment), created_by=created_by,
                                                now=now, scheduled_at=at if later else None)
            assert broadcast.id is not None
            if later:
                count = await broadcasts.count_recipients(session, segment.kind, segment.value)
                broadcast.recipients = count  # an estimate until it starts
                session.add(broadcast)
            else:
                count = await broadcasts.start(session, broadcast.id, segment.kind, segment.value, now) or 0
            audit.record_event(session, actor=created_by, action="broadcast_created", subject=str(broadcast.id),
                               detail={"segment": str(segment), "recipients": count}, at=now)
            state = BroadcastState.SCHEDULED.value if later else BroadcastState.QUEUED.value
            return BroadcastProgress(broadcast.id, state, count, pending=0 if later else count,
                                     scheduled_at=broadcast.scheduled_at)

    async def status(self, broadcast_id: int) -> BroadcastProgress | None:
        async with self._db.session() as session:
            broadcast = await broadcasts.get(session, broadcast_id)
            if broadcast is None:
                return None
            counts = await broadcasts.counts(session, broadcast_id)
        assert broadcast.id is not None
        pending = sum(counts.get(s, 0) for s in PENDING)
        state = broadcast.state
        if state == BroadcastState.QUEUED.value and pending == 0:
            state = BroadcastState.DONE.value  # the worker's duty records it shortly
        return BroadcastProgress(broadcast.id, state, broadcast.recipients,
                                 sent=counts.get(DeliveryStatus.SENT.value, 0),
                                 failed=counts.get(DeliveryStatus.FAILED.value, 0),
                                 blocked=counts.get(DeliveryStatus.BLOCKED.value, 0), pending=pending,
                                 cancelled=counts.get(DeliveryStatus.CANCELLED.value, 0), scheduled_at=broadcast.scheduled_at)

    async def recent(self, limit: int = 20) -> list[tuple[str, str, str, BroadcastProgress]]:
        """The latest broadcasts, newest first: (text, segment, created_by, progress)."""
        async with self._db.session() as session:
            rows = await broadcasts.recent(session, limit)
        found = []
        for row in rows:
            assert row.id is not None
            progress = await self.status(row.id)
            if progress is not None:
                found.append((row.text, row.segment, row.created_by, progress))
        return found

    async def cancel(self, broadcast_id: int, *, by: str) -> int | None:
        """Withdraw what is not yet sent; the count withdrawn, or None when it was not running."""
        now = self._clock()
        async with self._db.session() as session:
            withdrawn = await broadcasts.cancel(session, broadcast_id, now)
            if withdrawn is not None:
                audit.record_event(session, actor=by, action="broadcast_cancelled", subject=str(broadcast_id),
                                   detail={"withdrawn": withdrawn}, at=now)
            return withdrawn
