"""How much waits in each lane's queue, read for the metrics (services/queue_stats.py).

Queued rows are counted through the partial index that holds only them (`ix_messages_due`: lane,
platform, next_attempt_at, id), and the oldest is found by its id (ids grow with time), so the
read stays cheap however many messages were ever sent. Rows in flight (`sending`) are few.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.messages import IS_QUEUED, IS_SENDING, MESSAGES


@dataclass(frozen=True)
class LaneDepth:
    lane: str
    platform: str
    queued: int = 0  # waiting, due now or later (a retry's backoff)
    due: int = 0  # waiting and due now
    sending: int = 0  # claimed by a worker, in flight
    oldest_queued_at: datetime | None = None  # when the oldest waiting row was queued


async def lane_depths(session: AsyncSession, now: datetime) -> list[LaneDepth]:
    """Every lane and destination platform with rows waiting or in flight."""
    waiting = await session.execute(  # type: ignore[deprecated]
        select(MESSAGES.c.lane, MESSAGES.c.platform, func.count(),
               func.sum(case((MESSAGES.c.next_attempt_at <= now, 1), else_=0)), func.min(MESSAGES.c.id))
        .where(IS_QUEUED).group_by(MESSAGES.c.lane, MESSAGES.c.platform))
    queued = {(lane, platform): (int(count), int(due or 0), int(oldest))
              for lane, platform, count, due, oldest in waiting.all()}
    created: dict[int, datetime] = {}
    if queued:
        rows = await session.execute(  # type: ignore[deprecated]
            select(MESSAGES.c.id, MESSAGES.c.created_at).where(MESSAGES.c.id.in_([v[2] for v in queued.values()])))
        created = {int(row_id): at for row_id, at in rows.all()}
    flying = await session.execute(  # type: ignore[deprecated]
        select(MESSAGES.c.lane, MESSAGES.c.platform, func.count()).where(IS_SENDING)
        .group_by(MESSAGES.c.lane, MESSAGES.c.platform))
    sending = {(lane, platform): int(count) for lane, platform, count in flying.all()}
    depths = []
    for key in sorted(queued.keys() | sending.keys()):
        count, due, oldest = queued.get(key, (0, 0, 0))
        depths.append(LaneDepth(key[0], key[1], count, due, sending.get(key, 0), created.get(oldest)))
    return depths
