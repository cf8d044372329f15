"""Finding notices for the dashboard, and everything its proof-of-service page shows of one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import and_, exists, func, not_, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Case,
    ChatBinding,
    Citizen,
    DeliveryStatus,
    Message,
    MessageKind,
    Notice,
    Receipt,
    Ruling,
)
from storage.proof_models import ProofRecord


class NoticeState(StrEnum):
    """Where a notice stands, for the search filter and its label."""

    PENDING = "pending"  # not yet delivered to any chat
    DELIVERED = "delivered"  # delivered, neither opened nor deemed served
    VIEWED = "viewed"
    DEEMED = "deemed"
    FAILED = "failed"  # never delivered, and a delivery failed for good


@dataclass(frozen=True)
class NoticeLine:
    notice: Notice
    ruling: Ruling
    case: Case
    citizen: Citizen
    state: NoticeState


def state_of(notice: Notice, failed: bool) -> NoticeState:
    if notice.viewed_at is not None:
        return NoticeState.VIEWED
    if notice.deemed_recorded_at is not None:
        return NoticeState.DEEMED
    if notice.first_delivered_at is not None:
        return NoticeState.DELIVERED
    return NoticeState.FAILED if failed else NoticeState.PENDING


def _failed():  # type: ignore[no-untyped-def]
    return exists().where(col(Message.kind) == MessageKind.NOTICE.value, col(Message.ref_id) == col(Notice.id),
                          col(Message.status) == DeliveryStatus.FAILED.value)


def _state_filter(state: NoticeState):  # type: ignore[no-untyped-def]
    viewed, deemed = col(Notice.viewed_at).is_not(None), col(Notice.deemed_recorded_at).is_not(None)
    delivered = col(Notice.first_delivered_at).is_not(None)
    if state is NoticeState.VIEWED:
        return viewed
    if state is NoticeState.DEEMED:
        return and_(not_(viewed), deemed)
    if state is NoticeState.DELIVERED:
        return and_(not_(viewed), not_(deemed), delivered)
    undelivered = and_(not_(viewed), not_(deemed), not_(delivered))
    return and_(undelivered, _failed() if state is NoticeState.FAILED else not_(_failed()))


async def search(session: AsyncSession, *, citizen_ids: list[int] | None, text: str | None,
                 state: NoticeState | None, district: int | None, offset: int, limit: int
                 ) -> tuple[list[NoticeLine], int]:
    """Notices newest first: of these citizens or whose case number or ruling id is or starts with
    `text`; filtered by state and the case's district. Returns one page and the total."""
    query = (sa_select(Notice, Ruling, Case, Citizen, _failed().label("failed"))
             .join(Ruling, col(Ruling.id) == col(Notice.ruling_pk)).join(Case, col(Case.id) == col(Ruling.case_id))
             .join(Citizen, col(Citizen.id) == col(Notice.citizen_id)))
    matches = []  # a query that is a national ID might also be a case number: either matches
    if citizen_ids is not None:
        matches.append(col(Notice.citizen_id).in_(citizen_ids))
    if text:
        pattern = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches += [col(Case.case_number).like(pattern, escape="\\"),
                    func.lower(col(Ruling.ruling_id)).like(pattern.lower(), escape="\\")]
    conditions = [or_(*matches)] if matches else []
    if state is not None:
        conditions.append(_state_filter(state))
    if district is not None:
        conditions.append(col(Case.district) == district)
    if conditions:
        query = query.where(and_(*conditions))
    total_query = sa_select(func.count()).select_from(query.with_only_columns(col(Notice.id)).subquery())
    total = int((await session.execute(total_query)).scalar() or 0)
    rows = (await session.execute(query.order_by(col(Notice.id).desc()).offset(offset).limit(limit))).all()
    return [NoticeLine(n, r, c, z, state_of(n, bool(failed))) for n, r, c, z, failed in rows], total


async def citizens_by_hash(session: AsyncSession, *, nid_hash: str | None = None,
                           mobile_hash: str | None = None) -> list[int]:
    query = select(Citizen.id)
    query = query.where(Citizen.nid_hash == nid_hash) if nid_hash else query.where(Citizen.mobile_hash == mobile_hash)
    return [int(i) for i in (await session.exec(query)).all() if i is not None]


async def districts(session: AsyncSession) -> list[int]:
    result = await session.execute(sa_select(col(Case.district)).where(col(Case.district).is_not(None))
                                   .distinct().order_by(col(Case.district)))
    return [int(d) for d in result.scalars().all()]


@dataclass(frozen=True)
class DeliveryLine:
    delivery: Message  # a notice message to one chat
    auth_proof: str | None


@dataclass(frozen=True)
class NoticeDetail:
    line: NoticeLine
    deliveries: list[DeliveryLine]
    receipt: Receipt | None
    proof: list[ProofRecord]


async def detail(session: AsyncSession, notice_id: int) -> NoticeDetail | None:
    row = (await session.execute(
        sa_select(Notice, Ruling, Case, Citizen, _failed().label("failed"))
        .join(Ruling, col(Ruling.id) == col(Notice.ruling_pk)).join(Case, col(Case.id) == col(Ruling.case_id))
        .join(Citizen, col(Citizen.id) == col(Notice.citizen_id)).where(col(Notice.id) == notice_id))).first()
    if row is None:
        return None
    notice, ruling, case, citizen, failed = row
    deliveries = (await session.execute(
        sa_select(Message, col(ChatBinding.auth_proof))
        .outerjoin(ChatBinding, and_(col(ChatBinding.platform) == col(Message.platform),
                                     col(ChatBinding.chat_id) == col(Message.chat_id)))
        .where(col(Message.kind) == MessageKind.NOTICE.value, col(Message.ref_id) == notice_id)
        .order_by(col(Message.id)))).all()
    receipt = (await session.exec(select(Receipt).where(Receipt.notice_id == notice_id))).first()
    proof = (await session.exec(select(ProofRecord).where(ProofRecord.notice_id == notice_id)
                                .order_by(col(ProofRecord.seq)))).all()
    return NoticeDetail(NoticeLine(notice, ruling, case, citizen, state_of(notice, bool(failed))),
                        [DeliveryLine(d, a) for d, a in deliveries], receipt, list(proof))
