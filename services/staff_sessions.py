"""Server-side sessions of the dashboard: 8 hours at most, 30 minutes idle.

The browser holds a random token in an HttpOnly cookie; the store keeps only its SHA-256, with the
session's CSRF token and its two clocks. Stores: the database (default) or Redis (when REDIS_URL is
set, storage/redis_staff_sessions.py); both satisfy `SessionStore`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.clock import Clock
from services.staff_accounts import StaffAccounts, StaffMember
from storage import staff
from storage.database import Database
from storage.staff_models import StaffSession

ABSOLUTE = timedelta(hours=8)
IDLE = timedelta(minutes=30)


@dataclass(frozen=True)
class SessionRecord:
    token_hash: str
    staff_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


class SessionStore(Protocol):
    async def add(self, record: SessionRecord) -> None: ...
    async def get(self, token_hash: str) -> SessionRecord | None: ...
    async def touch(self, token_hash: str, at: datetime) -> None: ...
    async def delete(self, token_hash: str) -> None: ...


class DatabaseSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, record: SessionRecord) -> None:
        async with self._db.session() as session:
            await staff.add_session(session, StaffSession(**vars(record)))

    async def get(self, token_hash: str) -> SessionRecord | None:
        async with self._db.session() as session:
            row = await staff.get_session(session, token_hash)
        if row is None:
            return None
        return SessionRecord(row.token_hash, row.staff_id, row.csrf_token, row.created_at, row.last_seen_at)

    async def touch(self, token_hash: str, at: datetime) -> None:
        async with self._db.session() as session:
            await staff.touch_session(session, token_hash, at)

    async def delete(self, token_hash: str) -> None:
        async with self._db.session() as session:
            await staff.delete_session(session, token_hash)


@dataclass(frozen=True)
class ActiveSession:
    token: str
    member: StaffMember
    csrf_token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class StaffSessions:
    def __init__(self, store: SessionStore, accounts: StaffAccounts, clock: Clock, *,
                 absolute: timedelta = ABSOLUTE, idle: timedelta = IDLE) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock
        self.absolute = absolute
        self.idle = idle

    async def open(self, member: StaffMember) -> ActiveSession:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = self._clock()
        await self._store.add(SessionRecord(token_hash(token), member.id, csrf, now, now))
        return ActiveSession(token, member, csrf)

    async def resolve(self, token: str | None) -> ActiveSession | None:
        """The live session of this cookie (its idle clock restarted), None when absent or expired."""
        if not token or len(token) > 128:
            return None
        key = token_hash(token)
        record = await self._store.get(key)
        if record is None:
            return None
        now = self._clock()
        if now - record.created_at >= self.absolute or now - record.last_seen_at >= self.idle:
            await self._store.delete(key)
            return None
        member = await self._accounts.member(record.staff_id)
        if member is None:
            await self._store.delete(key)
            return None
        await self._store.touch(key, now)
        return ActiveSession(token, member, record.csrf_token)

    async def close(self, token: str) -> None:
        await self._store.delete(token_hash(token))
