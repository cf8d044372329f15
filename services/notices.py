"""A citizen's notices: listing them, and opening one (which records actual service once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.clock import Clock
from services.law import LawPolicy, ServiceInfo, service_info
from storage import audit, citizens, notices
from storage.database import Database
from storage.notices import NoticeRow


@dataclass(frozen=True)
class NoticeView:
    """What the conversation shows of a notice; no storage types cross this line."""

    notice_id: int
    ruling_id: str
    case_number: str
    commission: str
    kind: str
    issued_on: date
    summary: str
    fine_amount_rials: int | None
    viewed_at: datetime | None
    first_delivered_at: datetime | None
    service: ServiceInfo


@dataclass(frozen=True)
class OpenedNotice:
    view: NoticeView
    text: str
    first_view: bool
    citizen_id: int


class OpenRefusal(StrEnum):
    NOT_BOUND = "not_bound"
    NOT_YOURS = "not_yours"  # also for a notice that does not exist: do not tell them apart


class NoticeService:
    def __init__(self, db: Database, policy: LawPolicy, clock: Clock) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

    def _view(self, row: NoticeRow, now: datetime, *, sending_now: bool = False) -> NoticeView:
        notice, ruling, case = row.notice, row.ruling, row.case
        assert notice.id is not None
        delivered = notice.first_delivered_at
        if delivered is None and sending_now:
            delivered = now  # the card being sent starts the deemed-service clock; show that date on it
        info = service_info(self._policy, commission=ruling.commission, first_delivered_at=delivered,
                            viewed_at=notice.viewed_at, now=now)
        return NoticeView(notice.id, ruling.ruling_id, case.case_number, ruling.commission, ruling.kind,
                          ruling.issued_on, ruling.summary, ruling.fine_amount_rials, notice.viewed_at,
                          notice.first_delivered_at, info)

    async def citizen_for_chat(self, platform: str, chat_id: int) -> int | None:
        async with self._db.session() as session:
            binding = await citizens.find_active_binding(session, platform, chat_id)
            return binding.citizen_id if binding else None

    async def list_for_chat(self, platform: str, chat_id: int) -> list[NoticeView] | None:
        """The bound citizen's notices, newest first; None when the chat is not bound."""
        now = self._clock()
        async with self._db.session() as session:
            binding = await citizens.find_active_binding(session, platform, chat_id)
            if binding is None:
                return None
            return [self._view(row, now) for row in await notices.list_notice_rows(session, binding.citizen_id)]

    async def card(self, notice_id: int) -> NoticeView | None:
        """A notice as pushed to a chat (used by the delivery engine)."""
        async with self._db.session() as session:
            row = await notices.get_notice_row(session, notice_id)
            return self._view(row, self._clock(), sending_now=True) if row else None

    async def open(self, *, platform: str, chat_id: int, user_id: int | None,
                   notice_id: int) -> OpenedNotice | OpenRefusal:
        """Show the full text to the notice's own citizen; the first opening is the receipt."""
        now = self._clock()
        async with self._db.session() as session:
            binding = await citizens.find_active_binding(session, platform, chat_id)
            if binding is None:
                return OpenRefusal.NOT_BOUND
            row = await notices.get_notice_row(session, notice_id)
            if row is None or row.notice.citizen_id != binding.citizen_id:
                audit.record_event(session, actor=f"{platform}:{chat_id}", action="notice_open_refused",
                                   subject=str(notice_id), at=now)
                return OpenRefusal.NOT_YOURS
            first = await notices.record_first_view(session, notice_id, platform=platform, chat_id=chat_id,
                                                    user_id=user_id, at=now)
            if first:
                audit.record_event(session, actor=f"{platform}:{chat_id}", action="notice_viewed",
                                   subject=row.ruling.ruling_id, at=now)
                row.notice.viewed_at = now
            return OpenedNotice(self._view(row, now), row.ruling.text, first, binding.citizen_id)
