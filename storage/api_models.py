"""Tables of the integration API (web/api): keys, idempotency, the event feed, callbacks, import jobs.

- `api_keys`: only a SHA-256 of the key is stored, with a short prefix to recognise it and its last use.
- `api_idempotency`: a POST's Idempotency-Key, kept 24 h: the body's hash and, once done, its response.
- `api_events`: the feed `/v1/events` (notice.delivered, notice.viewed, notice.deemed_served,
  notice.failed, citizen.bound), appended in the transaction that records the fact; `id` is the cursor.
- `webhooks` / `webhook_attempts`: callback endpoints, and every attempt at a callback with its status
  code. The callbacks themselves, one per (event, endpoint) queued with the event, are messages of the
  delivery engine's callback lane (`messages`, storage/callbacks.py).
- `api_import_jobs`: a file uploaded to `POST /v1/imports`, run in the background.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import BigIntPK, UTCDateTime, utcnow


def _utc(nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable)


class ApiRole(StrEnum):
    READ = "read"  # reads only
    INGEST = "ingest"  # also writes citizens, cases and rulings
    BROADCAST = "broadcast"  # also creates broadcasts


class EventType(StrEnum):
    NOTICE_DELIVERED = "notice.delivered"
    NOTICE_VIEWED = "notice.viewed"
    NOTICE_DEEMED_SERVED = "notice.deemed_served"
    NOTICE_FAILED = "notice.failed"
    CITIZEN_BOUND = "citizen.bound"


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)
    test: bool = Field(default=False)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=24)  # the key's first characters, to tell keys apart in a list
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=_utc())
    revoked_at: datetime | None = Field(default=None, sa_column=_utc())


class IdempotencyRecord(SQLModel, table=True):
    __tablename__ = "api_idempotency"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_api_idempotency_key"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    api_key_id: int = Field(sa_type=BigInteger)
    key: str = Field(max_length=255)
    request_hash: str = Field(max_length=64)
    status_code: int | None = Field(default=None)  # None while the first request is running
    body: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))


class ApiEvent(SQLModel, table=True):
    __tablename__ = "api_events"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    type: str = Field(max_length=32)
    occurred_at: datetime = Field(sa_column=_utc(nullable=False))
    notice_id: int | None = Field(default=None, sa_type=BigInteger)
    ruling_id: str | None = Field(default=None, max_length=64)
    case_number: str | None = Field(default=None, max_length=32)
    data: str = Field(default="{}", sa_type=Text)  # JSON object


class Webhook(SQLModel, table=True):
    __tablename__ = "webhooks"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    api_key_id: int = Field(sa_type=BigInteger, index=True)
    url: str = Field(max_length=2000)
    events: str = Field(max_length=400)  # comma-separated event types
    secret: str = Field(max_length=128)  # whsec_...: needed in clear to sign; never logged
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    failing_since: datetime | None = Field(default=None, sa_column=_utc())
    disabled_at: datetime | None = Field(default=None, sa_column=_utc())
    deleted_at: datetime | None = Field(default=None, sa_column=_utc())


class WebhookAttempt(SQLModel, table=True):
    """One try at a callback, as the wire answered it; `delivery_id` is the callback's messages.id."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    delivery_id: int = Field(sa_type=BigInteger, index=True)
    at: datetime = Field(sa_column=_utc(nullable=False))
    status_code: int | None = Field(default=None)
    outcome: str = Field(max_length=16)  # ok | retry | permanent
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = Field(default=0)


class ImportJob(SQLModel, table=True):
    __tablename__ = "api_import_jobs"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    api_key_id: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=16)
    status: str = Field(default="queued", max_length=16)  # queued | running | finished | failed
    inserted: int = Field(default=0)
    updated: int = Field(default=0)
    unchanged: int = Field(default=0)
    bad: int = Field(default=0)
    errors: str = Field(default="[]", sa_type=Text)  # JSON: the first 100 [{line, reason}]
    failure: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=_utc())
