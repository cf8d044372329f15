"""Data access for the dashboard's inbox: open handoffs, replies written there and their messages.

An answer written in the dashboard is a message of the delivery engine (kind staff_reply, like one
from the staff chat) whose `ref_id` is the reply's id negated: a staff chat's reply is named by the
staff member's message id (positive), so the two never meet in the messages' unique key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import messages
from storage.models import Citizen, Handoff, Message, MessageKind
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
    status: str | None  # its message's: queued, sending, sent, failed, blocked, cancelled
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


def message_ref(reply_id: int) -> int:
    """The `ref_id` of the message carrying this dashboard reply."""
    return -reply_id


async def add_reply(session: AsyncSession, handoff: Handoff, *, staff_id: int | None, author: str, text: str,
                    body: str, now: datetime) -> StaffReply:
    """Record the answer on the handoff and the reply, and queue its message (`body`) to the citizen's chat."""
    assert handoff.id is not None
    handoff.answered_at, handoff.answer = now, text
    session.add(handoff)
    reply = StaffReply(handoff_id=handoff.id, staff_id=staff_id, author=author, text=text, created_at=now)
    session.add(reply)
    await session.flush()
    assert reply.id is not None
    # No staff chat to tell how it went: the dashboard shows the message's state instead (no notify_chat_id).
    await messages.queue(session, kind=MessageKind.STAFF_REPLY, ref_id=message_ref(reply.id),
                         platform=handoff.platform, chat_id=handoff.chat_id, body=body, now=now,
                         origin_id=handoff.id)
    return reply


async def get_handoff(session: AsyncSession, handoff_id: int) -> Handoff | None:
    return await session.get(Handoff, handoff_id)


async def reply_text(session: AsyncSession, reply_id: int) -> str | None:
    """A reply's text (for its message queued with no body: a row carried over from the outbox)."""
    reply = await session.get(StaffReply, reply_id)
    return reply.text if reply is not None else None


async def recent_replies(session: AsyncSession, limit: int = 20) -> list[SentReply]:
    result = await session.execute(
        sa_select(StaffReply, col(Handoff.question), col(Message.status), col(Message.sent_at),
                  col(Message.last_error))
        .join(Handoff, col(Handoff.id) == col(StaffReply.handoff_id))
        .outerjoin(Message, and_(col(Message.kind) == MessageKind.STAFF_REPLY.value,
                                 col(Message.ref_id) == -col(StaffReply.id),
                                 col(Message.chat_id) == col(Handoff.chat_id)))
        .order_by(col(StaffReply.created_at).desc(), col(StaffReply.id).desc()).limit(limit))
    return [SentReply(r, q, s, at, e) for r, q, s, at, e in result.all()]


async def reply_state(session: AsyncSession, reply_id: int) -> str | None:
    result = await session.exec(select(Message.status).where(
        Message.kind == MessageKind.STAFF_REPLY.value, Message.ref_id == message_ref(reply_id)))
    return result.first()
