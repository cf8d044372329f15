"""A lease on Redis: at most one holder of a name at a time, for a time; the holder may renew it.

Timed duties and the sweeper take one, so that with many workers one does the work while the
others stand by; the work itself is safe to repeat, the lease only saves effort.
"""

from __future__ import annotations

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
