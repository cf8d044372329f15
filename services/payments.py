"""Fines paid in the chat (Bale): invoice, pre-checkout verdict, the payment recorded once, the
reconciliation with inquireTransaction, and the export.

Framework-free. The transport side is two small ports: the conversation's reply carries an
`Invoice` (services.messaging) that the adapter sends with sendInvoice, and `TransactionInquirer`
asks Bale about one transaction. Sources for Bale's payment API are in docs/bale.md "Payments".
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from services.clock import Clock
from services.messaging import SendError
from storage import payments
from storage.database import Database
from storage.payment_models import Payment, PaymentState

log = logging.getLogger(__name__)

CURRENCY = "IRR"
# The invoice payload: "p_" and 22 URL-safe characters (128 random bits), far under any payload limit.
TOKEN_PREFIX = "p_"
# inquireTransaction statuses as third-party Bale clients read them; Bale's own list is unpublished,
# so anything else is treated as "not settled yet" and asked again later (docs/bale.md).
SETTLED_OK = frozenset({"succeed", "succeeded", "success", "successful", "paid", "completed", "confirmed"})
SETTLED_FAILED = frozenset({"failed", "failure", "rejected", "refunded", "reversed", "canceled", "cancelled",
                            "expired"})


class StartRefusal(StrEnum):
    NOT_YOURS = "not_yours"  # no such notice, or another citizen's
    NO_FINE = "no_fine"
    NOTHING_DUE = "nothing_due"  # paid already


@dataclass(frozen=True)
class Invoiced:
    token: str
    ruling_id: str
    case_number: str
    amount_rials: int


class Verdict(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # a payload that is not ours, another user's invoice, a wrong currency
    PAID = "paid"  # nothing is due any more
    CHANGED = "changed"  # the amount due is no longer the invoice's


@dataclass(frozen=True)
class Recorded:
    first: bool  # False: this transaction was recorded before (a repeated successful_payment)
    case_number: str
    amount_rials: int
    tracking_code: str
    paid_at: datetime


class PaymentService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def start(self, *, citizen_id: int, notice_id: int, platform: str, chat_id: int,
                    user_id: int) -> Invoiced | StartRefusal:
        """A new invoice row for what is still due on the citizen's own ruling."""
        async with self._db.session() as session:
            ruling = await payments.fined_ruling_of_notice(session, notice_id)
            if ruling is None or ruling.citizen_id != citizen_id:
                return StartRefusal.NOT_YOURS
            if not ruling.fine_amount_rials:
                return StartRefusal.NO_FINE
            due = ruling.fine_amount_rials - await payments.paid_total(session, ruling.ruling_pk)
            if due <= 0:
                return StartRefusal.NOTHING_DUE
            token = TOKEN_PREFIX + secrets.token_urlsafe(16)
            await payments.add_invoice(session, Payment(
                token=token, ruling_pk=ruling.ruling_pk, citizen_id=citizen_id, platform=platform, chat_id=chat_id,
                user_id=user_id, amount_rials=due, invoiced_at=self._clock()))
        return Invoiced(token, ruling.ruling_id, ruling.case_number, due)

    async def verdict(self, *, payload: str, user_id: int, currency: str, amount: int) -> Verdict:
        """May this checkout go ahead? Read-only, so it answers well within Bale's 10 seconds."""
        async with self._db.session() as session:
            payment = await payments.by_token(session, payload) if payload.startswith(TOKEN_PREFIX) else None
            if payment is None or payment.user_id != user_id or currency.upper() != CURRENCY:
                return Verdict.UNKNOWN
            if payment.state != PaymentState.INVOICED.value:
                return Verdict.PAID
            ruling = await payments.fined_ruling(session, payment.ruling_pk)
            if ruling is None or not ruling.fine_amount_rials:
                return Verdict.CHANGED
            due = ruling.fine_amount_rials - await payments.paid_total(session, payment.ruling_pk)
        if due <= 0:
            return Verdict.PAID
        return Verdict.OK if due == payment.amount_rials == amount else Verdict.CHANGED

    async def record(self, *, payload: str, user_id: int, currency: str, amount: int, transaction_id: str,
                     tracking_code: str) -> Recorded | None:
        """Record a successful_payment once; None for a payment eblagh cannot place (logged)."""
        now = self._clock()
        async with self._db.session() as session:
            payment = await payments.by_token(session, payload) if payload.startswith(TOKEN_PREFIX) else None
            if payment is None or payment.id is None:
                log.error("successful_payment for an unknown invoice (transaction %s): check it by hand",
                          transaction_id)
                return None
            if payment.user_id != user_id or currency.upper() != CURRENCY or amount != payment.amount_rials:
                # Money moved all the same: record it, and let reconciliation and staff sort it out.
                log.error("successful_payment %s does not match invoice %s (amount %s, expected %s)",
                          transaction_id, payment.id, amount, payment.amount_rials)
            ruling = await payments.fined_ruling(session, payment.ruling_pk)
            case_number = ruling.case_number if ruling else ""
            first = await payments.mark_paid(session, payment.id, transaction_id=transaction_id,
                                             tracking_code=tracking_code, paid_at=now)
            if not first:
                earlier = await payments.by_transaction(session, transaction_id) or payment
                return Recorded(False, case_number, earlier.amount_rials, earlier.tracking_code or tracking_code,
                                earlier.paid_at or now)
        log.info("payment %s recorded: invoice %s", transaction_id, payment.id)
        return Recorded(True, case_number, payment.amount_rials, tracking_code, now)


# ---- reconciliation -------------------------------------------------------------------------------


class TransactionInquirer(Protocol):
    """inquireTransaction on the messenger; raises services.messaging.SendError kinds."""

    async def inquire_transaction(self, transaction_id: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ReconcilePolicy:
    max_checks: int = 8  # inquiries per payment; after that it stays pending for staff to check
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, checks_done: int) -> timedelta:
        return min(self.first_delay * (2 ** max(checks_done - 1, 0)), self.max_delay)


@dataclass
class ReconcileStats:
    confirmed: int = 0
    failed: int = 0
    retry: int = 0
    gave_up: int = 0


class Reconciler:
    """Asks Bale about every pending payment: pending -> confirmed | failed, with bounded retries."""

    def __init__(self, db: Database, clock: Clock, policy: ReconcilePolicy | None = None) -> None:
        self._db = db
        self._clock = clock
        self._policy = policy or ReconcilePolicy()

    async def run_once(self, inquirer: TransactionInquirer) -> ReconcileStats:
        stats = ReconcileStats()
        async with self._db.session() as session:
            due = await payments.due_for_check(session, self._clock(), max_checks=self._policy.max_checks)
        for payment in due:
            assert payment.id is not None and payment.transaction_id is not None
            try:
                answer = await inquirer.inquire_transaction(payment.transaction_id)
                outcome, problem = _outcome(answer, payment)
            except SendError as error:
                outcome, problem = None, f"{type(error).__name__}: {error.detail}"
            now = self._clock()
            async with self._db.session() as session:
                if outcome is not None:
                    if await payments.settle(session, payment.id, outcome, now, problem):
                        if outcome is PaymentState.CONFIRMED:
                            stats.confirmed += 1
                        else:
                            stats.failed += 1
                            log.warning("payment %s failed on inquiry: %s", payment.id, problem)
                    continue
                checks = payment.checks + 1
                if checks >= self._policy.max_checks:
                    stats.gave_up += 1
                    log.warning("payment %s still unconfirmed after %d inquiries: check it by hand (%s)",
                                payment.id, checks, problem)
                    await payments.check_later(session, payment.id, None, problem or "unsettled")
                else:
                    stats.retry += 1
                    await payments.check_later(session, payment.id, now + self._policy.delay(checks),
                                               problem or "unsettled")
        return stats


def _outcome(answer: dict[str, Any], payment: Payment) -> tuple[PaymentState | None, str | None]:
    """What an inquireTransaction answer means for the payment (None: ask again later)."""
    status = str(answer.get("status", "")).strip().lower()
    amount = answer.get("amount")
    if status in SETTLED_OK:
        if isinstance(amount, int) and amount != payment.amount_rials:
            return PaymentState.FAILED, f"amount {amount} differs from {payment.amount_rials}"
        return PaymentState.CONFIRMED, None
    if status in SETTLED_FAILED:
        return PaymentState.FAILED, f"status {status}"
    return None, f"status {status or 'missing'}"


# ---- export ---------------------------------------------------------------------------------------

PAYMENT_FIELDS = ("ruling_id", "case_number", "national_id_masked", "amount_rials", "transaction_id",
                  "tracking_code", "paid_at", "status")


async def export_payments(db: Database) -> AsyncIterator[dict[str, object]]:
    """One record per payment received: pending, confirmed or failed (invoices never paid are left out)."""
    async with db.session() as session:
        async for row in payments.iter_paid(session):
            p = row.payment
            yield {"ruling_id": row.ruling_id, "case_number": row.case_number,
                   "national_id_masked": row.nid_masked, "amount_rials": p.amount_rials,
                   "transaction_id": p.transaction_id, "tracking_code": p.tracking_code,
                   "paid_at": p.paid_at.isoformat() if p.paid_at else None, "status": p.state}
