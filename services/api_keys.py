"""API keys: `eblagh apikey create NAME --role ingest|read|broadcast [--test]`, list, revoke, and the
check behind `Authorization: Bearer KEY`.

A key is `ebk_live_...` (or `ebk_test_...`), 32 random URL-safe characters after the prefix, printed
once. Only its SHA-256 is stored (a random key needs no slow hash), with its first characters to tell
keys apart in a list and its last use (written at most once a minute per key).
"""

from __future__ import annotations

import builtins
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.clock import Clock
from storage import api_store, audit
from storage.api_models import ApiKey, ApiRole
from storage.database import Database

__all__ = ["ApiRole", "KeyInfo", "ApiKeyService", "KeyProblem", "role_allows"]

_RANK = {ApiRole.READ: 0, ApiRole.INGEST: 1, ApiRole.BROADCAST: 2}
TOUCH_EVERY = timedelta(minutes=1)


def role_allows(role: ApiRole, needed: ApiRole) -> bool:
    """read may only read; ingest may also write citizens, cases and rulings; broadcast may also broadcast."""
    return _RANK[role] >= _RANK[needed]


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    role: ApiRole
    test: bool
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyInfo:
        assert key.id is not None
        return cls(key.id, key.name, ApiRole(key.role), key.test, key.prefix, key.created_at, key.last_used_at,
                   key.revoked_at)


class KeyProblem(ValueError):
    """Why a key cannot be made; `code` (bad_name | exists) lets a page say it in its own words."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class ApiKeyService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._touched: dict[int, datetime] = {}

    async def create(self, name: str, role: ApiRole, *, test: bool = False, actor: str = "cli") -> tuple[str, KeyInfo]:
        """A new key (the text, shown once) and what is stored of it."""
        name = name.strip()
        if not name or len(name) > 64:
            raise KeyProblem("a key's name is 1 to 64 characters", code="bad_name")
        text = f"ebk_{'test' if test else 'live'}_{secrets.token_urlsafe(24)}"
        now = self._clock()
        async with self._db.session() as session:
            if await api_store.key_by_name(session, name) is not None:
                raise KeyProblem(f"a key named {name!r} exists", code="exists")
            key = await api_store.add_key(session, ApiKey(name=name, role=role.value, test=test,
                                                          key_hash=key_hash(text), prefix=text[:13], created_at=now))
            audit.record_event(session, actor=actor[:64], action="apikey.created", subject=name,
                               detail={"role": role.value, "test": test}, at=now)
            return text, KeyInfo.of(key)

    async def list(self) -> builtins.list[KeyInfo]:
        async with self._db.session() as session:
            return [KeyInfo.of(k) for k in await api_store.list_keys(session)]

    async def revoke(self, name: str, *, actor: str = "cli") -> bool:
        async with self._db.session() as session:
            return self._revoke(session, await api_store.key_by_name(session, name), actor)

    async def revoke_id(self, key_id: int, *, actor: str) -> bool:
        """The dashboard revokes by id (a name may be anything an admin typed)."""
        async with self._db.session() as session:
            return self._revoke(session, await api_store.get_key(session, key_id), actor)

    def _revoke(self, session: AsyncSession, key: ApiKey | None, actor: str) -> bool:
        """Revoked from now on; False when there is no such key or it already was."""
        if key is None or key.revoked_at is not None:
            return False
        now = self._clock()
        key.revoked_at = now
        session.add(key)
        audit.record_event(session, actor=actor[:64], action="apikey.revoked", subject=key.name, at=now)
        return True

    async def authenticate(self, text: str) -> KeyInfo | None:
        """The key this text is, if it is one and not revoked; its last use is recorded."""
        if not text.startswith("ebk_") or len(text) > 100:
            return None
        now = self._clock()
        async with self._db.session() as session:
            key = await api_store.key_by_hash(session, key_hash(text))
            if key is None or key.revoked_at is not None or key.id is None:
                return None
            last = self._touched.get(key.id) or key.last_used_at
            if last is None or now - last >= TOUCH_EVERY:
                await api_store.touch_key(session, key.id, now)
                self._touched[key.id] = now
            return KeyInfo.of(key)
