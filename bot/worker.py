"""`eblagh worker` wired: the consumer, the sweeper and the timed duties over one messenger sender.

With REDIS_URL every worker of the bot, on any machine, shares the stream, the rate budget and the
duty leases; without it the same engine runs in this process alone. SIGTERM (or SIGINT) stops
taking new work, finishes what is in flight, and returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.app import law_policy
from bot.callback_lane import run_callbacks
from bot.runtime import Runtime
from handlers import render
from handlers.outbox_cards import broadcast_card, reminder_card, staff_reply_card
from services.clock import Clock, system_clock
from services.composer import MessageComposer
from services.delivery import RetryPolicy
from services.delivery_ports import (
    Lease,
    MemoryLease,
    MemoryRateBudget,
    MemoryWorkQueue,
    RateBudget,
    WorkQueue,
)
from services.dispatcher import Dispatcher, WorkerConfig, WorkerMetrics
from services.duties import TimedDuties
from services.messaging import MessageSender
from services.notices import NoticeService
from services.sweeper import Sweeper

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    name: str = ""
    concurrency: int = 8
    # Share of DELIVERY_RATE (and DELIVERY_CHAT_RATE) actually scheduled: the messengers count per
    # one-second window at their end, so a little room absorbs network jitter.
    pace: float = 0.96
    claim_timeout: float = 60.0
    sweep_interval: float = 1.0
    duty_interval: float = 30.0
    max_backlog: int = 5000
    progress_interval: float = 10.0
    retry: RetryPolicy = RetryPolicy()


@dataclass
class Backends:
    queue: WorkQueue
    budget: RateBudget
    lease: Lease
    close: Callable[[], Awaitable[None]]


def consumer_name(options: WorkerOptions) -> str:
    return options.name or f"{socket.gethostname()}:{os.getpid()}"


def open_backends(runtime: Runtime, options: WorkerOptions, platform: str) -> Backends:
    settings = runtime.settings
    rate, chat_rate = settings.delivery_rate * options.pace, settings.delivery_chat_rate * options.pace
    if not settings.redis_url:
        async def nothing() -> None:
            return None

        return Backends(MemoryWorkQueue(), MemoryRateBudget(rate=rate, chat_rate=chat_rate), MemoryLease(), nothing)
    import redis.asyncio as redis

    from storage.redis_lease import RedisLease
    from storage.redis_queue import RedisWorkQueue
    from storage.redis_rate import RedisRateBudget

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5,
                                  health_check_interval=15)
    return Backends(RedisWorkQueue(client, platform), RedisRateBudget(client, rate=rate, chat_rate=chat_rate,
                                                                      platform=platform),
                    RedisLease(client), client.aclose)


async def run_worker(runtime: Runtime, sender: MessageSender, stop: asyncio.Event, *,
                     options: WorkerOptions | None = None, clock: Clock = system_clock,
                     backends: Backends | None = None) -> WorkerMetrics:
    """Deliver until `stop` is set; returns the metrics of this worker."""
    options = options or WorkerOptions()
    settings = runtime.settings
    db = runtime.database
    name = consumer_name(options)
    backends = backends or open_backends(runtime, options, sender.platform)
    law = law_policy(runtime)
    composer = MessageComposer(db, NoticeService(db, law, clock), notice_card=render.notice_card,
                               reminder_card=reminder_card, broadcast_card=broadcast_card,
                               staff_reply_card=staff_reply_card)
    config = WorkerConfig(concurrency=options.concurrency, claim_timeout=options.claim_timeout)
    dispatcher = Dispatcher(db, backends.queue, backends.budget, sender, composer, clock, consumer=name,
                            retry=options.retry, config=config)
    sweeper = Sweeper(db, backends.queue, clock, platform=sender.platform, claim_timeout=options.claim_timeout,
                      max_backlog=options.max_backlog)
    duties = TimedDuties(db, clock, law, reminder_days_before=settings.reminder_days_before_deemed)

    async def sweep() -> None:
        stats = await sweeper.sweep()
        if stats.released or stats.created:
            log.info("sweep: %d stale claims released, %d new deliveries", stats.released, stats.created)

    async def duty() -> None:
        stats = await duties.run_once()
        if stats.broadcasts_started or stats.reminders or stats.deemed or stats.broadcasts_done:
            log.info("duties: %s", stats)

    side = [asyncio.create_task(_periodic(sweep, "sweep", options.sweep_interval, name, backends.lease, stop)),
            asyncio.create_task(_periodic(duty, "duties", options.duty_interval, name, backends.lease, stop)),
            asyncio.create_task(_progress(dispatcher.metrics, options.progress_interval, stop)),
            asyncio.create_task(run_callbacks(runtime, stop, clock=clock))]  # the callback lane (integration API)
    log.info("worker %s started on %s (rate %.1f/s, chat %.2f/s, %s)", name, sender.platform,
             settings.delivery_rate, settings.delivery_chat_rate, "redis" if settings.redis_url else "in-process")
    try:
        await dispatcher.run(stop)
    finally:
        stop.set()
        await asyncio.gather(*side, return_exceptions=True)
        await backends.close()
    log.info("worker %s stopped: %s", name, dispatcher.metrics.as_dict())
    return dispatcher.metrics


async def _periodic(job: Callable[[], Awaitable[None]], lease_name: str, interval: float, holder: str,
                    lease: Lease, stop: asyncio.Event) -> None:
    """Run `job` every `interval` while this worker holds the lease; the others stand by."""
    while not stop.is_set():
        try:
            if await lease.acquire(lease_name, holder, ttl=max(interval * 3, 5.0)):
                await job()
        except Exception as error:
            log.warning("%s failed (%s: %s); next try in %.0fs", lease_name, type(error).__name__,
                        str(error)[:160], interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)


async def _progress(metrics: WorkerMetrics, interval: float, stop: asyncio.Event) -> None:
    last, started = 0, time.monotonic()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if metrics.sent != last:
            rate = (metrics.sent - last) / interval
            log.info("progress: sent %d (%.1f/s), blocked %d, failed %d, retried %d, 429s %d, up %.0fs",
                     metrics.sent, rate, metrics.blocked, metrics.failed, metrics.retried, metrics.rate_limited,
                     time.monotonic() - started)
            last = metrics.sent


def install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
