"""`Idempotency-Key` on every POST of the integration API, kept 24 h per API key.

The same key with the same body answers the first response again (`Idempotent-Replayed: true`); the same
key with another body is refused (422); while the first request with that key is still running, another
gets 409. The record lives in the database, so this holds across processes and restarts. A first request
that ended without an answer (an exception) frees its key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.clock import Clock
from storage import api_store
from storage.database import Database

KEEP = timedelta(hours=24)


class Verdict(StrEnum):
    NEW = "new"  # go ahead, then `finish`
    REPLAY = "replay"
    IN_FLIGHT = "in_flight"  # 409
    MISMATCH = "mismatch"  # 422


@dataclass(frozen=True)
class Begun:
    verdict: Verdict
    status_code: int | None = None
    body: str | None = None


def body_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


class IdempotencyService:
    def __init__(self, db: Database, clock: Clock, keep: timedelta = KEEP) -> None:
        self._db = db
        self._clock = clock
        self._keep = keep
        self._last_expiry: datetime | None = None

    async def begin(self, key_id: int, key: str, request_hash: str) -> Begun:
        now = self._clock()
        async with self._db.session() as session:
            if self._last_expiry is None or now - self._last_expiry > timedelta(minutes=10):
                await api_store.expire_idempotency(session, now - self._keep)
                self._last_expiry = now
            for _ in range(2):
                found = await api_store.claim_idempotency(session, key_id, key, request_hash, now)
                if found is None:
                    return Begun(Verdict.NEW)
                if now - found.created_at < self._keep:
                    break
                await api_store.forget_idempotency(session, found.id or 0)  # expired: the key is free again
            assert found is not None
        if found.request_hash != request_hash:
            return Begun(Verdict.MISMATCH)
        if found.status_code is None:
            return Begun(Verdict.IN_FLIGHT)
        return Begun(Verdict.REPLAY, found.status_code, found.body)

    async def finish(self, key_id: int, key: str, status_code: int, body: str) -> None:
        async with self._db.session() as session:
            await api_store.finish_idempotency(session, key_id, key, status_code, body)

    async def release(self, key_id: int, key: str) -> None:
        async with self._db.session() as session:
            await api_store.release_idempotency(session, key_id, key)
