"""`eblagh worker` wired: the delivery engine alone (bot/engine.py) over one messenger sender.

With REDIS_URL every worker of the bot, on any machine, shares the queues, the rate budget, the
duty leases and the heartbeats; without it the same engine runs in this process alone. SIGTERM (or
SIGINT) stops taking new work, finishes what is in flight, and returns.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import cast

from bot.engine import Backends, EngineOptions, build_engine, consumer_name, open_backends
from bot.metrics_server import serving_metrics
from bot.runtime import Runtime
from services.clock import Clock, sleep_or_stop, system_clock
from services.delivery.consumer import LaneMetrics
from services.messaging import MessageSender
from services.payments import TransactionInquirer
from services.process_metrics import ProcessMetrics

log = logging.getLogger(__name__)

WorkerOptions = EngineOptions  # the worker's options are the engine's


async def run_worker(runtime: Runtime, sender: MessageSender, stop: asyncio.Event, *,
                     options: EngineOptions | None = None, clock: Clock = system_clock,
                     backends: Backends | None = None, metrics_listen: str | None = None) -> LaneMetrics:
    """Deliver until `stop` is set; returns the metrics of this worker.

    `metrics_listen`: serve GET /metrics there meanwhile (bot/metrics_server.py); MetricsListenError
    before anything starts when it cannot.
    """
    async with serving_metrics(metrics_listen, runtime, clock) as metrics:
        return await _run_worker(runtime, sender, stop, options=options or EngineOptions(), clock=clock,
                                 backends=backends, metrics=metrics)


async def _run_worker(runtime: Runtime, sender: MessageSender, stop: asyncio.Event, *, options: EngineOptions,
                      clock: Clock, backends: Backends | None, metrics: ProcessMetrics) -> LaneMetrics:
    settings = runtime.settings
    name = consumer_name(options)
    backends = backends or open_backends(runtime, options)
    # A Bot API messenger also answers inquireTransaction: the payments duty runs here too (on Bale).
    inquirer = cast(TransactionInquirer, sender) if hasattr(sender, "inquire_transaction") else None
    engine = build_engine(runtime, sender, backends, options=EngineOptions(**{**vars(options), "name": name}),
                          clock=clock, inquirer=inquirer, metrics=metrics)
    progress = asyncio.create_task(_progress(engine.metrics, options.progress_interval, stop))
    log.info("worker %s started on %s (rate %.1f/s, chat %.2f/s, %s)", name, sender.platform,
             settings.delivery_rate, settings.delivery_chat_rate, "redis" if settings.redis_url else "in-process")
    try:
        await engine.run(stop)
    finally:
        stop.set()
        await asyncio.gather(progress, return_exceptions=True)
        await backends.close()
    log.info("worker %s stopped: %s", name, engine.metrics.as_dict())
    return engine.metrics


async def _progress(metrics: LaneMetrics, interval: float, stop: asyncio.Event) -> None:
    last, started = 0, time.monotonic()
    while not await sleep_or_stop(stop, interval):
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
