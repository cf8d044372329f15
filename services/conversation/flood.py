"""Flood limits, framework-free: how fast a chat may write, how often an unbound chat may reach a human.

- Any chat sending more than `messages_per_window` events (texts, commands, contacts, taps) within
  `message_window` gets one slow-down note and is then ignored until that window ends; the staff
  chat is exempt.
- A chat not bound to a citizen may reach a human (a handoff to staff) `handoffs_unbound` times
  within `handoff_window`; logging in lifts the limit.

A window starts at the chat's first counted event and lasts its length, on the injected clock.
Counters sit behind `WindowCounter`: `MemoryWindowCounter` in one process (the embedded default),
storage.redis_window.RedisWindowCounter when several processes share REDIS_URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from services.clock import Clock


class WindowCounter(Protocol):
    async def hit(self, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        """Count one event for `key`: (events in its current window, this one included; window start).

        A window starts at the first event after the previous one ended.
        """
        ...


class MemoryWindowCounter:
    """One process: a dict of (window end, count); ended windows are dropped as the dict grows."""

    def __init__(self, *, prune_at: int = 10_000) -> None:
        self._windows: dict[str, tuple[datetime, datetime, int]] = {}
        self._prune_at = prune_at

    async def hit(self, key: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        entry = self._windows.get(key)
        if entry is None or now >= entry[1]:
            if len(self._windows) >= self._prune_at:
                self._prune(now)
            self._windows[key] = (now, now + window, 1)
            return 1, now
        start, end, count = entry
        self._windows[key] = (start, end, count + 1)
        return count + 1, start

    def _prune(self, now: datetime) -> None:
        for key in [k for k, (_, end, _) in self._windows.items() if now >= end]:
            del self._windows[key]


class Admission(StrEnum):
    PASS = "pass"  # handle it
    WARN = "warn"  # the first one over the limit: send the slow-down note instead
    DROP = "drop"  # over the limit and already told: ignore (a tap is still answered)


@dataclass(frozen=True)
class FloodPolicy:
    messages_per_window: int = 20
    message_window: timedelta = timedelta(minutes=1)
    handoffs_unbound: int = 3
    handoff_window: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Verdict:
    admission: Admission
    until: datetime  # when the chat's current window ends

    def seconds_left(self, now: datetime) -> int:
        return max(1, int((self.until - now).total_seconds() + 0.999))


class FloodGuard:
    def __init__(self, counter: WindowCounter, clock: Clock, *, policy: FloodPolicy | None = None,
                 exempt_chat_id: int | None = None) -> None:
        self._counter = counter
        self._clock = clock
        self.policy = policy or FloodPolicy()
        self._exempt = exempt_chat_id

    def now(self) -> datetime:
        return self._clock()

    async def admit(self, platform: str, chat_id: int) -> Verdict:
        """Count one incoming event of the chat and say what to do with it."""
        now = self._clock()
        if chat_id == self._exempt:
            return Verdict(Admission.PASS, now)
        window = self.policy.message_window
        count, start = await self._counter.hit(f"msg:{platform}:{chat_id}", now, window)
        limit = self.policy.messages_per_window
        admission = Admission.PASS if count <= limit else Admission.WARN if count == limit + 1 else Admission.DROP
        return Verdict(admission, start + window)

    async def reach_human(self, platform: str, chat_id: int) -> Verdict:
        """Count one handoff of an unbound chat: PASS within the limit, else DROP until the window ends."""
        window = self.policy.handoff_window
        count, start = await self._counter.hit(f"human:{platform}:{chat_id}", self._clock(), window)
        admission = Admission.PASS if count <= self.policy.handoffs_unbound else Admission.DROP
        return Verdict(admission, start + window)
