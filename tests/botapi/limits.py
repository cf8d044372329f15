"""Flood control and fault injection for the fake Bot API, both off unless configured."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass


@dataclass
class Limits:
    """Messages a second over the whole bot and per chat (None: unlimited).

    Over a limit Telegram answers 429 with `retry_after` and refuses every send in that scope until
    the time has passed, not just the one request that overflowed.
    """

    global_per_second: float | None = None
    chat_per_second: float | None = None
    retry_after: int = 1


@dataclass
class Faults:
    """A fraction of sendMessage calls fail like an overloaded front end (502 from nginx, HTML body)."""

    ratio: float = 0.0
    status: int = 502
    html_body: bool = True
    seed: int | None = 0


class _Window:
    """A sliding window that admits `rate` events a second, with a penalty once it overflows."""

    def __init__(self, rate: float) -> None:
        self.span = max(1.0, 1.0 / rate)
        self.capacity = max(1, math.floor(rate * self.span + 1e-9))
        self.times: deque[float] = deque()
        self.blocked_until = 0.0

    def refuse(self, now: float, penalty: int) -> int | None:
        if now < self.blocked_until:
            return max(1, math.ceil(self.blocked_until - now))
        while self.times and self.times[0] <= now - self.span:
            self.times.popleft()
        if len(self.times) >= self.capacity:
            self.blocked_until = now + penalty
            return penalty
        return None

    def record(self, now: float) -> None:
        self.times.append(now)


class FloodControl:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._global = _Window(limits.global_per_second) if limits.global_per_second else None
        self._chats: dict[int, _Window] = {}

    def check(self, chat_id: int, now: float) -> int | None:
        """Seconds to wait when the send must be refused, else None (and the send is counted)."""
        penalty = max(1, int(self.limits.retry_after))
        chat_window = None
        if self.limits.chat_per_second:
            chat_window = self._chats.setdefault(chat_id, _Window(self.limits.chat_per_second))
        for window in (self._global, chat_window):
            if window is not None and (wait := window.refuse(now, penalty)) is not None:
                return wait
        for window in (self._global, chat_window):
            if window is not None:
                window.record(now)
        return None


class FaultInjector:
    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)

    def strikes(self) -> bool:
        return self.faults.ratio > 0 and self._random.random() < self.faults.ratio
