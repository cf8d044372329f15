"""Data access for the timed duties: the reminder before deemed service, and recording deemed service.

Each is a conditional UPDATE (`... WHERE reminder_sent_at IS NULL`), so however many workers run
the duty, one of them wins per notice and the others change nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, literal, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import api_events, proof
from storage.api_models import EventType
from storage.models import ChatBinding, DeliveryStatus, LaneName, Message, MessageKind, Notice
from storage.proof import ProofEvent
from storage.proof_models import ProofKind
from storage.types import UTCDateTime


async def unviewed_delivered_before(session: AsyncSession, cutoff: datetime, *, unreminded: bool,
                                    limit: int = 500) -> list[tuple[int, datetime]]:
    """(id, first_delivered_at) of notices delivered by `cutoff`, never opened, not yet deemed served."""
    query = select(col(Notice.id), col(Notice.first_delivered_at)).where(
        col(Notice.first_delivered_at).is_not(None), col(Notice.first_delivered_at) <= cutoff,
        col(Notice.viewed_at).is_(None), col(Notice.deemed_recorded_at).is_(None))
    if unreminded:
        query = query.where(col(Notice.reminder_sent_at).is_(None))
    result = await session.execute(query.order_by(col(Notice.id)).limit(limit))  # type: ignore[deprecated]
    return [(int(n), at) for n, at in result.all()]


async def take_reminder(session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """True for the one caller that gets to remind about this notice."""
    result = await session.execute(  # type: ignore[deprecated]
        update(Notice).where(col(Notice.id) == notice_id, col(Notice.reminder_sent_at).is_(None),
                             col(Notice.viewed_at).is_(None))
        .values(reminder_sent_at=now))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def queue_reminder(session: AsyncSession, notice_id: int, now: datetime) -> int:
    """One reminder to every active, reachable chat of the notice's citizen."""
    source = (
        select(literal(LaneName.MESSENGER.value), literal(MessageKind.REMINDER.value), col(Notice.id),
               col(ChatBinding.platform),
               col(ChatBinding.chat_id), literal(DeliveryStatus.QUEUED.value), literal(0),
               literal(now, type_=UTCDateTime()), literal(now, type_=UTCDateTime()))
        .join(ChatBinding, col(ChatBinding.citizen_id) == col(Notice.citizen_id))
        .where(col(Notice.id) == notice_id, col(ChatBinding.active).is_(True),
               col(ChatBinding.unreachable_at).is_(None),
               ~exists().where(col(Message.kind) == MessageKind.REMINDER.value,
                               col(Message.ref_id) == notice_id,
                               col(Message.platform) == col(ChatBinding.platform),
                               col(Message.chat_id) == col(ChatBinding.chat_id)))
    )
    result = await session.execute(insert(Message).from_select(  # type: ignore[deprecated]
        ["lane", "kind", "ref_id", "platform", "chat_id", "status", "attempts", "created_at", "next_attempt_at"],
        source))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def record_deemed(session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """True for the one caller that records this notice's deemed service (and appends its proof record)."""
    result = await session.execute(  # type: ignore[deprecated]
        update(Notice).where(col(Notice.id) == notice_id, col(Notice.deemed_recorded_at).is_(None),
                             col(Notice.viewed_at).is_(None))
        .values(deemed_recorded_at=now))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await api_events.append(session, [api_events.NewEvent(EventType.NOTICE_DEEMED_SERVED, now, notice_id)])
    await proof.append(session, [ProofEvent(ProofKind.DEEMED, notice_id, now)])
    return True
