"""Appending to and reading the proof chain (tables in storage/proof_models.py).

The format, fixed forever (version 1), so that anyone can check the chain without this program:

- canonical event: JSON with sorted keys, no spaces, ASCII only, of
  `{"v": 1, "seq", "kind", "notice_id", "ruling_id", "citizen_id", "source_id", "platform", "chat_id",
  "user_id", "occurred_at", "backfilled"}`; integers as integers, absent values as null, times in UTC
  as `YYYY-MM-DDTHH:MM:SS.ffffffZ`;
- `hash = hex(SHA-256(ascii(prev_hash) + ascii(event)))`, the first record's `prev_hash` being 64 zeros;
- the head's `seal = hex(HMAC-SHA256(SECRET_KEY, "eblagh-proof-head:v1:{seq}:{hash}"))`.

Appends happen in the transaction that records the fact (a delivery, a view, deemed service), after the
fact's own writes, and take the head row `FOR UPDATE`: on PostgreSQL concurrent appenders queue on it,
so the chain never forks; SQLite serialises writers already. The key travels with the session
(`Database(url, proof_key=...)` puts it in `session.info`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import exists, func, insert, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import DeliveryStatus, Message, MessageKind, Notice, Receipt, Ruling
from storage.proof_models import ProofHead, ProofKind, ProofRecord

log = logging.getLogger(__name__)

GENESIS = "0" * 64
FORMAT_VERSION = 1
HEAD_ID = 1
PROOF_KEY = "proof_key"  # the session.info entry holding SECRET_KEY


@dataclass(frozen=True)
class ProofEvent:
    """A fact to append; the notice's ruling and citizen are looked up when it is appended."""

    kind: ProofKind
    notice_id: int
    occurred_at: datetime
    source_id: int | None = None
    platform: str | None = None
    chat_id: int | None = None
    user_id: int | None = None


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_fields(*, seq: int, kind: str, notice_id: int, ruling_id: str, citizen_id: int,
                 source_id: int | None, platform: str | None, chat_id: int | None, user_id: int | None,
                 occurred_at: datetime, backfilled: bool) -> dict[str, object]:
    return {"v": FORMAT_VERSION, "seq": seq, "kind": str(kind), "notice_id": notice_id, "ruling_id": ruling_id,
            "citizen_id": citizen_id, "source_id": source_id, "platform": platform, "chat_id": chat_id,
            "user_id": user_id, "occurred_at": utc_text(occurred_at), "backfilled": backfilled}


def canonical(fields: dict[str, object]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def record_fields(record: ProofRecord) -> dict[str, object]:
    """The event a stored record's columns describe (to compare with its stored `event`)."""
    return event_fields(seq=record.seq, kind=record.kind, notice_id=record.notice_id, ruling_id=record.ruling_id,
                        citizen_id=record.citizen_id, source_id=record.source_id, platform=record.platform,
                        chat_id=record.chat_id, user_id=record.user_id, occurred_at=record.occurred_at,
                        backfilled=record.backfilled)


def chain_hash(prev_hash: str, event: str) -> str:
    return hashlib.sha256((prev_hash + event).encode("ascii")).hexdigest()


def seal(key: bytes, seq: int, head_hash: str) -> str:
    message = f"eblagh-proof-head:v{FORMAT_VERSION}:{seq}:{head_hash}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def build_records(events: Iterable[tuple[ProofEvent, str, int]], *, after_seq: int, after_hash: str,
                  now: datetime, backfilled: bool = False) -> list[dict[str, object]]:
    """Rows for `proof_chain` continuing the chain from (after_seq, after_hash); each event comes with
    its notice's ruling_id and citizen_id."""
    rows: list[dict[str, object]] = []
    seq, prev = after_seq, after_hash
    for event, ruling_id, citizen_id in events:
        seq += 1
        text = canonical(event_fields(
            seq=seq, kind=event.kind, notice_id=event.notice_id, ruling_id=ruling_id, citizen_id=citizen_id,
            source_id=event.source_id, platform=event.platform, chat_id=event.chat_id, user_id=event.user_id,
            occurred_at=event.occurred_at, backfilled=backfilled))
        digest = chain_hash(prev, text)
        rows.append({"seq": seq, "kind": str(event.kind), "notice_id": event.notice_id, "ruling_id": ruling_id,
                     "citizen_id": citizen_id, "source_id": event.source_id, "platform": event.platform,
                     "chat_id": event.chat_id, "user_id": event.user_id, "occurred_at": event.occurred_at,
                     "backfilled": backfilled, "recorded_at": now, "event": text, "prev_hash": prev,
                     "hash": digest})
        prev = digest
    return rows


async def append(session: AsyncSession, events: Sequence[ProofEvent]) -> None:
    """Append these facts, in order, in the caller's transaction (call it after the facts' own writes)."""
    if not events:
        return
    notices = Notice.__table__  # type: ignore[attr-defined]
    rulings = Ruling.__table__  # type: ignore[attr-defined]
    ids = sorted({e.notice_id for e in events})
    found = await session.execute(  # type: ignore[deprecated]
        select(notices.c.id, rulings.c.ruling_id, notices.c.citizen_id)
        .join(rulings, rulings.c.id == notices.c.ruling_pk).where(notices.c.id.in_(ids)))
    owners = {int(n): (str(r), int(c)) for n, r, c in found.all()}
    heads = ProofHead.__table__  # type: ignore[attr-defined]
    head = (await session.execute(  # type: ignore[deprecated]
        select(heads.c.seq, heads.c.hash).where(heads.c.id == HEAD_ID).with_for_update())).first()
    if head is None:
        raise RuntimeError("proof_chain_head is missing: run `eblagh db upgrade`")
    now = datetime.now(UTC)
    rows = build_records(((e, *owners[e.notice_id]) for e in events), after_seq=int(head.seq),
                         after_hash=str(head.hash), now=now)
    await session.execute(insert(ProofRecord.__table__), rows)  # type: ignore[deprecated, attr-defined]
    last_seq, last_hash = int(rows[-1]["seq"]), str(rows[-1]["hash"])  # type: ignore[call-overload]
    key: bytes | None = session.info.get(PROOF_KEY)
    if key is None:
        log.warning("proof chain appended without SECRET_KEY: its head is left unsealed")
    await session.execute(  # type: ignore[deprecated]
        update(heads).where(heads.c.id == HEAD_ID)
        .values(seq=last_seq, hash=last_hash, seal=seal(key, last_seq, last_hash) if key else None,
                updated_at=now))


# Reading ---------------------------------------------------------------------------------------------


async def get_head(session: AsyncSession) -> ProofHead | None:
    return await session.get(ProofHead, HEAD_ID)


async def iter_records(session: AsyncSession, batch: int = 1000) -> AsyncIterator[list[ProofRecord]]:
    """The whole chain in seq order, a batch at a time."""
    after = -1
    while True:
        result = await session.execute(  # type: ignore[deprecated]
            select(ProofRecord).where(col(ProofRecord.seq) > after).order_by(col(ProofRecord.seq)).limit(batch))
        records = list(result.scalars().all())
        if not records:
            return
        yield records
        after = records[-1].seq


async def latest_delivered_seqs(session: AsyncSession) -> dict[int, int]:
    """messages.id (a notice's) -> the seq of its latest "delivered" record (a resend after a crash adds one)."""
    table = ProofRecord.__table__  # type: ignore[attr-defined]
    result = await session.execute(  # type: ignore[deprecated]
        select(table.c.source_id, func.max(table.c.seq))
        .where(table.c.kind == ProofKind.DELIVERED.value, table.c.source_id.is_not(None))
        .group_by(table.c.source_id))
    return {int(source): int(seq) for source, seq in result.all()}


@dataclass(frozen=True)
class ProofRef:
    seq: int
    hash: str


async def latest_in_range(session: AsyncSession, first_notice: int, end_notice: int
                          ) -> dict[tuple[int, str | None, int | None], ProofRef]:
    """For notices first_notice <= id < end_notice: the latest record of each (notice, platform, chat) for
    deliveries, and of each (notice, None, None) for what serves the notice whichever chat it was opened
    in (views, deemed service)."""
    table = ProofRecord.__table__  # type: ignore[attr-defined]
    result = await session.execute(  # type: ignore[deprecated]
        select(table.c.notice_id, table.c.kind, table.c.platform, table.c.chat_id, table.c.seq, table.c.hash)
        .where(table.c.notice_id >= first_notice, table.c.notice_id < end_notice).order_by(table.c.seq))
    latest: dict[tuple[int, str | None, int | None], ProofRef] = {}
    for notice_id, kind, platform, chat_id, seq, digest in result.all():
        key = (int(notice_id), platform, chat_id) if kind == ProofKind.DELIVERED.value else (int(notice_id), None, None)
        latest[key] = ProofRef(int(seq), str(digest))  # ordered by seq: the last one wins
    return latest


# What the records must agree with ---------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeFacts:
    ruling_id: str
    citizen_id: int
    first_delivered_at: datetime | None
    viewed_at: datetime | None
    deemed_recorded_at: datetime | None


@dataclass(frozen=True)
class Facts:
    """The current rows that a batch of records speaks of."""

    notices: dict[int, NoticeFacts]
    deliveries: dict[int, Message]  # the notices' messages the records name
    receipts: dict[int, Receipt]


async def facts_for(session: AsyncSession, records: Sequence[ProofRecord]) -> Facts:
    notice_ids = sorted({r.notice_id for r in records})
    delivery_ids = sorted({r.source_id for r in records if r.kind == ProofKind.DELIVERED and r.source_id})
    receipt_ids = sorted({r.source_id for r in records if r.kind == ProofKind.VIEWED and r.source_id})
    notices: dict[int, NoticeFacts] = {}
    if notice_ids:
        result = await session.execute(  # type: ignore[deprecated]
            select(Notice, col(Ruling.ruling_id)).outerjoin(Ruling, col(Ruling.id) == col(Notice.ruling_pk))
            .where(col(Notice.id).in_(notice_ids)))
        for notice, ruling_id in result.all():
            notices[int(notice.id)] = NoticeFacts(str(ruling_id), notice.citizen_id, notice.first_delivered_at,
                                                  notice.viewed_at, notice.deemed_recorded_at)
    deliveries: dict[int, Message] = {}
    if delivery_ids:
        found = await session.execute(select(Message).where(  # type: ignore[deprecated]
            col(Message.id).in_(delivery_ids), col(Message.kind) == MessageKind.NOTICE.value))
        deliveries = {int(d.id): d for d in found.scalars().all()}
    receipts: dict[int, Receipt] = {}
    if receipt_ids:
        found = await session.execute(select(Receipt).where(col(Receipt.id).in_(receipt_ids)))  # type: ignore[deprecated]
        receipts = {int(r.id): r for r in found.scalars().all()}
    return Facts(notices, deliveries, receipts)


@dataclass(frozen=True)
class Unrecorded:
    """A fact in the tables that no proof record stands for (written, or altered, behind the chain's back)."""

    kind: ProofKind
    notice_id: int
    what: str


def _unchained(kind: ProofKind, notice_column, source_column=None):  # type: ignore[no-untyped-def]
    chain = ProofRecord.__table__  # type: ignore[attr-defined]
    condition = (chain.c.kind == kind.value) & (chain.c.notice_id == notice_column)
    if source_column is not None:
        condition = condition & (chain.c.source_id == source_column)
    return ~exists().where(condition)


async def unrecorded_facts(session: AsyncSession, limit: int = 20) -> list[Unrecorded]:
    """Sent deliveries, receipts, views, deemed services and first deliveries with no proof record."""
    found: list[Unrecorded] = []
    sent = await session.execute(  # type: ignore[deprecated]
        select(Message).where(col(Message.kind) == MessageKind.NOTICE.value,
                              col(Message.status) == DeliveryStatus.SENT.value,
                              _unchained(ProofKind.DELIVERED, col(Message.ref_id), col(Message.id)))
        .order_by(col(Message.id)).limit(limit))
    found += [Unrecorded(ProofKind.DELIVERED, d.ref_id, f"delivery {d.id} to {d.platform}:{d.chat_id} is "
                         f"marked sent at {_show(d.sent_at)} but has no proof record") for d in sent.scalars()]
    receipts = await session.execute(  # type: ignore[deprecated]
        select(Receipt).where(_unchained(ProofKind.VIEWED, col(Receipt.notice_id), col(Receipt.id)))
        .order_by(col(Receipt.id)).limit(limit))
    found += [Unrecorded(ProofKind.VIEWED, r.notice_id, f"receipt {r.id} ({r.platform}:{r.chat_id}, viewed at "
                         f"{_show(r.viewed_at)}) has no proof record") for r in receipts.scalars()]
    for kind, column, label in ((ProofKind.DELIVERED, Notice.first_delivered_at, "first_delivered_at"),
                                (ProofKind.VIEWED, Notice.viewed_at, "viewed_at"),
                                (ProofKind.DEEMED, Notice.deemed_recorded_at, "deemed_recorded_at")):
        notices = await session.execute(  # type: ignore[deprecated]
            select(col(Notice.id), col(column)).where(col(column).is_not(None), _unchained(kind, col(Notice.id)))
            .order_by(col(Notice.id)).limit(limit))
        found += [Unrecorded(kind, int(n), f"notice {label} is {_show(at)} but no {kind.value} record exists")
                  for n, at in notices.all()]
    return found


def _show(value: datetime | None) -> str:
    return utc_text(value) if value is not None else "null"
