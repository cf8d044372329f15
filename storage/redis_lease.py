"""Leases and heartbeats on Redis.

A lease: at most one holder of a name at a time, for a time; the holder may renew it. Timed duties and
the sweeper take one, so that with many workers one does the work while the others stand by; the work
itself is safe to repeat, the lease only saves effort.

A heartbeat: a key per worker with a short TTL, renewed while the worker lives. A worker's claims on
messages live as long as its key: once it is gone (killed, frozen, cut off), the others release them.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
"""


class RedisLease:
    def __init__(self, client: Redis, prefix: str = "eblagh") -> None:
        self._client = client
        self._prefix = prefix
        self._acquire = client.register_script(_ACQUIRE)

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        taken = await self._acquire(keys=[f"{self._prefix}:lease:{name}"], args=[holder, int(ttl * 1000)])
        return bool(int(taken))


class RedisHeartbeats:
    grace = 0.0  # every worker's beat is visible here: a stopped one is known at once

    def __init__(self, client: Redis, prefix: str = "eblagh") -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, holder: str) -> str:
        return f"{self._prefix}:beat:{holder}"

    async def beat(self, holder: str, ttl: float) -> None:
        await self._client.set(self._key(holder), "1", px=max(1, int(ttl * 1000)))

    async def stopped(self, holders: Sequence[str]) -> list[str]:
        if not holders:
            return []
        alive = await self._client.mget([self._key(h) for h in holders])
        return [h for h, beat in zip(holders, alive, strict=True) if beat is None]
