"""The callback lane wired for `eblagh worker` and `eblagh run` (services/callbacks.py).

Until the lane is folded into the one delivery engine, both run `run_callbacks` beside their delivery
loop: claims are conditional UPDATEs, so any number of processes share the lane safely.
"""

from __future__ import annotations

import asyncio

from bot.runtime import Runtime
from services.callbacks import CallbackRunner, CallbackSender, RetrySchedule
from services.clock import Clock, system_clock
from services.metrics import Metrics


async def run_callbacks(runtime: Runtime, stop: asyncio.Event, *, clock: Clock = system_clock,
                        interval: float = 1.0, schedule: RetrySchedule | None = None,
                        metrics: Metrics | None = None) -> None:
    runner = CallbackRunner(runtime.database, CallbackSender(), clock, schedule=schedule, metrics=metrics)
    try:
        await runner.run_forever(stop, interval)
    finally:
        await runner.close()
