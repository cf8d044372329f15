"""Dashboard sessions in Redis (when REDIS_URL is set): one hash a session, expiring with its 8 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class _Record(Protocol):
    token_hash: str
    staff_id: int
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime


class RedisSessionStore:
    """Satisfies services.staff_sessions.SessionStore; `make` builds its records (a SessionRecord)."""

    def __init__(self, redis: Any, make: Any, *, lifetime: timedelta = timedelta(hours=8),
                 prefix: str = "eblagh:staff:session:") -> None:
        self._redis = redis
        self._make = make
        self._lifetime = lifetime
        self._prefix = prefix

    async def add(self, record: _Record) -> None:
        key = self._prefix + record.token_hash
        await self._redis.hset(key, mapping={"staff_id": record.staff_id, "csrf": record.csrf_token,
                                             "created": record.created_at.timestamp(),
                                             "seen": record.last_seen_at.timestamp()})
        await self._redis.expire(key, int(self._lifetime.total_seconds()) + 60)

    async def get(self, token_hash: str) -> Any:
        values = await self._redis.hgetall(self._prefix + token_hash)
        if not values:
            return None
        field = {k.decode() if isinstance(k, bytes) else k: v.decode() if isinstance(v, bytes) else v
                 for k, v in values.items()}
        return self._make(token_hash, int(field["staff_id"]), field["csrf"],
                          datetime.fromtimestamp(float(field["created"]), UTC),
                          datetime.fromtimestamp(float(field["seen"]), UTC))

    async def touch(self, token_hash: str, at: datetime) -> None:
        key = self._prefix + token_hash
        if await self._redis.exists(key):
            await self._redis.hset(key, "seen", at.timestamp())

    async def delete(self, token_hash: str) -> None:
        await self._redis.delete(self._prefix + token_hash)
