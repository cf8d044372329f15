"""Tables of the outbox: staff broadcasts, and every message that is not a notice (broadcast copies,
reminders before deemed service). Notices keep their own `deliveries` table (storage/models.py).

An outbox row is one message to one chat, with the same life as a delivery: queued -> sending ->
sent | failed | blocked, or cancelled when its broadcast is.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import BigIntPK, UTCDateTime, utcnow


def _utc(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class BroadcastState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time; recipients are chosen when it starts
    QUEUED = "queued"  # recipients chosen, messages on their way
    DONE = "done"
    CANCELLED = "cancelled"


class OutboxKind(StrEnum):
    BROADCAST = "broadcast"  # ref_id: broadcasts.id
    REMINDER = "reminder"  # ref_id: notices.id
    STAFF_REPLY = "staff_reply"  # ref_id: staff_replies.id (an answer written in the dashboard's inbox)


CANCELLED = "cancelled"  # an outbox status beside DeliveryStatus: its broadcast was cancelled


class Broadcast(SQLModel, table=True):
    """A staff announcement to a segment of citizens."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    text: str = Field(sa_type=Text)
    segment: str = Field(max_length=64)
    state: str = Field(default=BroadcastState.SCHEDULED.value, max_length=16)
    created_by: str = Field(default="", max_length=64)
    recipients: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    scheduled_at: datetime | None = Field(default=None, sa_column=_utc())
    queued_at: datetime | None = Field(default=None, sa_column=_utc())
    finished_at: datetime | None = Field(default=None, sa_column=_utc())
    cancelled_at: datetime | None = Field(default=None, sa_column=_utc())


class OutboxMessage(SQLModel, table=True):
    """One message of a broadcast or a reminder to one chat; unique per (kind, ref, chat)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "platform", "chat_id", name="uq_outbox_ref_chat"),
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_ref_status", "kind", "ref_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    kind: str = Field(max_length=16)
    ref_id: int = Field(sa_type=BigInteger)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    status: str = Field(default="queued", max_length=16)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=Text)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    next_attempt_at: datetime | None = Field(default=None, sa_column=_utc())
    claimed_at: datetime | None = Field(default=None, sa_column=_utc())
    sent_at: datetime | None = Field(default=None, sa_column=_utc())
