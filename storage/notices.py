"""Data access for cases, rulings, notices and receipts, as the conversation and export read them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import api_events, proof
from storage.api_models import EventType
from storage.models import Case, ChatBinding, Citizen, Message, MessageKind, Notice, Receipt, Ruling
from storage.proof import ProofEvent
from storage.proof_models import ProofKind


@dataclass(frozen=True)
class NoticeRow:
    """A notice with what is needed to show it: its ruling and case."""

    notice: Notice
    ruling: Ruling
    case: Case


def _notice_query():  # type: ignore[no-untyped-def]
    return (
        select(Notice, Ruling, Case)
        .join(Ruling, col(Ruling.id) == col(Notice.ruling_pk))
        .join(Case, col(Case.id) == col(Ruling.case_id))
    )


async def get_notice_row(session: AsyncSession, notice_id: int) -> NoticeRow | None:
    result = await session.exec(_notice_query().where(col(Notice.id) == notice_id))
    row = result.first()
    return NoticeRow(*row) if row else None


async def list_notice_rows(session: AsyncSession, citizen_id: int) -> list[NoticeRow]:
    result = await session.exec(
        _notice_query().where(col(Notice.citizen_id) == citizen_id).order_by(col(Ruling.issued_on).desc(),
                                                                               col(Notice.id).desc())
    )
    return [NoticeRow(*row) for row in result.all()]


@dataclass(frozen=True, slots=True)
class RulingFacts:
    """A ruling of a citizen as every question reads it, with its notice's times (None: no notice yet)."""

    ruling_id: str
    commission: str
    kind: str
    issued_on: date
    fine_amount_rials: int | None
    summary: str
    notice_id: int | None
    first_delivered_at: datetime | None
    viewed_at: datetime | None


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """One case of a citizen with its rulings of this citizen, oldest first."""

    case_number: str
    status: str
    district: int | None
    address: str
    violation: str
    hearing_at: datetime | None
    rulings: list[RulingFacts]


@dataclass(frozen=True, slots=True)
class CitizenFacts:
    full_name: str
    nid_masked: str
    district: int | None
    cases: list[CaseFacts]


# Read for every question, so a Core statement built once: plain columns (no identity map, no instance
# state, no ORM compile step, no statement built and cache-keyed per call), and never a ruling's full text
# (up to 50,000 characters).
_CITIZENS: Table = Citizen.__table__  # type: ignore[attr-defined]
_CASES: Table = Case.__table__  # type: ignore[attr-defined]
_RULINGS: Table = Ruling.__table__  # type: ignore[attr-defined]
_NOTICES: Table = Notice.__table__  # type: ignore[attr-defined]
_OVERVIEW = (
    sa_select(_CITIZENS.c.full_name, _CITIZENS.c.nid_masked, _CITIZENS.c.district,
              _CASES.c.id, _CASES.c.case_number, _CASES.c.status, _CASES.c.district, _CASES.c.address,
              _CASES.c.violation, _CASES.c.hearing_at,
              _RULINGS.c.id, _RULINGS.c.ruling_id, _RULINGS.c.commission, _RULINGS.c.kind, _RULINGS.c.issued_on,
              _RULINGS.c.fine_amount_rials, _RULINGS.c.summary,
              _NOTICES.c.id, _NOTICES.c.first_delivered_at, _NOTICES.c.viewed_at)
    .select_from(
        _CITIZENS
        .outerjoin(_CASES, _CASES.c.citizen_id == _CITIZENS.c.id)
        .outerjoin(_RULINGS, (_RULINGS.c.case_id == _CASES.c.id) & (_RULINGS.c.citizen_id == _CITIZENS.c.id))
        .outerjoin(_NOTICES, _NOTICES.c.ruling_pk == _RULINGS.c.id))
    .where(_CITIZENS.c.id == bindparam("citizen_id"))
    .order_by(_CASES.c.id, _RULINGS.c.issued_on, _RULINGS.c.id)
)


async def citizen_with_cases(session: AsyncSession, citizen_id: int) -> CitizenFacts | None:
    """A citizen and their cases (by id), each with its rulings of this citizen: one query; None if no citizen."""
    connection = await session.connection()
    result = await connection.execute(_OVERVIEW, {"citizen_id": citizen_id})
    citizen: CitizenFacts | None = None
    cases: dict[int, CaseFacts] = {}
    for (full_name, nid_masked, citizen_district, case_pk, case_number, status, district, address, violation,
         hearing_at, ruling_pk, ruling_id, commission, kind, issued_on, fine, summary,
         notice_id, first_delivered_at, viewed_at) in result.tuples():
        if citizen is None:
            citizen = CitizenFacts(full_name, nid_masked, citizen_district, [])
        if case_pk is None:
            continue
        case = cases.get(case_pk)
        if case is None:
            case = cases[case_pk] = CaseFacts(case_number, status, district, address, violation, hearing_at, [])
            citizen.cases.append(case)
        if ruling_pk is not None:
            case.rulings.append(RulingFacts(ruling_id, commission, kind, issued_on, fine, summary,
                                            notice_id, first_delivered_at, viewed_at))
    return citizen


async def record_first_view(session: AsyncSession, notice_id: int, *, platform: str, chat_id: int,
                            user_id: int | None, at: datetime) -> bool:
    """Set the notice's view time and write its receipt (and its proof record), only if it was never viewed.
    True if this was the first."""
    result = await session.exec(
        update(Notice)  # type: ignore[call-overload]
        .where(col(Notice.id) == notice_id, col(Notice.viewed_at).is_(None))
        .values(viewed_at=at)
    )
    if not result.rowcount:
        return False
    receipt = Receipt(notice_id=notice_id, platform=platform, chat_id=chat_id, user_id=user_id, viewed_at=at)
    session.add(receipt)
    await session.flush()
    await api_events.append(session, [api_events.NewEvent(EventType.NOTICE_VIEWED, at, notice_id,
                                                          {"platform": platform, "viewed_at": at.isoformat()})])
    await proof.append(session, [ProofEvent(ProofKind.VIEWED, notice_id, at, receipt.id, platform, chat_id,
                                            user_id)])
    return True


@dataclass(frozen=True)
class ReceiptRow:
    """One notice and one chat it went to (or none yet), for the proof-of-service export."""

    notice: Notice
    ruling: Ruling
    case: Case
    citizen: Citizen
    delivery: Message | None  # the notice's message to one chat
    binding: ChatBinding | None = None  # the delivery's chat binding (how the phone was proven)


async def iter_receipt_rows(session: AsyncSession, batch: int = 2000,
                            notice_id: int | None = None) -> AsyncIterator[ReceiptRow]:
    """Every notice (or the one `notice_id`) joined to each of its deliveries, in notice order, streamed
    in batches."""
    last_notice, last_delivery = 0, 0
    while True:
        query = (
            sa_select(Notice, Ruling, Case, Citizen, Message, ChatBinding)
            .join(Ruling, col(Ruling.id) == col(Notice.ruling_pk))
            .join(Case, col(Case.id) == col(Ruling.case_id))
            .join(Citizen, col(Citizen.id) == col(Notice.citizen_id))
            .outerjoin(Message, (col(Message.ref_id) == col(Notice.id))
                       & (col(Message.kind) == MessageKind.NOTICE.value))
            .outerjoin(ChatBinding, (col(ChatBinding.platform) == col(Message.platform))
                       & (col(ChatBinding.chat_id) == col(Message.chat_id)))
            .where(
                (col(Notice.id) > last_notice)
                | ((col(Notice.id) == last_notice) & (col(Message.id) > last_delivery))
            )
            .order_by(col(Notice.id), col(Message.id))
            .limit(batch)
        )
        if notice_id is not None:
            query = query.where(col(Notice.id) == notice_id)
        rows = (await session.execute(query)).all()
        if not rows:
            return
        for notice, ruling, case, citizen, delivery, binding in rows:
            yield ReceiptRow(notice, ruling, case, citizen, delivery, binding)
        last_notice = rows[-1][0].id or 0
        last_delivery = rows[-1][4].id if rows[-1][4] is not None else 10**18
