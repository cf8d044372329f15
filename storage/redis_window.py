"""Window counters on Redis, shared by every process on one REDIS_URL (services.flood.WindowCounter).

One hash per key holds the window's start (ms, from the caller's clock) and its count; a script
starts a new window or counts into the current one atomically. The key expires some time after
its window would have ended, so idle chats leave nothing behind.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

_HIT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local start = tonumber(redis.call('HGET', KEYS[1], 's'))
if not start or now >= start + window then
  redis.call('HSET', KEYS[1], 's', ARGV[1], 'n', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1, ARGV[1]}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), redis.call('HGET', KEYS[1], 's')}
"""


class RedisWindowCounter:
    def __init__(self, client: Redis, *, prefix: str = "eblagh") -> None:
        self._prefix = f"{prefix}:window"
        self._hit = client.register_script(_HIT)

    async def hit(self, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        now_ms = int(now.timestamp() * 1000)
        window_ms = int(window.total_seconds() * 1000)
        # Kept twice the window (real time): the caller's clock decides, the expiry only tidies up.
        count, start_ms = await self._hit(keys=[f"{self._prefix}:{key}"],
                                          args=[now_ms, window_ms, 2 * window_ms])
        return int(count), datetime.fromtimestamp(int(start_ms) / 1000, UTC)
