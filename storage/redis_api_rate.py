"""The integration API's per-key token bucket in Redis, shared by every web process (one Lua call)."""

from __future__ import annotations

from typing import Any

_BUCKET = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 60)
return tostring(wait)
"""


class RedisRateLimiter:
    def __init__(self, client: Any, rate: float, burst: float | None = None, prefix: str = "eblagh:api-rate:") -> None:
        self._client = client
        self._rate = rate
        self._burst = max(burst if burst is not None else rate, 1.0)
        self._prefix = prefix
        self._script = client.register_script(_BUCKET)

    async def take(self, key: str) -> float:
        # Redis's clock, so that processes on several machines agree
        seconds, micros = await self._client.time()
        now = float(seconds) + float(micros) / 1e6
        wait = await self._script(keys=[self._prefix + key], args=[self._rate, self._burst, now])
        return float(wait.decode() if isinstance(wait, bytes) else wait)
