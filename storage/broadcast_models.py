"""The table of staff broadcasts. Each copy to a chat is a row of `messages` (storage/models.py,
kind broadcast), with the life of every outgoing message."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storage.types import BigIntPK, UTCDateTime, utcnow


def _utc(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class BroadcastState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time; recipients are chosen when it starts
    QUEUED = "queued"  # recipients chosen, messages on their way
    DONE = "done"
    CANCELLED = "cancelled"


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
