"""Data access for fines paid in the chat: invoices, the payment recorded once, reconciliation.

Every state change is a conditional UPDATE on the row's current state, so a repeated
successful_payment, or two processes reconciling at once, change a row once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Case, Citizen, Notice, Ruling
from storage.payment_models import PAID_STATES, Payment, PaymentState


@dataclass(frozen=True)
class FinedRuling:
    ruling_pk: int
    ruling_id: str
    case_number: str
    citizen_id: int
    fine_amount_rials: int | None


async def fined_ruling_of_notice(session: AsyncSession, notice_id: int) -> FinedRuling | None:
    row = (await session.execute(  # type: ignore[deprecated]
        select(Ruling, Case).join(Notice, col(Notice.ruling_pk) == col(Ruling.id))
        .join(Case, col(Case.id) == col(Ruling.case_id)).where(col(Notice.id) == notice_id))).first()
    if row is None:
        return None
    ruling, case = row
    assert ruling.id is not None
    return FinedRuling(ruling.id, ruling.ruling_id, case.case_number, ruling.citizen_id, ruling.fine_amount_rials)


async def fined_ruling(session: AsyncSession, ruling_pk: int) -> FinedRuling | None:
    row = (await session.execute(  # type: ignore[deprecated]
        select(Ruling, Case).join(Case, col(Case.id) == col(Ruling.case_id))
        .where(col(Ruling.id) == ruling_pk))).first()
    if row is None:
        return None
    ruling, case = row
    assert ruling.id is not None
    return FinedRuling(ruling.id, ruling.ruling_id, case.case_number, ruling.citizen_id, ruling.fine_amount_rials)


async def paid_total(session: AsyncSession, ruling_pk: int) -> int:
    """Rials paid towards a ruling: payments received (pending) or confirmed."""
    total = (await session.execute(  # type: ignore[deprecated]
        select(func.coalesce(func.sum(col(Payment.amount_rials)), 0))
        .where(col(Payment.ruling_pk) == ruling_pk, col(Payment.state).in_(PAID_STATES)))).scalar_one()
    return int(total)


async def add_invoice(session: AsyncSession, payment: Payment) -> Payment:
    session.add(payment)
    await session.flush()
    return payment


async def by_token(session: AsyncSession, token: str) -> Payment | None:
    return (await session.exec(select(Payment).where(col(Payment.token) == token))).first()  # type: ignore[call-overload, no-any-return]


async def by_transaction(session: AsyncSession, transaction_id: str) -> Payment | None:
    return (await session.exec(  # type: ignore[call-overload, no-any-return]
        select(Payment).where(col(Payment.transaction_id) == transaction_id))).first()


async def mark_paid(session: AsyncSession, payment_id: int, *, transaction_id: str, tracking_code: str,
                    paid_at: datetime) -> bool:
    """invoiced -> pending; True for the one call that recorded it."""
    result = await session.execute(  # type: ignore[deprecated]
        update(Payment).where(col(Payment.id) == payment_id, col(Payment.state) == PaymentState.INVOICED.value)
        .values(state=PaymentState.PENDING.value, transaction_id=transaction_id, tracking_code=tracking_code,
                paid_at=paid_at, next_check_at=paid_at))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def due_for_check(session: AsyncSession, now: datetime, *, max_checks: int, limit: int = 100) -> list[Payment]:
    """Pending payments whose next inquiry is due and that have inquiries left."""
    query = (select(Payment).where(col(Payment.state) == PaymentState.PENDING.value,
                                   col(Payment.checks) < max_checks,
                                   col(Payment.next_check_at) <= now)
             .order_by(col(Payment.next_check_at)).limit(limit))
    return list((await session.exec(query)).all())  # type: ignore[call-overload]


async def settle(session: AsyncSession, payment_id: int, state: PaymentState, at: datetime,
                 error: str | None = None) -> bool:
    """pending -> confirmed | failed, once."""
    values: dict[str, object] = {"state": state.value, "next_check_at": None, "last_error": error}
    if state is PaymentState.CONFIRMED:
        values["confirmed_at"] = at
    result = await session.execute(  # type: ignore[deprecated]
        update(Payment).where(col(Payment.id) == payment_id, col(Payment.state) == PaymentState.PENDING.value)
        .values(checks=col(Payment.checks) + 1, **values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def check_later(session: AsyncSession, payment_id: int, next_at: datetime | None, error: str) -> None:
    """One more inquiry that settled nothing; `next_at` None when no inquiry is left."""
    await session.execute(  # type: ignore[deprecated]
        update(Payment).where(col(Payment.id) == payment_id, col(Payment.state) == PaymentState.PENDING.value)
        .values(checks=col(Payment.checks) + 1, next_check_at=next_at, last_error=error[:500]))


@dataclass(frozen=True)
class PaymentRow:
    payment: Payment
    ruling_id: str
    case_number: str
    nid_masked: str


async def iter_paid(session: AsyncSession) -> AsyncIterator[PaymentRow]:
    """Every payment received (not mere invoices), oldest first."""
    query = (select(Payment, col(Ruling.ruling_id), col(Case.case_number), col(Citizen.nid_masked))
             .join(Ruling, col(Ruling.id) == col(Payment.ruling_pk))
             .join(Case, col(Case.id) == col(Ruling.case_id))
             .join(Citizen, col(Citizen.id) == col(Payment.citizen_id))
             .where(col(Payment.state) != PaymentState.INVOICED.value)
             .order_by(col(Payment.paid_at), col(Payment.id)))
    result = await session.stream(query)
    async for payment, ruling_id, case_number, nid_masked in result:
        yield PaymentRow(payment, ruling_id, case_number, nid_masked)
