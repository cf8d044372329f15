"""A citizen's notices: listing them, and opening one (which records actual service once)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from services.clock import Clock
from services.law.policy import LawPolicy, ServiceInfo, service_info
from services.messaging import ChatKind
from storage import audit, citizens, notices
from storage.database import Database
from storage.models import ChatBinding
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
    NOT_PRIVATE = "not_private"  # a group, supergroup or channel: nobody's own chat, so no service there
    NOT_BOUND = "not_bound"
    NOT_YOURS = "not_yours"  # also for a notice that does not exist, or a tap by someone else in the chat


def tapped_by_owner(binding: ChatBinding, chat_id: int, user_id: int | None) -> bool:
    """Whether the person who tapped is the one the chat was bound for.

    A binding remembers its user; one imported without a user_id is trusted only in the private chat
    whose id is the tapping user's (on the Bot API a private chat's id is its user's id).
    """
    if user_id is None:
        return False
    if binding.user_id is not None:
        return binding.user_id == user_id
    return chat_id == user_id


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

    async def list_for_chat(self, platform: str, chat_id: int) -> list[NoticeView] | None:
        """The bound citizen's notices, newest first; None when the chat is not bound."""
        now = self._clock()
        async with self._db.reading() as session:
            binding = await citizens.find_active_binding(session, platform, chat_id)
            if binding is None:
                return None
            return [self._view(row, now) for row in await notices.list_notice_rows(session, binding.citizen_id)]

    async def card(self, notice_id: int) -> NoticeView | None:
        """A notice as pushed to a chat (used by the delivery engine)."""
        async with self._db.session() as session:
            row = await notices.get_notice_row(session, notice_id)
            return self._view(row, self._clock(), sending_now=True) if row else None

    async def open(self, *, platform: str, chat_id: int, user_id: int | None, chat_kind: ChatKind,
                   notice_id: int) -> OpenedNotice | OpenRefusal:
        """Show the full text to the notice's own citizen; the first opening is the receipt.

        Opening is service, so only the bound person in their own private chat may do it: a tap in a
        group (a forwarded card, a member tapping) or by anyone else records nothing and shows nothing.
        """
        now = self._clock()
        async with self._db.session() as session:
            def refuse(refusal: OpenRefusal) -> OpenRefusal:
                audit.record_event(session, actor=f"{platform}:{chat_id}", action="notice_open_refused",
                                   subject=str(notice_id), detail={"reason": refusal.value, "user_id": user_id},
                                   at=now)
                return refusal

            if chat_kind is not ChatKind.PRIVATE:
                return refuse(OpenRefusal.NOT_PRIVATE)
            binding = await citizens.find_active_binding(session, platform, chat_id)
            if binding is None:
                return OpenRefusal.NOT_BOUND
            if not tapped_by_owner(binding, chat_id, user_id):
                return refuse(OpenRefusal.NOT_YOURS)
            row = await notices.get_notice_row(session, notice_id)
            if row is None or row.notice.citizen_id != binding.citizen_id:
                return refuse(OpenRefusal.NOT_YOURS)
            first = await notices.record_first_view(session, notice_id, platform=platform, chat_id=chat_id,
                                                    user_id=user_id, at=now)
            if first:
                audit.record_event(session, actor=f"{platform}:{chat_id}", action="notice_viewed",
                                   subject=row.ruling.ruling_id, at=now)
                row.notice.viewed_at = now
            return OpenedNotice(self._view(row, now), row.ruling.text, first, binding.citizen_id)
