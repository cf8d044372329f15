"""Data access for outgoing messages (`messages`): one table and one vocabulary for every lane and kind.

A row moves queued -> sending (claimed by one worker) -> sent | failed | blocked, back to queued with a
later `next_attempt_at`, or to cancelled. The database row is the truth: claiming is a conditional
UPDATE from queued to sending that names the claiming worker (`claimed_by`), so a message reaches one
sender at a time however many queues hand it out, and a crash can repeat at most the messages in flight.
A worker's claims are held by its heartbeat (services/delivery/ports.py); when it stops, `release`
gives them back.

The sweeper's reads go through partial indexes (queued rows, sending rows, notices and chats not yet
fanned out), so an idle pass costs the same with a thousand rows or ten million.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import api_events, proof
from storage.api_models import EventType
from storage.models import ChatBinding, DeliveryStatus, LaneName, Message, MessageKind, Notice
from storage.proof import ProofEvent
from storage.proof_models import ProofKind
from storage.types import UTCDateTime

MESSAGES: Table = Message.__table__  # type: ignore[attr-defined]
NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]
BINDINGS: Table = ChatBinding.__table__  # type: ignore[attr-defined]

# Spelled out, not bound: a partial index is used only when the query says its condition literally.
IS_QUEUED = MESSAGES.c.status == literal_column("'queued'")
IS_SENDING = MESSAGES.c.status == literal_column("'sending'")


@dataclass(frozen=True)
class Claimed:
    """A message one worker now owns: what to send (kind, ref, body) and where."""

    id: int
    lane: str
    kind: str
    ref_id: int
    platform: str
    chat_id: int
    attempts: int
    body: str | None = None
    origin_id: int | None = None
    notify_chat_id: int | None = None
    created_at: datetime | None = None  # when it was queued (a lane may give up on age)

    @property
    def ref(self) -> str:
        return ref_of(self.id)


def ref_of(message_id: int) -> str:
    """A queue entry's reference to its row."""
    return f"m:{message_id}"


def refs_of(ids: Sequence[int]) -> list[str]:
    return [ref_of(i) for i in ids]


def parse_ref(ref: str) -> int | None:
    """"m:12" -> 12; None for anything else (an entry left by an older version: its row is swept again)."""
    head, _, tail = ref.partition(":")
    if head != "m":
        return None
    try:
        return int(tail)
    except ValueError:
        return None


def _due(now: datetime):  # type: ignore[no-untyped-def]
    return MESSAGES.c.next_attempt_at <= now


def _claimed(row: dict[str, object]) -> Claimed:
    def opt(name: str) -> int | None:
        value = row[name]
        return None if value is None else int(value)  # type: ignore[call-overload]

    return Claimed(int(row["id"]), str(row["lane"]), str(row["kind"]), int(row["ref_id"]),  # type: ignore[call-overload]
                   str(row["platform"]), int(row["chat_id"]), int(row["attempts"]),  # type: ignore[call-overload]
                   None if row["body"] is None else str(row["body"]), opt("origin_id"), opt("notify_chat_id"),
                   row.get("created_at"))  # type: ignore[arg-type]


# Claiming and recording ----------------------------------------------------------------------------


async def claim(session: AsyncSession, ids: Sequence[int], now: datetime, holder: str) -> list[Claimed]:
    """queued and due -> sending by `holder`, each row for one caller only; rows someone else has, or
    that are done or not due, are left out."""
    if not ids:
        return []
    result = await session.execute(  # type: ignore[deprecated]
        update(MESSAGES)
        .where(MESSAGES.c.id.in_(list(ids)), IS_QUEUED, _due(now))
        .values(status=DeliveryStatus.SENDING.value, claimed_at=now, claimed_by=holder)
        .returning(*MESSAGES.c))
    return sorted((_claimed(dict(row)) for row in result.mappings().all()), key=lambda c: c.id)


async def mark_sent(session: AsyncSession, sent: Sequence[tuple[Claimed, int, datetime]]) -> None:
    """Record (claimed, message_id, sent_at) outcomes in one statement (executemany); a notice's first
    accepted delivery starts its deemed-service clock, and every delivered notice is an event of the
    integration API's feed and joins the proof chain, in this same transaction."""
    if not sent:
        return
    await session.execute(  # type: ignore[deprecated]
        update(MESSAGES).where(MESSAGES.c.id == bindparam("row_id"))
        .values(status=DeliveryStatus.SENT.value, message_id=bindparam("mid"), sent_at=bindparam("at"),
                attempts=MESSAGES.c.attempts + 1, last_error=None, claimed_at=None, claimed_by=None),
        [{"row_id": c.id, "mid": message_id, "at": at} for c, message_id, at in sent])
    notices = [(c, at) for c, _mid, at in sent if c.kind == MessageKind.NOTICE]
    if not notices:
        return
    await session.execute(  # type: ignore[deprecated]
        update(NOTICES).where(NOTICES.c.id == bindparam("notice_id"), NOTICES.c.first_delivered_at.is_(None))
        .values(first_delivered_at=bindparam("at")),
        [{"notice_id": c.ref_id, "at": at} for c, at in notices])
    await api_events.append(session, [api_events.NewEvent(EventType.NOTICE_DELIVERED, at, c.ref_id,
                                                          {"platform": c.platform}) for c, at in notices])
    # Last, after every row lock this transaction takes: the chain's head lock is held only to commit.
    await proof.append(session, [ProofEvent(ProofKind.DELIVERED, c.ref_id, at, c.id, c.platform, c.chat_id)
                                 for c, at in notices])


async def mark_retry(session: AsyncSession, message_id: int, error: str, next_attempt_at: datetime,
                     count_attempt: bool = True) -> None:
    values: dict[str, object] = {"status": DeliveryStatus.QUEUED.value, "next_attempt_at": next_attempt_at,
                                 "last_error": error[:500], "claimed_at": None, "claimed_by": None}
    if count_attempt:
        values["attempts"] = MESSAGES.c.attempts + 1
    await session.execute(update(MESSAGES).where(MESSAGES.c.id == message_id).values(**values))  # type: ignore[deprecated]


async def mark_final(session: AsyncSession, message_id: int, status: DeliveryStatus, error: str,
                     now: datetime | None = None) -> None:
    """A message that will not go; a notice that failed or was blocked is an event of the integration
    API's feed (notice.failed), in this same transaction."""
    result = await session.execute(  # type: ignore[deprecated]
        update(MESSAGES).where(MESSAGES.c.id == message_id)
        .values(status=status.value, last_error=error[:500], attempts=MESSAGES.c.attempts + 1, claimed_at=None,
                claimed_by=None)
        .returning(MESSAGES.c.kind, MESSAGES.c.ref_id, MESSAGES.c.platform))
    row = result.first()
    if row is None or row.kind != MessageKind.NOTICE.value or status not in (DeliveryStatus.FAILED,
                                                                               DeliveryStatus.BLOCKED):
        return
    reason = "blocked" if status is DeliveryStatus.BLOCKED else "failed"
    await api_events.append(session, [api_events.NewEvent(
        EventType.NOTICE_FAILED, now or datetime.now(UTC), int(row.ref_id),
        {"platform": str(row.platform), "reason": reason})])


# Claims of workers that stopped ------------------------------------------------------------------


async def holders(session: AsyncSession) -> list[str]:
    """The workers holding claims now (an index of in-flight rows only)."""
    result = await session.execute(  # type: ignore[deprecated]
        select(MESSAGES.c.claimed_by).where(IS_SENDING).distinct())
    return [str(name) for name in result.scalars().all() if name is not None]


async def release(session: AsyncSession, gone: Sequence[str], claimed_before: datetime) -> int:
    """Claims of workers that stopped go back to the queue (at most those may repeat). Rows claimed by
    no one named (left by an older version) count as anyone's."""
    if not gone:
        return 0
    named = [g for g in gone if g]
    who: ColumnElement[bool] = MESSAGES.c.claimed_by.in_(named) if named else literal(False)
    if "" in gone:
        who = or_(who, MESSAGES.c.claimed_by.is_(None))
    result = await session.execute(  # type: ignore[deprecated]
        update(MESSAGES).where(IS_SENDING, who, MESSAGES.c.claimed_at < claimed_before)
        .values(status=DeliveryStatus.QUEUED.value, claimed_at=None, claimed_by=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def unnamed_claims(session: AsyncSession) -> bool:
    result = await session.execute(  # type: ignore[deprecated]
        select(MESSAGES.c.id).where(IS_SENDING, MESSAGES.c.claimed_by.is_(None)).limit(1))
    return result.first() is not None


# What is due ---------------------------------------------------------------------------------------


Position = tuple[datetime, int]  # (next_attempt_at, id): where a page of due messages ends


async def due_page(session: AsyncSession, lane: str, platform: str, now: datetime, *, after: Position | None = None,
                   limit: int = 1000) -> list[tuple[int, Position]]:
    """Queued messages of this lane and destination platform that are due by `now`, oldest due first, from
    `after` on: one range of an index holding queued rows only, however many are waiting for later."""
    query = select(MESSAGES.c.id, MESSAGES.c.next_attempt_at).where(
        IS_QUEUED, MESSAGES.c.lane == lane, MESSAGES.c.platform == platform, _due(now))
    if after is not None:
        query = query.where(tuple_(MESSAGES.c.next_attempt_at, MESSAGES.c.id) > tuple_(literal(after[0], UTCDateTime()),
                                                                                       literal(after[1])))
    result = await session.execute(  # type: ignore[deprecated]
        query.order_by(MESSAGES.c.next_attempt_at, MESSAGES.c.id).limit(limit))
    return [(int(i), (at, int(i))) for i, at in result.all()]


# Fanning notices out to chats ----------------------------------------------------------------------


def _notice_rows(now: datetime):  # type: ignore[no-untyped-def]
    """(notice, active reachable chat of its citizen) pairs with no message yet, as rows to insert."""
    present = exists().where(MESSAGES.c.kind == MessageKind.NOTICE.value, MESSAGES.c.ref_id == NOTICES.c.id,
                             MESSAGES.c.platform == BINDINGS.c.platform, MESSAGES.c.chat_id == BINDINGS.c.chat_id)
    return (select(literal(LaneName.MESSENGER.value), literal(MessageKind.NOTICE.value), NOTICES.c.id,
                   BINDINGS.c.platform, BINDINGS.c.chat_id, literal(DeliveryStatus.QUEUED.value), literal(0),
                   literal(now, type_=UTCDateTime()), literal(now, type_=UTCDateTime()))
            .join(BINDINGS, BINDINGS.c.citizen_id == NOTICES.c.citizen_id)
            .where(BINDINGS.c.active.is_(True), BINDINGS.c.unreachable_at.is_(None), ~present,
                   NOTICES.c.test.is_(False)))  # integration API: a `--test` key's rulings are never sent


_COLUMNS = ["lane", "kind", "ref_id", "platform", "chat_id", "status", "attempts", "created_at", "next_attempt_at"]


async def _insert_new(session: AsyncSession, source: Select) -> int:  # type: ignore[type-arg]
    """INSERT ... SELECT, skipping rows another sweeper inserted meanwhile (ON CONFLICT DO NOTHING)."""
    conn = await session.connection()
    stmt = (postgresql.insert(MESSAGES) if conn.dialect.name == "postgresql" else sqlite.insert(MESSAGES))
    result = await conn.execute(stmt.from_select(_COLUMNS, source).on_conflict_do_nothing())
    return int(result.rowcount or 0)


async def fan_out(session: AsyncSession, now: datetime, *, limit: int = 1000) -> int:
    """Queue messages for what changed since the last pass: new notices, and chats newly bound, bound
    again or reachable again. Returns the messages queued."""
    queued = 0
    notice_ids = [int(i) for i in (await session.execute(  # type: ignore[deprecated]
        select(NOTICES.c.id).where(NOTICES.c.fanned_out_at.is_(None)).order_by(NOTICES.c.id).limit(limit)
    )).scalars().all()]
    if notice_ids:
        queued += await _insert_new(session, _notice_rows(now).where(NOTICES.c.id.in_(notice_ids)))
        await session.execute(update(NOTICES).where(NOTICES.c.id.in_(notice_ids))  # type: ignore[deprecated]
                              .values(fanned_out_at=now))
    binding_ids = [int(i) for i in (await session.execute(  # type: ignore[deprecated]
        select(BINDINGS.c.id).where(BINDINGS.c.fanned_out_at.is_(None)).order_by(BINDINGS.c.id).limit(limit)
    )).scalars().all()]
    if binding_ids:
        queued += await _fan_out_bindings(session, binding_ids, now)
    return queued


async def fan_out_binding(session: AsyncSession, binding_id: int, now: datetime) -> int:
    """At once, for a chat just bound: its citizen's notices."""
    return await _fan_out_bindings(session, [binding_id], now)


async def _fan_out_bindings(session: AsyncSession, binding_ids: list[int], now: datetime) -> int:
    # Notices cancelled for this chat when it logged out come back if the same citizen binds it again
    # (never another citizen's: the notice must belong to the chat's citizen now).
    mine = and_(BINDINGS.c.id.in_(binding_ids), BINDINGS.c.active.is_(True), BINDINGS.c.unreachable_at.is_(None),
                BINDINGS.c.platform == MESSAGES.c.platform, BINDINGS.c.chat_id == MESSAGES.c.chat_id,
                NOTICES.c.id == MESSAGES.c.ref_id, NOTICES.c.citizen_id == BINDINGS.c.citizen_id)
    revived = await session.execute(  # type: ignore[deprecated]
        update(MESSAGES).where(MESSAGES.c.kind == MessageKind.NOTICE.value,
                               MESSAGES.c.status == DeliveryStatus.CANCELLED.value,
                               exists().where(mine))
        .values(status=DeliveryStatus.QUEUED.value, next_attempt_at=now, last_error=None))
    inserted = await _insert_new(session, _notice_rows(now).where(BINDINGS.c.id.in_(binding_ids)))
    await session.execute(update(BINDINGS).where(BINDINGS.c.id.in_(binding_ids))  # type: ignore[deprecated]
                          .values(fanned_out_at=now))
    return inserted + int(revived.rowcount or 0)  # type: ignore[attr-defined]


# Messages composed when queued (handoffs, staff replies, notes) -------------------------------------


async def queue(session: AsyncSession, *, kind: MessageKind, ref_id: int, platform: str, chat_id: int,
                body: str, now: datetime, origin_id: int | None = None, notify_chat_id: int | None = None,
                lane: LaneName = LaneName.MESSENGER) -> int | None:
    """Queue one message with its text; None when the same (kind, ref, chat) is already queued."""
    taken = await session.execute(select(MESSAGES.c.id).where(  # type: ignore[deprecated]
        MESSAGES.c.kind == kind.value, MESSAGES.c.ref_id == ref_id, MESSAGES.c.platform == platform,
        MESSAGES.c.chat_id == chat_id))
    if taken.first() is not None:
        return None
    result = await session.execute(insert(MESSAGES).values(  # type: ignore[deprecated]
        lane=lane.value, kind=kind.value, ref_id=ref_id, platform=platform, chat_id=chat_id,
        status=DeliveryStatus.QUEUED.value, attempts=0, body=body, origin_id=origin_id,
        notify_chat_id=notify_chat_id, created_at=now, next_attempt_at=now).returning(MESSAGES.c.id))
    return int(result.scalar_one())


# A chat's own changes --------------------------------------------------------------------------------


async def requeue_blocked_for_chat(session: AsyncSession, platform: str, chat_id: int, now: datetime) -> int:
    """The citizen wrote again after blocking: what was blocked may go now."""
    result = await session.execute(  # type: ignore[deprecated]
        update(MESSAGES)
        .where(MESSAGES.c.platform == platform, MESSAGES.c.chat_id == chat_id,
               MESSAGES.c.status == DeliveryStatus.BLOCKED.value)
        .values(status=DeliveryStatus.QUEUED.value, next_attempt_at=now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def cancel_for_chat(session: AsyncSession, platform: str, chat_id: int, reason: str) -> int:
    """Nothing still queued for this chat goes out (it logged out); in flight, it may still arrive."""
    result = await session.execute(  # type: ignore[deprecated]
        update(MESSAGES)
        .where(MESSAGES.c.platform == platform, MESSAGES.c.chat_id == chat_id, IS_QUEUED)
        .values(status=DeliveryStatus.CANCELLED.value, last_error=reason[:500]))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def get(session: AsyncSession, message_id: int) -> Message | None:
    return await session.get(Message, message_id)
