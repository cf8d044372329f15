"""The delivery engine wired: lanes, backends and timed jobs from the settings, for `eblagh run`,
`eblagh worker` and the terminal chat alike.

With REDIS_URL every process of the bot, on any machine, shares the queues, the rate budgets, the
leases and the heartbeats; without it the same engine runs in this one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.app import law_policy
from bot.runtime import Runtime
from handlers import render
from handlers.outbox_cards import broadcast_card, reminder_card, staff_reply_card
from handlers.relay_notes import RelayNoteTexts
from services.callbacks import RetrySchedule, callback_lane
from services.clock import Clock, system_clock
from services.delivery.composer import MessageComposer, MessengerLaneSender
from services.delivery.duties import TimedDuties
from services.delivery.engine import DeliveryEngine, EngineConfig, TimedJob
from services.delivery.lanes import Lane, LaneConfig, RetryPolicy
from services.delivery.ports import (
    Heartbeats,
    Lease,
    MemoryHeartbeats,
    MemoryLease,
    MemoryRateBudget,
    MemoryWorkQueue,
    RateBudget,
    WorkQueue,
)
from services.handoff import relay_settlers
from services.messaging import MessageSender
from services.notices import NoticeService
from services.payments import Reconciler, TransactionInquirer
from services.process_metrics import ProcessMetrics
from storage.models import LaneName

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EngineOptions:
    name: str = ""
    concurrency: int = 8
    # Share of DELIVERY_RATE (and DELIVERY_CHAT_RATE) actually scheduled: the messengers count per
    # one-second window at their end, so a little room absorbs network jitter.
    pace: float = 0.98
    claim_timeout: float = 60.0  # fallback: a queue entry idle this long is taken over
    heartbeat_ttl: float = 3.0  # a worker silent this long has stopped; the others take its messages
    sweep_interval: float = 1.0
    duty_interval: float = 30.0
    reconcile_interval: float = 30.0
    max_backlog: int = 5000
    progress_interval: float = 10.0
    retry: RetryPolicy = RetryPolicy()
    # The callback lane (the integration API's status callbacks): its own pace, overall and per endpoint,
    # and its own schedule (about 5 s, 30 s, 2 min, 10 min, 1 h, 6 h, then daily for 3 days).
    callback_rate: float = 50.0
    callback_endpoint_rate: float = 10.0
    callback_concurrency: int = 8
    callback_retry: RetrySchedule = RetrySchedule()


@dataclass
class Backends:
    """Where the engine's shared state lives: queues and budgets by name, leases, heartbeats."""

    queue: Callable[[str], WorkQueue]
    budget: Callable[[str, float, float], RateBudget]
    lease: Lease
    heartbeats: Heartbeats
    close: Callable[[], Awaitable[None]]
    made: dict[str, object] = field(default_factory=dict)

    def queue_named(self, name: str) -> WorkQueue:
        found = self.made.setdefault(f"q:{name}", self.queue(name))
        return found  # type: ignore[return-value]


def consumer_name(options: EngineOptions) -> str:
    return options.name or f"{socket.gethostname()}:{os.getpid()}"


def open_backends(runtime: Runtime, options: EngineOptions) -> Backends:
    settings = runtime.settings
    if not settings.redis_url:
        async def nothing() -> None:
            return None

        return Backends(lambda _name: MemoryWorkQueue(),
                        lambda _name, rate, chat_rate: MemoryRateBudget(rate=rate, chat_rate=chat_rate),
                        MemoryLease(), MemoryHeartbeats(grace=options.claim_timeout), nothing)
    import redis.asyncio as redis

    from storage.redis_lease import RedisHeartbeats, RedisLease
    from storage.redis_queue import RedisWorkQueue
    from storage.redis_rate import RedisRateBudget

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10, socket_connect_timeout=5,
                                  health_check_interval=15)
    return Backends(lambda name: RedisWorkQueue(client, name),
                    lambda name, rate, chat_rate: RedisRateBudget(client, rate=rate, chat_rate=chat_rate, platform=name),
                    RedisLease(client), RedisHeartbeats(client), client.aclose)


def messenger_lane(runtime: Runtime, sender: MessageSender, backends: Backends, options: EngineOptions, *,
                   clock: Clock, budget: RateBudget | None = None) -> Lane:
    """Notices, reminders, broadcast copies, handoffs, staff replies and notes to one messenger's chats."""
    settings = runtime.settings
    db = runtime.database
    composer = MessageComposer(db, NoticeService(db, law_policy(runtime), clock), notice_card=render.notice_card,
                               reminder_card=reminder_card, broadcast_card=broadcast_card,
                               staff_reply_card=staff_reply_card)
    name = f"{LaneName.MESSENGER.value}:{sender.platform}"
    # The budget keeps its pre-lane Redis key (the platform): one bot, one budget, across an upgrade.
    budget = budget or backends.budget(sender.platform, settings.delivery_rate * options.pace,
                                       settings.delivery_chat_rate * options.pace)
    return Lane(LaneName.MESSENGER, sender.platform, backends.queue_named(name), budget, composer,
                MessengerLaneSender(sender), retry=options.retry,
                config=LaneConfig(concurrency=options.concurrency, claim_timeout=options.claim_timeout),
                settlers=relay_settlers(RelayNoteTexts(), clock))


def build_engine(runtime: Runtime, sender: MessageSender, backends: Backends, *,
                 options: EngineOptions | None = None, clock: Clock = system_clock,
                 inquirer: TransactionInquirer | None = None, wake: asyncio.Event | None = None,
                 budget: RateBudget | None = None, metrics: ProcessMetrics | None = None) -> DeliveryEngine:
    """Every lane (the messenger's, the callbacks'), the sweeper and the timed duties: scheduled broadcasts, reminders, deemed service, and
    (on Bale with payments) the reconciliation of pending payments. With `metrics`, the lanes' counts are exposed."""
    options = options or EngineOptions()
    settings = runtime.settings
    db = runtime.database
    lanes = [messenger_lane(runtime, sender, backends, options, clock=clock, budget=budget),
             callback_lane(db, backends.queue_named(f"{LaneName.CALLBACK.value}:http"),
                           backends.budget(LaneName.CALLBACK.value, options.callback_rate,
                                           options.callback_endpoint_rate), clock,
                           schedule=options.callback_retry,
                           attempts=metrics.callback_attempts if metrics is not None else None,
                           config=LaneConfig(concurrency=options.callback_concurrency,
                                             claim_timeout=options.claim_timeout))]
    duties = TimedDuties(db, clock, law_policy(runtime), reminder_days_before=settings.reminder_days_before_deemed)

    async def duty() -> None:
        stats = await duties.run_once()
        if stats.broadcasts_started or stats.reminders or stats.deemed or stats.broadcasts_done:
            log.info("duties: %s", stats)

    jobs = [TimedJob("duties", options.duty_interval, duty)]
    if settings.payment_token and inquirer is not None:
        reconciler = Reconciler(db, clock)

        async def reconcile() -> None:
            stats = await reconciler.run_once(inquirer)
            if stats.confirmed or stats.failed or stats.gave_up:
                log.info("payments reconciled: %s", stats)

        jobs.append(TimedJob("payments", options.reconcile_interval, reconcile))
    config = EngineConfig(heartbeat_ttl=options.heartbeat_ttl, sweep_interval=options.sweep_interval,
                          max_backlog=options.max_backlog)
    engine = DeliveryEngine(db, lanes, clock, name=consumer_name(options), heartbeats=backends.heartbeats,
                            lease=backends.lease, jobs=jobs, config=config, wake=wake)
    if metrics is not None:
        metrics.watch_engine(engine)
    return engine
