"""Seconds from an update's acceptance to its replies sent, for the reply latency histogram.

The pipeline starts the timer when it queues an update and stops it when the update's replies are
out. An update accepted here but handled by another process (a shared Redis queue) is never stopped
here: the oldest starts are dropped beyond `limit`, so that costs no memory over time.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ReplyTimer:
    def __init__(self, observe: Callable[[float], None] | None = None, *, limit: int = 10_000) -> None:
        self.observe = observe  # set by whoever serves the metrics; None: nothing is timed
        self._limit = limit
        self._started: dict[int, float] = {}

    def start(self, update_id: int) -> None:
        if self.observe is None:
            return
        self._started[update_id] = time.monotonic()
        if len(self._started) > self._limit:
            del self._started[next(iter(self._started))]

    def stop(self, update_id: int) -> None:
        started = self._started.pop(update_id, None)
        if started is not None and self.observe is not None:
            self.observe(time.monotonic() - started)
