"""Tables of the staff dashboard: accounts, their server-side sessions, replies written from the inbox,
and imports started from the dashboard (their progress; the file itself is never stored: it holds
national IDs and mobiles in clear).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel

from storage.types import BigIntPK, UTCDateTime, utcnow


def _utc(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class StaffAccount(SQLModel, table=True):
    __tablename__ = "staff_accounts"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    username: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)  # admin | operator | viewer
    password_hash: str = Field(sa_type=Text)  # argon2id
    totp_secret: str = Field(max_length=64)  # base32
    must_change_password: bool = Field(default=True)
    disabled: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_column=_utc())
    last_totp_step: int | None = Field(default=None, sa_type=BigInteger)  # a code is accepted once
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    last_login_at: datetime | None = Field(default=None, sa_column=_utc())


class StaffSession(SQLModel, table=True):
    """A signed-in browser; the cookie holds the token, the table only its SHA-256."""

    __tablename__ = "staff_sessions"

    token_hash: str = Field(max_length=64, primary_key=True)
    staff_id: int = Field(foreign_key="staff_accounts.id", index=True, sa_type=BigInteger)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc(nullable=False))
    last_seen_at: datetime = Field(sa_column=_utc(nullable=False))


class StaffReply(SQLModel, table=True):
    """An answer to a handoff written in the dashboard; it goes out as an outbox row (kind staff_reply)."""

    __tablename__ = "staff_replies"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    handoff_id: int = Field(foreign_key="handoffs.id", index=True, sa_type=BigInteger)
    staff_id: int | None = Field(default=None, foreign_key="staff_accounts.id", sa_type=BigInteger)
    author: str = Field(max_length=64)
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))


class StaffUpload(SQLModel, table=True):
    """A file staff uploaded for import: previewed (nothing written), then applied with progress."""


    __tablename__ = "staff_uploads"
    __table_args__ = (Index("ix_staff_uploads_created", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    kind: str = Field(max_length=16)
    filename: str = Field(max_length=200)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    state: str = Field(default="previewed", max_length=16)  # previewed | applying | done | failed
    total: int = Field(default=0)
    good: int = Field(default=0)
    processed: int = Field(default=0)
    report: str = Field(default="{}", sa_type=Text)  # JSON: the preview's problems, then the import's counts
    finished_at: datetime | None = Field(default=None, sa_column=_utc())
