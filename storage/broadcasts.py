"""Data access for staff broadcasts: recipients of a segment, one message a recipient, progress.

Recipients are the active, reachable chat bindings of the citizens in the segment:
- all: every such chat;
- district N: citizens whose own district is N or who have a case in district N;
- status S: citizens with at least one case in status S.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, exists, func, insert, literal, or_, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.broadcast_models import Broadcast, BroadcastState
from storage.models import Case, ChatBinding, Citizen, DeliveryStatus, LaneName, Message, MessageKind
from storage.types import UTCDateTime

PENDING = (DeliveryStatus.QUEUED.value, DeliveryStatus.SENDING.value)


def recipients_query(segment_kind: str, value: str | int | None) -> Select:  # type: ignore[type-arg]
    """(platform, chat_id) of every recipient; `segment_kind` is all, district or status."""
    query = select(col(ChatBinding.platform), col(ChatBinding.chat_id)).where(
        col(ChatBinding.active).is_(True), col(ChatBinding.unreachable_at).is_(None))
    if segment_kind == "district":
        own = exists().where(col(Citizen.id) == col(ChatBinding.citizen_id), col(Citizen.district) == value)
        case = exists().where(col(Case.citizen_id) == col(ChatBinding.citizen_id), col(Case.district) == value)
        query = query.where(or_(own, case))
    elif segment_kind == "status":
        query = query.where(exists().where(col(Case.citizen_id) == col(ChatBinding.citizen_id),
                                           col(Case.status) == value))
    elif segment_kind != "all":
        raise ValueError(f"unknown segment kind {segment_kind!r}")
    return query


async def count_recipients(session: AsyncSession, segment_kind: str, value: str | int | None) -> int:
    inner = recipients_query(segment_kind, value).subquery()
    result = await session.execute(select(func.count()).select_from(inner))  # type: ignore[deprecated]
    return int(result.scalar() or 0)


async def create(session: AsyncSession, *, text: str, segment: str, created_by: str, now: datetime,
                 scheduled_at: datetime | None) -> Broadcast:
    broadcast = Broadcast(text=text, segment=segment, created_by=created_by, created_at=now,
                          scheduled_at=scheduled_at, state=BroadcastState.SCHEDULED.value)
    session.add(broadcast)
    await session.flush()
    return broadcast


async def get(session: AsyncSession, broadcast_id: int) -> Broadcast | None:
    return await session.get(Broadcast, broadcast_id)


async def recent(session: AsyncSession, limit: int = 20) -> list[Broadcast]:
    result = await session.execute(select(Broadcast).order_by(col(Broadcast.id).desc()).limit(limit))  # type: ignore[deprecated]
    return list(result.scalars().all())


async def start(session: AsyncSession, broadcast_id: int, segment_kind: str, value: str | int | None,
                now: datetime) -> int | None:
    """Choose the recipients and queue one message each, exactly once; None if already started."""
    taken = await session.execute(  # type: ignore[deprecated]
        update(Broadcast).where(col(Broadcast.id) == broadcast_id,
                                col(Broadcast.state) == BroadcastState.SCHEDULED.value)
        .values(state=BroadcastState.QUEUED.value, queued_at=now))
    if not taken.rowcount:  # type: ignore[attr-defined]
        return None
    chats = recipients_query(segment_kind, value).subquery()
    source = select(
        literal(LaneName.MESSENGER.value), literal(MessageKind.BROADCAST.value), literal(broadcast_id), chats.c.platform, chats.c.chat_id,
        literal(DeliveryStatus.QUEUED.value), literal(0), literal(now, type_=UTCDateTime()),
        literal(now, type_=UTCDateTime()))
    result = await session.execute(insert(Message).from_select(  # type: ignore[deprecated]
        ["lane", "kind", "ref_id", "platform", "chat_id", "status", "attempts", "created_at", "next_attempt_at"],
        source))
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    await session.execute(update(Broadcast).where(col(Broadcast.id) == broadcast_id)  # type: ignore[deprecated]
                          .values(recipients=count))
    return count


async def due_scheduled(session: AsyncSession, now: datetime) -> list[Broadcast]:
    result = await session.execute(select(Broadcast).where(  # type: ignore[deprecated]
        col(Broadcast.state) == BroadcastState.SCHEDULED.value,
        or_(col(Broadcast.scheduled_at).is_(None), col(Broadcast.scheduled_at) <= now)))
    return list(result.scalars().all())


async def counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    result = await session.execute(  # type: ignore[deprecated]
        select(col(Message.status), func.count())
        .where(col(Message.kind) == MessageKind.BROADCAST.value, col(Message.ref_id) == broadcast_id)
        .group_by(col(Message.status)))
    return {str(status): int(n) for status, n in result.all()}


async def cancel(session: AsyncSession, broadcast_id: int, now: datetime) -> int | None:
    """Stop what is not yet sent; the number of messages withdrawn, None when nothing could be cancelled."""
    changed = await session.execute(  # type: ignore[deprecated]
        update(Broadcast).where(col(Broadcast.id) == broadcast_id,
                                col(Broadcast.state).in_([BroadcastState.SCHEDULED.value,
                                                          BroadcastState.QUEUED.value]))
        .values(state=BroadcastState.CANCELLED.value, cancelled_at=now))
    if not changed.rowcount:  # type: ignore[attr-defined]
        return None
    withdrawn = await session.execute(  # type: ignore[deprecated]
        update(Message).where(col(Message.kind) == MessageKind.BROADCAST.value,
                              col(Message.ref_id) == broadcast_id,
                              col(Message.status) == DeliveryStatus.QUEUED.value)
        .values(status=DeliveryStatus.CANCELLED.value, claimed_at=None))
    return int(withdrawn.rowcount or 0)  # type: ignore[attr-defined]


async def finish_completed(session: AsyncSession, now: datetime) -> int:
    """Queued broadcasts with nothing left pending are done."""
    pending = exists().where(col(Message.kind) == MessageKind.BROADCAST.value,
                             col(Message.ref_id) == col(Broadcast.id),
                             col(Message.status).in_(PENDING))
    result = await session.execute(  # type: ignore[deprecated]
        update(Broadcast).where(col(Broadcast.state) == BroadcastState.QUEUED.value, ~pending)
        .values(state=BroadcastState.DONE.value, finished_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
