"""Helpers for delivery tests and the delivery benchmark: many subscribers at once, workers in-process.

`seed_subscribers` writes citizens and their bound chats in bulk (hashes of invented IDs), so a
test can broadcast to hundreds of chats and a benchmark to tens of thousands.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert, select

from bot.engine import Backends, EngineOptions, open_backends
from bot.runtime import Runtime
from bot.settings import Settings
from bot.worker import run_worker
from services.broadcasts import BroadcastProgress, BroadcastService, Segment
from services.clock import system_clock
from services.delivery.consumer import LaneMetrics
from services.delivery.lanes import RetryPolicy
from services.messaging import MessageSender
from services.privacy import Hasher
from storage.database import Database
from storage.models import ChatBinding, Citizen

SECRET = b"test-secret-key-not-for-production"


async def seed_subscribers(db: Database, chat_ids: Sequence[int], *, platform: str = "telegram",
                           district: int | None = 5, batch: int = 2000) -> list[int]:
    """One citizen per chat, bound to it; returns the citizens' ids in chat order."""
    now = datetime.now(UTC)
    hasher = Hasher(SECRET)
    citizen_ids: list[int] = []
    for start in range(0, len(chat_ids), batch):
        part = chat_ids[start:start + batch]
        rows = [{"nid_hash": hasher.national_id(f"seed-{platform}-{chat}"), "nid_masked": "000****000",
                 "mobile_hash": hasher.mobile(f"0912{chat % 10_000_000:07d}"), "mobile_masked": "0912***0000",
                 "full_name": "", "district": district, "created_at": now, "updated_at": now} for chat in part]
        async with db.session() as session:
            await session.execute(insert(Citizen), rows)  # type: ignore[deprecated]
            hashes = [r["nid_hash"] for r in rows]
            found = await session.execute(  # type: ignore[deprecated]
                select(Citizen.id, Citizen.nid_hash).where(Citizen.nid_hash.in_(hashes)))  # type: ignore[attr-defined]
            by_hash = {h: i for i, h in found.all()}
            ids = [int(by_hash[h]) for h in hashes]
            await session.execute(insert(ChatBinding), [  # type: ignore[deprecated]
                {"citizen_id": cid, "platform": platform, "chat_id": chat, "user_id": chat, "active": True,
                 "bound_at": now} for cid, chat in zip(ids, part, strict=True)])
        citizen_ids += ids
    return citizen_ids


def worker_settings(db: Database, **overrides: object) -> Settings:
    values: dict[str, object] = {"SECRET_KEY": SECRET.decode(), "DATABASE_URL": db.url, "PLATFORM": "telegram",
                                 "DELIVERY_RATE": 50, "DELIVERY_CHAT_RATE": 1}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# Paced at 0.96: these workers share one event loop with the fake server, whose own stalls look like bursts.
FAST = EngineOptions(concurrency=8, pace=0.96, claim_timeout=3.0, heartbeat_ttl=3.0, sweep_interval=0.2, duty_interval=0.5,
                     progress_interval=60.0, retry=RetryPolicy(max_attempts=6, base_delay=0.1, max_delay=0.5))


@dataclass
class RunningWorker:
    name: str
    stop: asyncio.Event
    task: asyncio.Task[LaneMetrics]
    backends: Backends | None = None

    async def halt(self) -> LaneMetrics:
        self.stop.set()
        return await self.task


@dataclass
class Fleet:
    """Workers running in this event loop, each with its own backends (its own Redis client)."""

    runtime: Runtime
    sender: MessageSender
    options: EngineOptions = FAST
    workers: list[RunningWorker] = field(default_factory=list)

    def start(self, name: str) -> RunningWorker:
        options = EngineOptions(**{**vars(self.options), "name": name})
        backends = open_backends(self.runtime, options)
        stop = asyncio.Event()
        task = asyncio.create_task(run_worker(self.runtime, self.sender, stop, options=options,
                                              backends=backends))
        worker = RunningWorker(name, stop, task, backends)
        self.workers.append(worker)
        return worker

    async def halt(self) -> list[LaneMetrics]:
        return [await w.halt() for w in self.workers if not w.task.done()]


@asynccontextmanager
async def fleet(runtime: Runtime, sender: MessageSender, names: Sequence[str],
                options: EngineOptions = FAST) -> AsyncIterator[Fleet]:
    running = Fleet(runtime, sender, options)
    for name in names:
        running.start(name)
    try:
        yield running
    finally:
        for worker in running.workers:
            worker.stop.set()
        for worker in running.workers:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(worker.task, 30)


async def wait_finished(service: BroadcastService, broadcast_id: int, within: float = 60.0) -> BroadcastProgress:
    deadline = time.monotonic() + within
    while True:
        progress = await service.status(broadcast_id)
        assert progress is not None
        if progress.pending == 0 or time.monotonic() > deadline:
            return progress
        await asyncio.sleep(0.1)


async def broadcast(db: Database, text: str = "اطلاعیه آزمایشی", segment: str = "all") -> tuple[BroadcastService, int]:
    service = BroadcastService(db, system_clock)
    progress = await service.create(text=text, segment=Segment.parse(segment), at=None, created_by="test")
    return service, progress.id
