"""The tables. Alembic owns the schema (storage/migrations); these classes describe it.

Personal data never appears in clear: national IDs and mobiles are HMAC hashes plus masked forms.
Every time is an aware UTC datetime (see UTCDateTime).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Column, Index, Text, UniqueConstraint, false
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from storage.types import BigIntPK, UTCDateTime, utcnow
from storage.vocabulary import CaseStatus, Commission, RulingKind

__all__ = ["CaseStatus", "Commission", "RulingKind"]  # the vocabularies, for the tables' readers


def _utc(nullable: bool = True, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _flag(name: str) -> Column:  # type: ignore[type-arg]
    """A boolean the database defaults to false."""
    return Column(name, Boolean(), nullable=False, server_default=false())


class DeliveryStatus(StrEnum):
    """A message's life: queued -> sending (claimed by one worker) -> sent | failed | blocked, back to
    queued for a retry, or cancelled before it went (its broadcast cancelled, its chat logged out)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class MessageKind(StrEnum):
    """What a row of `messages` carries, and what its `ref_id` points at."""

    NOTICE = "notice"  # ref_id: notices.id (the proof chain's "delivered" source is this row's id)
    REMINDER = "reminder"  # ref_id: notices.id, the one reminder before deemed service
    BROADCAST = "broadcast"  # ref_id: broadcasts.id
    HANDOFF = "handoff"  # a citizen's question to the staff chat; ref_id: handoffs.id; text in `body`
    STAFF_REPLY = "staff_reply"  # a staff answer to a citizen; ref_id: the staff member's message id,
    # origin_id: handoffs.id; text in `body`
    NOTE = "note"  # tells whoever wrote how a handoff or a reply went; ref_id: that message's id
    CALLBACK = "callback"  # an integration API event POSTed to an endpoint; ref_id: api_events.id,
    # platform "http", chat_id: webhooks.id (storage/callbacks.py); message_id: the HTTP status


class LaneName(StrEnum):
    """The roads out (messages.lane). Each has its own queue, sender, pace and retry policy
    (services/delivery/lanes.py)."""

    MESSENGER = "messenger"
    CALLBACK = "callback"  # the integration API's status callbacks (services/callbacks.py)


class Citizen(SQLModel, table=True):
    __tablename__ = "citizens"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    nid_hash: str = Field(max_length=64, unique=True, index=True)
    nid_masked: str = Field(max_length=16)
    mobile_hash: str = Field(max_length=64)
    mobile_masked: str = Field(max_length=16)
    full_name: str = Field(default="", max_length=200)
    district: int | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))


class ChatBinding(SQLModel, table=True):
    """A messenger chat bound to a citizen; one citizen may have several, a chat one citizen."""

    __tablename__ = "chat_bindings"
    __table_args__ = (
        UniqueConstraint("platform", "chat_id", name="uq_binding_chat"),
        # The sweeper's "what changed": a small partial index, however many chats are bound.
        Index("ix_bindings_unfanned", "id", sqlite_where=sql_text("fanned_out_at IS NULL"),
              postgresql_where=sql_text("fanned_out_at IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    citizen_id: int = Field(foreign_key="citizens.id", index=True, sa_type=BigInteger)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    active: bool = Field(default=True)
    bound_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    unbound_at: datetime | None = Field(default=None, sa_column=_utc())
    unreachable_at: datetime | None = Field(default=None, sa_column=_utc())
    # How the citizen proved the phone when this chat was bound (services.auth.AuthProof); None for
    # chats bound before it was recorded, or imported (`eblagh import subscribers`).
    auth_proof: str | None = Field(default=None, max_length=32)
    # None until the sweeper has queued this chat's notices: a new, re-bound or reachable-again chat.
    fanned_out_at: datetime | None = Field(default=None, sa_column=_utc())


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    case_number: str = Field(max_length=32, unique=True, index=True)
    citizen_id: int = Field(foreign_key="citizens.id", index=True, sa_type=BigInteger)
    status: str = Field(max_length=32)
    district: int | None = Field(default=None)
    address: str = Field(default="", sa_type=Text)
    violation: str = Field(default="", sa_type=Text)
    hearing_at: datetime | None = Field(default=None, sa_column=_utc())
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))


class Ruling(SQLModel, table=True):
    __tablename__ = "rulings"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    ruling_id: str = Field(max_length=64, unique=True, index=True)
    case_id: int = Field(foreign_key="cases.id", index=True, sa_type=BigInteger)
    citizen_id: int = Field(foreign_key="citizens.id", index=True, sa_type=BigInteger)
    commission: str = Field(max_length=16)
    kind: str = Field(max_length=16)
    issued_on: date
    fine_amount_rials: int | None = Field(default=None, sa_type=BigInteger)
    summary: str = Field(default="", sa_type=Text)
    text: str = Field(default="", sa_type=Text)
    # sha256 of the served content, set by the importer: a re-import must not change a ruling silently.
    content_hash: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))


class Notice(SQLModel, table=True):
    """A ruling as served to its citizen; the legal clock starts from these times."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_unfanned", "id", sqlite_where=sql_text("fanned_out_at IS NULL"),
              postgresql_where=sql_text("fanned_out_at IS NULL")),
        # Reminders and deemed service look only at delivered notices nobody has opened or served yet.
        Index("ix_notices_unserved", "first_delivered_at",
              sqlite_where=sql_text("viewed_at IS NULL AND deemed_recorded_at IS NULL"),
              postgresql_where=sql_text("viewed_at IS NULL AND deemed_recorded_at IS NULL")),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    ruling_pk: int = Field(foreign_key="rulings.id", unique=True, sa_type=BigInteger)
    citizen_id: int = Field(foreign_key="citizens.id", index=True, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    first_delivered_at: datetime | None = Field(default=None, sa_column=_utc())
    viewed_at: datetime | None = Field(default=None, sa_column=_utc())
    reminder_sent_at: datetime | None = Field(default=None, sa_column=_utc())
    deemed_recorded_at: datetime | None = Field(default=None, sa_column=_utc())
    # None until the sweeper has queued it for its citizen's chats.
    fanned_out_at: datetime | None = Field(default=None, sa_column=_utc())


# `test` on rulings and notices (migration 0012): came through a `--test` API key, so stored and answered
# like any other but never sent (the sweeper's fan-out leaves such notices out; their status is `test`).
# A column of the tables that the ORM classes do not map: ORM inserts leave it to the database's default,
# and code written before it (or a schema before 0012) never meets it. Read and written with Core.
Ruling.__table__.append_column(_flag("test"))  # type: ignore[attr-defined]
Notice.__table__.append_column(_flag("test"))  # type: ignore[attr-defined]


class Message(SQLModel, table=True):
    """One outgoing message to one destination, whatever it carries: the source of truth for what was
    sent, whatever the queue says. The delivery engine (services/delivery/lanes.py) claims, sends and records it.

    `platform` and `chat_id` name the destination within the lane: a messenger and a chat for the
    messenger lane (another lane may use them for its own destinations, e.g. a webhook endpoint).
    A notice's rows keep the ids its `deliveries` rows had: the proof chain names them.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id", "platform", "chat_id", name="uq_messages_ref_chat"),
        # What the sweeper reads every pass: only queued and in-flight rows are in these indexes.
        Index("ix_messages_due", "lane", "platform", "next_attempt_at", "id",
              sqlite_where=sql_text("status = 'queued'"), postgresql_where=sql_text("status = 'queued'")),
        Index("ix_messages_sending", "claimed_by", sqlite_where=sql_text("status = 'sending'"),
              postgresql_where=sql_text("status = 'sending'")),
        Index("ix_messages_ref_status", "kind", "ref_id", "status"),
        Index("ix_messages_chat", "platform", "chat_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    lane: str = Field(default=LaneName.MESSENGER.value, max_length=16)
    kind: str = Field(max_length=16)
    ref_id: int = Field(sa_type=BigInteger)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    status: str = Field(default=DeliveryStatus.QUEUED.value, max_length=16)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, sa_type=Text)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    # The text of a message composed when it was queued (a handoff, a staff reply, a note); None for
    # those composed from what `ref_id` points at when they are sent (notices, reminders, broadcasts).
    body: str | None = Field(default=None, sa_type=Text)
    origin_id: int | None = Field(default=None, sa_type=BigInteger)  # see MessageKind
    notify_chat_id: int | None = Field(default=None, sa_type=BigInteger)  # who hears how it went
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))  # due from then
    claimed_at: datetime | None = Field(default=None, sa_column=_utc())
    claimed_by: str | None = Field(default=None, max_length=64)  # the worker whose heartbeat holds it
    sent_at: datetime | None = Field(default=None, sa_column=_utc())


class Receipt(SQLModel, table=True):
    """The first opening of a notice's full text: actual service (ابلاغ واقعی)."""

    __tablename__ = "receipts"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    notice_id: int = Field(foreign_key="notices.id", unique=True, sa_type=BigInteger)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    viewed_at: datetime = Field(sa_column=_utc(nullable=False))


class AuthAttempt(SQLModel, table=True):
    __tablename__ = "auth_attempts"
    __table_args__ = (
        Index("ix_auth_attempts_chat", "platform", "chat_id", "at"),
        Index("ix_auth_attempts_nid", "nid_hash", "at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    nid_hash: str | None = Field(default=None, max_length=64)
    succeeded: bool = Field(default=False)
    reason: str = Field(default="", max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))


class AuditEvent(SQLModel, table=True):
    """Who did what, when: binds, unbinds, views, imports, staff actions. No clear personal data."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False, index=True))
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64, index=True)
    subject: str = Field(default="", max_length=128)
    detail: str = Field(default="", sa_type=Text)


class ForwardStatus(StrEnum):
    """Where a handoff's question is: on its way, in the staff chat whole, or not (forward_error says why)."""

    PENDING = "pending"
    FORWARDED = "forwarded"  # the staff chat has every part
    FAILED = "failed"  # not (wholly) forwarded; staff see it in the records


class Handoff(SQLModel, table=True):
    """A citizen's question forwarded to the staff chat, and the staff member's reply."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_staff_message", "staff_chat_id", "staff_message_id"),)

    id: int | None = Field(default=None, sa_column=Column(BigIntPK, primary_key=True))
    citizen_id: int | None = Field(default=None, foreign_key="citizens.id", sa_type=BigInteger)
    platform: str = Field(max_length=16)
    chat_id: int = Field(sa_type=BigInteger)
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    question: str = Field(sa_type=Text)
    staff_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    staff_message_id: int | None = Field(default=None, sa_type=BigInteger)  # the first part's
    created_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=_utc())
    answered_by: int | None = Field(default=None, sa_type=BigInteger)
    answer: str | None = Field(default=None, sa_type=Text)
    # pending -> forwarded (the staff chat has every part) | failed (forward_error says why).
    forward_status: str = Field(default=ForwardStatus.PENDING.value, max_length=16)
    forward_error: str | None = Field(default=None, max_length=16)


class HandoffMessage(SQLModel, table=True):
    """One message in the staff chat that carries (a part of) a forwarded question: a reply to it is
    routed to the question's citizen."""

    __tablename__ = "handoff_messages"

    staff_chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    handoff_id: int = Field(foreign_key="handoffs.id", sa_type=BigInteger, index=True)


class HandledUpdate(SQLModel, table=True):
    """A Bot API update already handled by `eblagh run`: skipped when fetched or posted again."""

    __tablename__ = "handled_updates"
    __table_args__ = (Index("ix_handled_updates_at", "handled_at"),)

    # platform:bot id, so one database can serve a Telegram and a Bale bot.
    bot: str = Field(max_length=64, primary_key=True)
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    handled_at: datetime = Field(default_factory=utcnow, sa_column=_utc(nullable=False))
