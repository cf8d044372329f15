"""Data access for the worker's two lanes: notice deliveries (`deliveries`) and outbox messages.

Both tables share the columns of a message's life (status, attempts, last_error, next_attempt_at,
claimed_at, sent_at), so one set of verbs serves both. The database row is the truth: claiming is a
conditional UPDATE from queued to sending, so a message reaches one sender at a time however many
queues hand it out, and a crash can repeat at most the messages in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Table, bindparam, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import api_events, proof
from storage.api_models import EventType
from storage.models import Delivery, DeliveryStatus, Notice
from storage.outbox_models import OutboxMessage
from storage.proof import ProofEvent
from storage.proof_models import ProofKind


class Lane(StrEnum):
    NOTICE = "d"  # deliveries: a notice to a chat
    OUTBOX = "o"  # outbox: a broadcast copy or a reminder to a chat


def _table(lane: Lane) -> Table:
    model = Delivery if lane is Lane.NOTICE else OutboxMessage
    return model.__table__  # type: ignore[union-attr, attr-defined, no-any-return]


@dataclass(frozen=True)
class Claimed:
    """A message one sender now owns: what to send (kind, ref) and where."""

    lane: Lane
    id: int
    platform: str
    chat_id: int
    attempts: int
    kind: str  # "notice", "broadcast" or "reminder"
    ref_id: int  # the notice or broadcast it belongs to

    @property
    def ref(self) -> str:
        return f"{self.lane.value}:{self.id}"


def parse_ref(ref: str) -> tuple[Lane, int] | None:
    """"d:12" -> (Lane.NOTICE, 12); None for anything else (a queue entry from another version)."""
    head, _, tail = ref.partition(":")
    try:
        return Lane(head), int(tail)
    except ValueError:
        return None


def _due(table: Table, now: datetime):  # type: ignore[no-untyped-def]
    return or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now)


async def claim(session: AsyncSession, lane: Lane, row_ids: Sequence[int], now: datetime) -> list[Claimed]:
    """queued and due -> sending, each row for one caller only; rows someone else has, or that are
    done, are left out."""
    if not row_ids:
        return []
    table = _table(lane)
    result = await session.execute(  # type: ignore[deprecated]
        update(table)
        .where(table.c.id.in_(list(row_ids)), table.c.status == DeliveryStatus.QUEUED.value, _due(table, now))
        .values(status=DeliveryStatus.SENDING.value, claimed_at=now)
        .returning(*table.c)
    )
    claimed = []
    for row in result.mappings().all():
        if lane is Lane.NOTICE:
            kind, ref_id = "notice", int(row["notice_id"])
        else:
            kind, ref_id = str(row["kind"]), int(row["ref_id"])
        claimed.append(Claimed(lane, int(row["id"]), str(row["platform"]), int(row["chat_id"]),
                               int(row["attempts"]), kind, ref_id))
    return claimed


async def mark_sent(session: AsyncSession, sent: Sequence[tuple[Claimed, int, datetime]]) -> None:
    """Record (claimed, message_id, sent_at) outcomes, one statement per lane (executemany)."""
    for lane in Lane:
        rows = [(c, message_id, at) for c, message_id, at in sent if c.lane is lane]
        if not rows:
            continue
        table = _table(lane)
        await session.execute(  # type: ignore[deprecated]
            update(table).where(table.c.id == bindparam("row_id"))
            .values(status=DeliveryStatus.SENT.value, message_id=bindparam("mid"), sent_at=bindparam("at"),
                    attempts=table.c.attempts + 1, last_error=None, claimed_at=None),
            [{"row_id": c.id, "mid": message_id, "at": at} for c, message_id, at in rows])
        if lane is Lane.NOTICE:
            # The first accepted delivery starts the deemed-service clock.
            notices = Notice.__table__  # type: ignore[attr-defined]
            await session.execute(  # type: ignore[deprecated]
                update(notices).where(notices.c.id == bindparam("notice_id"), notices.c.first_delivered_at.is_(None))
                .values(first_delivered_at=bindparam("at")),
                [{"notice_id": c.ref_id, "at": at} for c, _mid, at in rows])
    await api_events.append(session, [api_events.NewEvent(EventType.NOTICE_DELIVERED, at, c.ref_id,
                                                          {"platform": c.platform})
                                      for c, _mid, at in sent if c.lane is Lane.NOTICE])
    # Last, after every row lock this transaction takes: the chain's head lock is held only to commit.
    await proof.append(session, [ProofEvent(ProofKind.DELIVERED, c.ref_id, at, c.id, c.platform, c.chat_id)
                                 for c, _mid, at in sent if c.lane is Lane.NOTICE])


async def mark_retry(session: AsyncSession, lane: Lane, row_id: int, error: str, next_attempt_at: datetime,
                     count_attempt: bool = True) -> None:
    table = _table(lane)
    values: dict[str, object] = {"status": DeliveryStatus.QUEUED.value, "next_attempt_at": next_attempt_at,
                                 "last_error": error[:500], "claimed_at": None}
    if count_attempt:
        values["attempts"] = table.c.attempts + 1
    await session.execute(update(table).where(table.c.id == row_id).values(**values))  # type: ignore[deprecated]


async def mark_final(session: AsyncSession, lane: Lane, row_id: int, status: DeliveryStatus, error: str) -> None:
    table = _table(lane)
    result = await session.execute(  # type: ignore[deprecated]
        update(table).where(table.c.id == row_id)
        .values(status=status.value, last_error=error[:500], attempts=table.c.attempts + 1, claimed_at=None)
        .returning(*table.c)
    )
    row = result.mappings().first()
    if lane is Lane.NOTICE and row is not None and status in (DeliveryStatus.FAILED, DeliveryStatus.BLOCKED):
        reason = "blocked" if status is DeliveryStatus.BLOCKED else "failed"
        await api_events.append(session, [api_events.NewEvent(
            EventType.NOTICE_FAILED, datetime.now(UTC), int(row["notice_id"]),
            {"platform": str(row["platform"]), "reason": reason})])


async def touch(session: AsyncSession, lane: Lane, row_ids: Sequence[int], now: datetime) -> None:
    """The sender holding these claims is alive: renew them, so they are not taken as stale."""
    if row_ids:
        table = _table(lane)
        await session.execute(  # type: ignore[deprecated]
            update(table).where(table.c.id.in_(list(row_ids)), table.c.status == DeliveryStatus.SENDING.value)
            .values(claimed_at=now))


async def release_stale(session: AsyncSession, lane: Lane, older_than: datetime) -> int:
    """Claims of a sender that died mid-send go back to the queue (at most those may repeat)."""
    table = _table(lane)
    result = await session.execute(  # type: ignore[deprecated]
        update(table)
        .where(table.c.status == DeliveryStatus.SENDING.value, table.c.claimed_at < older_than)
        .values(status=DeliveryStatus.QUEUED.value, claimed_at=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def due_ids(session: AsyncSession, lane: Lane, platform: str, now: datetime, *, after_id: int = 0,
                  limit: int = 1000) -> list[int]:
    """Queued, due messages for this platform in id order, from `after_id` on (keyset pages)."""
    table = _table(lane)
    result = await session.execute(  # type: ignore[deprecated]
        select(table.c.id)
        .where(table.c.platform == platform, table.c.status == DeliveryStatus.QUEUED.value,
               _due(table, now), table.c.id > after_id)
        .order_by(table.c.id).limit(limit)
    )
    return [int(row_id) for row_id in result.scalars().all()]


def refs_of(lane: Lane, ids: Sequence[int]) -> list[str]:
    return [f"{lane.value}:{row_id}" for row_id in ids]
