"""Data access for handoffs: questions for a human, the staff-chat messages that carry them, the answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import audit
from storage.models import ForwardStatus, Handoff, HandoffMessage


async def open_handoff(session: AsyncSession, *, platform: str, chat_id: int, user_id: int | None,
                       citizen_id: int | None, question: str, now: datetime) -> Handoff:
    handoff = Handoff(citizen_id=citizen_id, platform=platform, chat_id=chat_id, user_id=user_id,
                      question=question, created_at=now)
    session.add(handoff)
    await session.flush()
    assert handoff.id is not None
    audit.record_event(session, actor=f"{platform}:{chat_id}", action="handoff_opened", subject=str(handoff.id),
                       at=now)
    return handoff


async def get(session: AsyncSession, handoff_id: int) -> Handoff | None:
    return await session.get(Handoff, handoff_id)


async def settle_forward(session: AsyncSession, handoff_id: int, staff_chat_id: int, message_ids: Sequence[int],
                         status: ForwardStatus, reason: str | None, now: datetime) -> None:
    """Record where the question went: the staff-chat messages that carry it route replies to it."""
    handoff = await session.get(Handoff, handoff_id)
    if handoff is None:
        return
    handoff.forward_status, handoff.forward_error = status.value, reason
    if message_ids:
        handoff.staff_chat_id, handoff.staff_message_id = staff_chat_id, message_ids[0]
    session.add(handoff)
    for message_id in message_ids:
        await session.merge(HandoffMessage(staff_chat_id=staff_chat_id, message_id=message_id,
                                           handoff_id=handoff_id))
    if reason is not None:
        audit.record_event(session, actor="bot", action="handoff_not_forwarded", subject=str(handoff_id),
                           detail={"reason": reason}, at=now)


async def record_answer(session: AsyncSession, *, staff_chat_id: int, reply_to_message_id: int, staff_user_id: int,
                        text: str, now: datetime) -> Handoff | None:
    """Record a staff reply to a forwarded question; None when it replies to something else."""
    part = await session.get(HandoffMessage, (staff_chat_id, reply_to_message_id))
    handoff = await session.get(Handoff, part.handoff_id) if part is not None else None
    if handoff is None:
        return None
    # A second reply is sent too; the record keeps the latest answer and its author.
    handoff.answered_at, handoff.answered_by, handoff.answer = now, staff_user_id, text
    session.add(handoff)
    audit.record_event(session, actor=f"staff:{staff_user_id}", action="handoff_answered", subject=str(handoff.id),
                       at=now)
    return handoff


def reply_not_delivered(session: AsyncSession, handoff_id: int, staff_user_id: int | None, reason: str,
                        now: datetime) -> None:
    audit.record_event(session, actor=f"staff:{staff_user_id}", action="handoff_reply_not_delivered",
                       subject=str(handoff_id), detail={"reason": reason}, at=now)
