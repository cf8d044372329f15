"""Questions for a human: forwarded to the staff chat; a staff reply to it goes back to the citizen."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from services.clock import Clock
from storage import audit
from storage.database import Database
from storage.models import Handoff


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

    async def forwarded(self, handoff_id: int, staff_chat_id: int, staff_message_id: int) -> None:
        async with self._db.session() as session:
            handoff = await session.get(Handoff, handoff_id)
            if handoff is not None:
                handoff.staff_chat_id = staff_chat_id
                handoff.staff_message_id = staff_message_id
                session.add(handoff)

    async def answer(self, *, staff_chat_id: int, reply_to_message_id: int, staff_user_id: int,
                     text: str) -> HandoffReply | None:
        """Record a staff reply to a forwarded question; None when it replies to something else."""
        async with self._db.session() as session:
            result = await session.exec(select(Handoff).where(
                Handoff.staff_chat_id == staff_chat_id, Handoff.staff_message_id == reply_to_message_id))
            handoff = result.first()
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
