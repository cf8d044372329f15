"""Data access for the dashboard's inbox: open handoffs, replies written there and their outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Citizen, DeliveryStatus, Handoff
from storage.outbox_models import OutboxKind, OutboxMessage
from storage.staff_models import StaffReply


@dataclass(frozen=True)
class OpenQuestion:
    handoff: Handoff
    citizen_name: str
    citizen_masked: str


@dataclass(frozen=True)
class SentReply:
    reply: StaffReply
    question: str
    status: str | None  # the outbox row's: queued, sending, sent, failed, blocked
    sent_at: datetime | None
    last_error: str | None


async def open_questions(session: AsyncSession, limit: int = 100) -> list[OpenQuestion]:
    result = await session.execute(
        sa_select(Handoff, Citizen).outerjoin(Citizen, col(Citizen.id) == col(Handoff.citizen_id))
        .where(col(Handoff.answered_at).is_(None)).order_by(col(Handoff.created_at), col(Handoff.id)).limit(limit))
    return [OpenQuestion(h, c.full_name if c else "", c.nid_masked if c else "") for h, c in result.all()]


async def count_open(session: AsyncSession) -> int:
    from sqlalchemy import func

    result = await session.execute(sa_select(func.count()).select_from(Handoff)
                                   .where(col(Handoff.answered_at).is_(None)))
    return int(result.scalar() or 0)


async def add_reply(session: AsyncSession, handoff: Handoff, *, staff_id: int | None, author: str, text: str,
                    now: datetime) -> StaffReply:
    """Record the answer on the handoff and the reply, and queue its message to the citizen's chat."""
    assert handoff.id is not None
    handoff.answered_at, handoff.answer = now, text
    session.add(handoff)
    reply = StaffReply(handoff_id=handoff.id, staff_id=staff_id, author=author, text=text, created_at=now)
    session.add(reply)
    await session.flush()
    assert reply.id is not None
    session.add(OutboxMessage(kind=OutboxKind.STAFF_REPLY.value, ref_id=reply.id, platform=handoff.platform,
                              chat_id=handoff.chat_id, status=DeliveryStatus.QUEUED.value, created_at=now))
    return reply


async def get_handoff(session: AsyncSession, handoff_id: int) -> Handoff | None:
    return await session.get(Handoff, handoff_id)


async def reply_text(session: AsyncSession, reply_id: int) -> str | None:
    reply = await session.get(StaffReply, reply_id)
    return reply.text if reply is not None else None


async def recent_replies(session: AsyncSession, limit: int = 20) -> list[SentReply]:
    result = await session.execute(
        sa_select(StaffReply, col(Handoff.question), col(OutboxMessage.status), col(OutboxMessage.sent_at),
                  col(OutboxMessage.last_error))
        .join(Handoff, col(Handoff.id) == col(StaffReply.handoff_id))
        .outerjoin(OutboxMessage, and_(col(OutboxMessage.kind) == OutboxKind.STAFF_REPLY.value,
                                       col(OutboxMessage.ref_id) == col(StaffReply.id)))
        .order_by(col(StaffReply.created_at).desc(), col(StaffReply.id).desc()).limit(limit))
    return [SentReply(r, q, s, at, e) for r, q, s, at, e in result.all()]


async def reply_state(session: AsyncSession, reply_id: int) -> str | None:
    result = await session.exec(select(OutboxMessage.status).where(
        OutboxMessage.kind == OutboxKind.STAFF_REPLY.value, OutboxMessage.ref_id == reply_id))
    return result.first()
