"""The small interfaces the delivery engine runs on, and their in-process versions.

With `REDIS_URL` the engine uses the Redis ones in storage/ (redis_queue, redis_rate, redis_lease),
shared by any number of processes; without it, these in-process ones, for one process (the embedded
default: `eblagh run` or one `eblagh worker`). The engine cannot tell them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from storage.redis_queue import QueueItem
from storage.redis_rate import Reservation

__all__ = ["Heartbeats", "Lease", "MemoryHeartbeats", "MemoryLease", "MemoryRateBudget", "MemoryWorkQueue",
           "QueueItem", "RateBudget", "Reservation", "UnlimitedBudget", "WorkQueue"]


class WorkQueue(Protocol):
    """References to database rows waiting to be sent; each is handed to one consumer at a time."""

    async def push(self, refs: Sequence[str]) -> int: ...

    async def pull(self, consumer: str, count: int, block_ms: int) -> list[QueueItem]:
        """Up to `count` new entries for `consumer`, waiting up to `block_ms` for one to arrive."""
        ...

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[QueueItem]: ...

    async def done(self, items: Sequence[QueueItem]) -> None: ...

    async def missing(self, refs: Sequence[str]) -> list[str]: ...

    async def backlog(self) -> int: ...

    async def consumers(self) -> list[str]:
        """Consumers that hold entries now."""
        ...

    async def forget(self, consumer: str) -> int:
        """Drop the entries a stopped consumer held (their rows are released; the sweeper queues them again)."""
        ...


class RateBudget(Protocol):
    """The bot's send budget: a slot in the bot-wide schedule that also respects the chat's rate."""

    async def reserve(self, chat_id: int, *, again: bool = False) -> Reservation: ...

    async def pause(self, seconds: float) -> float: ...


class Lease(Protocol):
    async def acquire(self, name: str, holder: str, ttl: float) -> bool: ...


class Heartbeats(Protocol):
    """Which workers are alive: each renews its own beat, and a claim lives as long as its holder's beat.

    `grace` is how old a claim of a holder this backend cannot see must be before it counts as
    abandoned: 0 with Redis, where every worker's beat is visible; the claim timeout in one process,
    which cannot see another process's beat.
    """

    grace: float

    async def beat(self, holder: str, ttl: float) -> None: ...

    async def stopped(self, holders: Sequence[str]) -> list[str]: ...


class MemoryWorkQueue:
    """One process's queue: waiting entries in order, taken ones until done or reclaimed."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._waiting: OrderedDict[str, str] = OrderedDict()  # entry id -> ref
        self._taken: dict[str, tuple[str, str, float]] = {}  # entry id -> (ref, consumer, since)
        self._present: set[str] = set()
        self._arrived = asyncio.Event()

    async def push(self, refs: Sequence[str]) -> int:
        added = 0
        for ref in refs:
            if ref not in self._present:
                self._present.add(ref)
                self._waiting[f"{next(self._ids)}-0"] = ref
                added += 1
        if added:
            self._arrived.set()
        return added

    async def pull(self, consumer: str, count: int, block_ms: int) -> list[QueueItem]:
        if not self._waiting and block_ms > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), timeout=block_ms / 1000)
        items: list[QueueItem] = []
        while self._waiting and len(items) < count:
            entry_id, ref = self._waiting.popitem(last=False)
            self._taken[entry_id] = (ref, consumer, time.monotonic())
            items.append(QueueItem(entry_id, ref))
        return items

    async def reclaim(self, consumer: str, min_idle_ms: int, count: int) -> list[QueueItem]:
        cutoff = time.monotonic() - min_idle_ms / 1000
        items: list[QueueItem] = []
        for entry_id, (ref, _owner, since) in list(self._taken.items()):
            if since <= cutoff and len(items) < count:
                self._taken[entry_id] = (ref, consumer, time.monotonic())
                items.append(QueueItem(entry_id, ref))
        return items

    async def done(self, items: Sequence[QueueItem]) -> None:
        for item in items:
            taken = self._taken.pop(item.entry_id, None)
            waiting = self._waiting.pop(item.entry_id, None)
            if taken is not None or waiting is not None:
                self._present.discard(item.ref)

    async def missing(self, refs: Sequence[str]) -> list[str]:
        return [ref for ref in refs if ref not in self._present]

    async def backlog(self) -> int:
        return len(self._waiting) + len(self._taken)

    async def consumers(self) -> list[str]:
        return sorted({owner for _ref, owner, _since in self._taken.values()})

    async def forget(self, consumer: str) -> int:
        gone = [entry_id for entry_id, (_ref, owner, _s) in self._taken.items() if owner == consumer]
        for entry_id in gone:
            ref, _owner, _since = self._taken.pop(entry_id)
            self._present.discard(ref)
        return len(gone)


class MemoryRateBudget:
    """The same reserving schedule as RedisRateBudget, on this process's monotonic clock."""

    def __init__(self, *, rate: float, chat_rate: float, max_lead: float = 1.0) -> None:
        self._interval = 1.0 / rate
        self._chat_interval = 1.0 / chat_rate
        self._max_lead = max_lead
        self._next = 0.0
        self._paused_until = 0.0
        self._chats: dict[int, float] = {}

    async def reserve(self, chat_id: int, *, again: bool = False) -> Reservation:
        now = time.monotonic()
        if self._paused_until > now:
            return Reservation(False, wait=self._paused_until - now)
        slot = max(self._next, now)
        chat_free = self._chats.get(chat_id, 0.0)
        if chat_free > slot and not again:
            return Reservation(False, wait=chat_free - now, chat_busy=True)
        if slot - now > self._max_lead:
            return Reservation(False, wait=slot - now - self._max_lead)
        self._next = slot + self._interval
        self._chats[chat_id] = slot + self._chat_interval
        if len(self._chats) > 100_000:  # forget chats whose slot has long passed
            self._chats = {c: t for c, t in self._chats.items() if t > now}
        return Reservation(True, delay=slot - now, slot_us=round(slot * 1_000_000))

    async def pause(self, seconds: float) -> float:
        now = time.monotonic()
        self._paused_until = max(self._paused_until, now + seconds)
        self._next = max(self._next, self._paused_until)
        return self._paused_until - now


class UnlimitedBudget:
    """No pacing at all: for a sender with no limit of its own (the terminal chat)."""

    async def reserve(self, chat_id: int, *, again: bool = False) -> Reservation:
        return Reservation(True)

    async def pause(self, seconds: float) -> float:
        return 0.0


class MemoryHeartbeats:
    """This process's beats. Holders it never saw beat are other processes (or this one before a
    restart): their claims are taken as abandoned only after `grace` seconds."""

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self._until: dict[str, float] = {}

    async def beat(self, holder: str, ttl: float) -> None:
        self._until[holder] = time.monotonic() + ttl

    async def stopped(self, holders: Sequence[str]) -> list[str]:
        now = time.monotonic()
        return [h for h in holders if self._until.get(h, 0.0) <= now]


class MemoryLease:
    def __init__(self) -> None:
        self._held: dict[str, tuple[str, float]] = {}

    async def acquire(self, name: str, holder: str, ttl: float) -> bool:
        now = time.monotonic()
        current = self._held.get(name)
        if current is None or current[1] <= now or current[0] == holder:
            self._held[name] = (holder, now + ttl)
            return True
        return False
