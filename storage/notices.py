"""Data access for cases, rulings, notices and receipts, as the conversation and export read them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlalchemy.orm import defer
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


@dataclass(frozen=True)
class CaseRows:
    """One case of a citizen with its rulings (oldest first), each with its notice (None: never made one)."""

    case: Case
    rulings: list[tuple[Ruling, Notice | None]]


async def citizen_with_cases(session: AsyncSession, citizen_id: int) -> tuple[Citizen, list[CaseRows]] | None:
    """A citizen and their cases (by id), each with its rulings of this citizen: one query; None if no citizen.

    Read for every question: a ruling's full text (up to 50,000 characters) is left unloaded here.
    """
    result = await session.execute(
        sa_select(Citizen, Case, Ruling, Notice)
        .options(defer(Ruling.text, raiseload=True))  # type: ignore[arg-type]  # (sqlmodel types it as str)
        .outerjoin(Case, col(Case.citizen_id) == col(Citizen.id))
        .outerjoin(Ruling, (col(Ruling.case_id) == col(Case.id)) & (col(Ruling.citizen_id) == col(Citizen.id)))
        .outerjoin(Notice, col(Notice.ruling_pk) == col(Ruling.id))
        .where(col(Citizen.id) == citizen_id)
        .order_by(col(Case.id), col(Ruling.issued_on), col(Ruling.id))
    )
    citizen: Citizen | None = None
    cases: dict[int, CaseRows] = {}
    for found, case, ruling, notice in result.all():
        citizen = found
        if case is None:
            continue
        rows = cases.setdefault(case.id, CaseRows(case, []))
        if ruling is not None:
            rows.rulings.append((ruling, notice))
    return (citizen, list(cases.values())) if citizen is not None else None


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
