"""Time comes from a clock that is passed in, so the law's deadlines can be tested at any date."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


async def sleep_or_stop(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> bool:
    """Wait `seconds`, or less when `stop` (or `wake`) is set first; True when it was stopped.

    The one way every loop of eblagh waits between passes, so that a stop is never held up by a sleep.
    """
    if stop.is_set():
        return True
    waiters = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        if wake.is_set():
            wake.clear()
            waiters[0].cancel()
            return False
        waiters.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waiters, timeout=max(seconds, 0.001), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    if wake is not None:
        wake.clear()
    return stop.is_set()
