"""The delivery engine in one process: a consumer per lane, the sweeper, the heartbeat, timed jobs.

`eblagh run` runs it in-process (unless `--no-deliver`), `eblagh worker` runs only it, the terminal
chat drains it between lines. With Redis backends any number of processes run it together: the
queues, the rate budgets and the leases are shared, each worker's claims live as long as its
heartbeat, and the sweeper and each timed job run on one worker at a time (a lease).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from services.clock import Clock, sleep_or_stop
from services.delivery.consumer import LaneConsumer, LaneMetrics
from services.delivery.lanes import Lane
from services.delivery.ports import Heartbeats, Lease
from services.delivery.sweeper import Sweeper, SweepStats
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineConfig:
    heartbeat_ttl: float = 3.0  # a worker silent this long has stopped: its claims are released
    sweep_interval: float = 1.0
    max_backlog: int = 5000


@dataclass(frozen=True)
class TimedJob:
    """A duty done by one worker at a time, every `interval` seconds (a lease of that name)."""

    name: str
    interval: float
    run: Callable[[], Awaitable[None]]


@dataclass
class DrainStats:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0
    rate_limited: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.blocked + self.failed + self.retried


class DeliveryEngine:
    def __init__(self, db: Database, lanes: Sequence[Lane], clock: Clock, *, name: str, heartbeats: Heartbeats,
                 lease: Lease, jobs: Sequence[TimedJob] = (), config: EngineConfig | None = None,
                 wake: asyncio.Event | None = None) -> None:
        self._db = db
        self._clock = clock
        self.name = name
        self._heartbeats = heartbeats
        self._lease = lease
        self._jobs = list(jobs)
        self._config = config or EngineConfig()
        # Set by whoever queues a message (a relay, a binding): the sweeper looks at once, not next pass.
        self.wake = wake or asyncio.Event()
        self.consumers = [LaneConsumer(db, lane, clock, consumer=name) for lane in lanes]
        self.sweeper = Sweeper(db, lanes, heartbeats, clock, me=name, confirm=self._config.heartbeat_ttl * 2 / 3,
                               max_backlog=self._config.max_backlog)

    @property
    def metrics(self) -> LaneMetrics:
        """The counts of the first lane (the messenger's)."""
        return self.consumers[0].metrics

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; what is in flight is finished before it returns."""
        await self._heartbeats.beat(self.name, self._config.heartbeat_ttl)
        beating = asyncio.Event()
        side = [asyncio.create_task(self._beat(beating)),
                asyncio.create_task(self._sweep_loop(stop)),
                *(asyncio.create_task(self._job_loop(job, stop)) for job in self._jobs)]
        try:
            await asyncio.gather(*(consumer.run(stop) for consumer in self.consumers))
        finally:
            stop.set()
            beating.set()
            await asyncio.gather(*side, return_exceptions=True)
            for consumer in self.consumers:  # a lane's own connections (the callbacks' HTTP client)
                closing = getattr(consumer.lane.sender, "aclose", None)
                if closing is not None:
                    await closing()

    async def drain(self) -> DrainStats:
        """Everything due now, sent before it returns (the terminal chat, between lines)."""
        before = [dict(vars(c.metrics)) for c in self.consumers]
        await self._heartbeats.beat(self.name, self._config.heartbeat_ttl)
        for _ in range(100):
            await self.sweeper.sweep()
            sent = sum(c.metrics.attempted for c in self.consumers)
            for consumer in self.consumers:
                await consumer.drain()
            if sum(c.metrics.attempted for c in self.consumers) == sent:
                break
        stats = DrainStats()
        for consumer, was in zip(self.consumers, before, strict=True):
            for name in vars(stats):
                setattr(stats, name, getattr(stats, name) + getattr(consumer.metrics, name) - was[name])
        return stats

    async def run_jobs_once(self) -> None:
        """Every timed job once, now (the terminal chat: reminders and deemed service between lines)."""
        for job in self._jobs:
            await job.run()

    async def _beat(self, stopped: asyncio.Event) -> None:
        ttl = self._config.heartbeat_ttl
        while not await sleep_or_stop(stopped, ttl / 3):
            try:
                await self._heartbeats.beat(self.name, ttl)
            except Exception as error:
                log.warning("heartbeat not renewed (%s); the others may take this worker's claims",
                            type(error).__name__)

    async def _sweep_loop(self, stop: asyncio.Event) -> None:
        interval = self._config.sweep_interval

        async def sweep() -> None:
            stats: SweepStats = await self.sweeper.sweep()
            log.debug("sweep: %s", stats)
            if stats.created or stats.released:
                log.info("sweep: %d new messages, %d released from stopped workers", stats.created, stats.released)

        await self._under_lease("sweep", interval, sweep, stop, wake=self.wake)

    async def _job_loop(self, job: TimedJob, stop: asyncio.Event) -> None:
        await self._under_lease(job.name, job.interval, job.run, stop)

    async def _under_lease(self, name: str, interval: float, job: Callable[[], Awaitable[None]],
                           stop: asyncio.Event, wake: asyncio.Event | None = None) -> None:
        """Run `job` every `interval` while this worker holds the lease; the others stand by."""
        while not stop.is_set():
            try:
                if await self._lease.acquire(name, self.name, ttl=max(interval * 3, 3.0)):
                    await job()
            except Exception as error:
                log.warning("%s failed (%s: %s); next try in %.1fs", name, type(error).__name__, str(error)[:160],
                            interval)
            await sleep_or_stop(stop, interval, wake)
