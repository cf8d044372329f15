"""Per-key request rate for the integration API (`API_RATE` a second): a token bucket per key, in
memory, or shared by every web process through Redis (storage/redis_api_rate.py) when REDIS_URL is set."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def take(self, key: str) -> float:
        """0 when the request may go; otherwise the seconds to wait (the Retry-After)."""
        ...


class MemoryRateLimiter:
    """A token bucket per key: `rate` a second, bursts of `burst` (default: one second's worth)."""

    def __init__(self, rate: float, burst: float | None = None, now: Callable[[], float] = time.monotonic) -> None:
        self._rate = rate
        self._burst = max(burst if burst is not None else rate, 1.0)
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    async def take(self, key: str) -> float:
        now = self._now()
        tokens, at = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self._rate


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))
