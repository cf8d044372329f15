"""Questions for a human: forwarded to the staff chat; a staff reply to it goes back to the citizen.

A question is recorded before it is forwarded, so it is never lost: a forward that fails stays in
`handoffs` with `forward_status` failed and the reason. A long question arrives in several staff-chat
messages; a reply to any of them reaches the citizen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.clock import Clock
from services.messaging import Undelivered
from storage import audit
from storage.database import Database
from storage.models import Handoff, HandoffMessage


class ForwardStatus(StrEnum):
    PENDING = "pending"
    FORWARDED = "forwarded"  # the staff chat has every part
    FAILED = "failed"  # not (wholly) forwarded; staff see it in the records


@dataclass(frozen=True)
class HandoffReply:
    platform: str
    chat_id: int
    handoff_id: int


class HandoffService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def open(self, *, platform: str, chat_id: int, user_id: int | None, citizen_id: int | None,
                   question: str) -> int:
        async with self._db.session() as session:
            handoff = Handoff(citizen_id=citizen_id, platform=platform, chat_id=chat_id, user_id=user_id,
                              question=question, created_at=self._clock())
            session.add(handoff)
            await session.flush()
            assert handoff.id is not None
            audit.record_event(session, actor=f"{platform}:{chat_id}", action="handoff_opened",
                               subject=str(handoff.id), at=self._clock())
            return handoff.id

    async def forwarded(self, handoff_id: int, staff_chat_id: int, message_ids: Sequence[int]) -> None:
        """The staff chat has the whole question, in these messages."""
        await self._settle(handoff_id, staff_chat_id, message_ids, ForwardStatus.FORWARDED, None)

    async def forward_failed(self, handoff_id: int, staff_chat_id: int, reason: Undelivered,
                             arrived: Sequence[int] = ()) -> None:
        """The question did not (wholly) reach the staff chat; parts that did still route replies."""
        await self._settle(handoff_id, staff_chat_id, arrived, ForwardStatus.FAILED, reason)

    async def _settle(self, handoff_id: int, staff_chat_id: int, message_ids: Sequence[int],
                      status: ForwardStatus, reason: Undelivered | None) -> None:
        async with self._db.session() as session:
            handoff = await session.get(Handoff, handoff_id)
            if handoff is None:
                return
            handoff.forward_status, handoff.forward_error = status.value, reason.value if reason else None
            if message_ids:
                handoff.staff_chat_id, handoff.staff_message_id = staff_chat_id, message_ids[0]
            session.add(handoff)
            for message_id in message_ids:
                await session.merge(HandoffMessage(staff_chat_id=staff_chat_id, message_id=message_id,
                                                   handoff_id=handoff_id))
            if reason is not None:
                audit.record_event(session, actor="bot", action="handoff_not_forwarded",
                                   subject=str(handoff_id), detail={"reason": reason.value}, at=self._clock())

    async def answer(self, *, staff_chat_id: int, reply_to_message_id: int, staff_user_id: int,
                     text: str) -> HandoffReply | None:
        """Record a staff reply to a forwarded question; None when it replies to something else."""
        async with self._db.session() as session:
            part = await session.get(HandoffMessage, (staff_chat_id, reply_to_message_id))
            handoff = await session.get(Handoff, part.handoff_id) if part is not None else None
            if handoff is None:
                return None
            assert handoff.id is not None
            now = self._clock()
            # A second reply is sent too; the record keeps the latest answer and its author.
            handoff.answered_at, handoff.answered_by, handoff.answer = now, staff_user_id, text
            session.add(handoff)
            audit.record_event(session, actor=f"staff:{staff_user_id}", action="handoff_answered",
                               subject=str(handoff.id), at=now)
            return HandoffReply(handoff.platform, handoff.chat_id, handoff.id)

    async def reply_failed(self, handoff_id: int, staff_user_id: int, reason: Undelivered) -> None:
        """A staff answer did not reach the citizen (the staff member is told why)."""
        async with self._db.session() as session:
            audit.record_event(session, actor=f"staff:{staff_user_id}", action="handoff_reply_not_delivered",
                               subject=str(handoff_id), detail={"reason": reason.value}, at=self._clock())
