"""Tables of the proof chain: every delivery, view and deemed service, as an append-only hash chain.

`proof_chain` holds one row per event; each row's `hash` is SHA-256 of the previous row's hash and the
row's canonical event (storage/proof.py). `proof_chain_head` is one row (id 1) naming the last record
and sealing it with an HMAC under SECRET_KEY, so a chain rewritten without the key is detected.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class ProofKind(StrEnum):
    DELIVERED = "delivered"  # the messenger accepted the notice for a chat; source: messages.id (kind notice; deliveries.id before 0011)
    VIEWED = "viewed"  # the citizen opened the full text (actual service); source: receipts.id
    DEEMED = "deemed"  # deemed service recorded by the timed duty; no source row, no chat


class ProofRecord(SQLModel, table=True):
    __tablename__ = "proof_chain"
    __table_args__ = (Index("ix_proof_chain_notice", "notice_id", "kind"),)

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=16)
    notice_id: int = Field(sa_type=BigInteger)
    ruling_id: str = Field(max_length=64)
    citizen_id: int = Field(sa_type=BigInteger)
    source_id: int | None = Field(default=None, sa_type=BigInteger)
    platform: str | None = Field(default=None, max_length=16)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    user_id: int | None = Field(default=None, sa_type=BigInteger)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    backfilled: bool = Field(default=False)  # written by migration 0006 from rows that predate the chain
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    event: str = Field(sa_type=Text)  # the canonical event, exactly the bytes that were hashed (ASCII)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)


class ProofHead(SQLModel, table=True):
    """The chain's last record, sealed: HMAC-SHA256(SECRET_KEY, "eblagh-proof-head:v1:{seq}:{hash}")."""

    __tablename__ = "proof_chain_head"

    id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_type=BigInteger)
    hash: str = Field(max_length=64)
    seal: str | None = Field(default=None, max_length=64)  # None: never appended to with the key
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
