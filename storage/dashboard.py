"""Counts for the dashboard's overview: activity since a time, notice timings, the queues."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, ChatBinding, DeliveryStatus, LaneName, Message, MessageKind, Notice, Ruling

_PENDING = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)


async def _count(session: AsyncSession, query) -> int:  # type: ignore[no-untyped-def]
    return int((await session.execute(query)).scalar() or 0)


@dataclass(frozen=True)
class ActivityCounts:
    imported: int  # rulings recorded
    delivered: int  # notices first delivered
    viewed: int  # notices first opened
    deemed: int  # notices deemed served
    failed: int  # notice deliveries that failed for good
    unreachable: int  # chats that blocked the bot


async def activity_since(session: AsyncSession, since: datetime) -> ActivityCounts:
    count = sa_select(func.count())
    return ActivityCounts(
        imported=await _count(session, count.select_from(Ruling).where(col(Ruling.created_at) >= since)),
        delivered=await _count(session, count.select_from(Notice).where(col(Notice.first_delivered_at) >= since)),
        viewed=await _count(session, count.select_from(Notice).where(col(Notice.viewed_at) >= since)),
        deemed=await _count(session, count.select_from(Notice).where(col(Notice.deemed_recorded_at) >= since)),
        failed=await _count(session, count.select_from(Message).where(
            col(Message.kind) == MessageKind.NOTICE.value, col(Message.status) == DeliveryStatus.FAILED.value,
            col(Message.created_at) >= since)),
        unreachable=await _count(session, count.select_from(ChatBinding).where(
            col(ChatBinding.unreachable_at) >= since)),
    )


@dataclass(frozen=True)
class NoticeTiming:
    district: int | None
    first_delivered_at: datetime | None
    viewed_at: datetime | None
    deemed_recorded_at: datetime | None


async def notice_timings(session: AsyncSession, since: datetime) -> list[NoticeTiming]:
    """Notices delivered or viewed since `since`, with their case's district."""
    result = await session.execute(
        sa_select(col(Case.district), col(Notice.first_delivered_at), col(Notice.viewed_at),
                  col(Notice.deemed_recorded_at))
        .join(Ruling, col(Ruling.id) == col(Notice.ruling_pk)).join(Case, col(Case.id) == col(Ruling.case_id))
        .where(or_(col(Notice.first_delivered_at) >= since, col(Notice.viewed_at) >= since)))
    return [NoticeTiming(*row) for row in result.all()]


async def delivery_outcomes_since(session: AsyncSession, since: datetime) -> tuple[int, int]:
    """(sent, failed) notice deliveries: sent since `since`, and failed for good among those queued since."""
    count = sa_select(func.count()).select_from(Message).where(col(Message.kind) == MessageKind.NOTICE.value)
    sent = await _count(session, count.where(col(Message.status) == DeliveryStatus.SENT.value,
                                             col(Message.sent_at) >= since))
    failed = await _count(session, count.where(col(Message.status) == DeliveryStatus.FAILED.value,
                                               col(Message.created_at) >= since))
    return sent, failed


async def queue_state(session: AsyncSession) -> tuple[int, datetime | None]:
    """Messages to chats waiting (queued or in flight) and the creation time of the oldest."""
    result = await session.execute(sa_select(func.count(), func.min(col(Message.created_at)))
                                   .where(col(Message.lane) == LaneName.MESSENGER.value,
                                          col(Message.status).in_(_PENDING)))
    n, oldest = result.one()  # min() keeps the column's type: an aware UTC datetime
    return int(n or 0), oldest
