"""The `payments` table: a fine paid in the chat (Bale's wallet / bank gateway through sendInvoice).

One row per invoice. Its `token` is the invoice payload: random, so it reveals neither the ruling nor
the citizen, and short enough for any payload limit (Telegram's is 128 bytes; Bale's is unpublished).
Life of a row: invoiced -> pending (successful_payment received) -> confirmed | failed (by
inquireTransaction). A row that is never paid stays `invoiced`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import BigIntPK, UTCDateTime, utcnow


class PaymentState(StrEnum):
    INVOICED = "invoiced"  # an invoice was sent; nothing paid yet
    PENDING = "pending"  # Bale said successful_payment; not yet confirmed by inquireTransaction
    CONFIRMED = "confirmed"
    FAILED = "failed"


# States whose amount counts as paid when the amount still due is computed.
PAID_STATES = (PaymentState.PENDING.value, PaymentState.CONFIRMED.value)


def _utc(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        # The same Bale transaction is recorded once, however often successful_payment comes back.
        UniqueConstraint("transaction_id", name="uq_payments_transaction"),
        Index("ix_payments_state_next", "state", "next_check_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    token: str = Field(max_length=32, unique=True, index=True)
    ruling_pk: int = Field(foreign_key="rulings.id", index=True, sa_type=BigInteger)
    citizen_id: int = Field(foreign_key="citizens.id", sa_type=BigInteger)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    user_id: int = Field(sa_type=BigInteger)
    amount_rials: int = Field(sa_type=BigInteger)
    state: str = Field(default=PaymentState.INVOICED.value, max_length=16)
    transaction_id: str | None = Field(default=None, max_length=128)
    tracking_code: str | None = Field(default=None, max_length=128)
    invoiced_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    paid_at: datetime | None = Field(default=None, sa_column=_utc())
    confirmed_at: datetime | None = Field(default=None, sa_column=_utc())
    # Reconciliation: inquiries made, when the next one is due, and the last thing that went wrong.
    checks: int = Field(default=0)
    next_check_at: datetime | None = Field(default=None, sa_column=_utc())
    last_error: str | None = Field(default=None, sa_type=Text)
