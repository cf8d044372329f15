"""Logging for what strangers on the internet can trigger: counted and throttled.

`ThrottledLog` turns a flood of refused requests into one line a minute with counts, so a scanner
cannot fill the disk or drown the lines that matter. Secrets (Bale's webhook path holds one) are
scrubbed from every record by bot/log_privacy.py, which `run_bot` installs with this deployment's.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable


class ThrottledLog:
    """Counts events by reason and logs them at most once per `interval` seconds, with the counts.

    The first event is logged at once; those that follow within the interval are counted and logged
    with the next event after it, or by `flush()` (call it when the source stops).
    """

    def __init__(self, logger: logging.Logger, what: str, *, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, level: int = logging.WARNING) -> None:
        self._logger = logger
        self._what = what
        self._interval = interval
        self._clock = clock
        self._level = level
        self._counts: Counter[str] = Counter()
        self._since: float | None = None  # when the counting started
        self._last: float | None = None  # when a line was last written

    def note(self, reason: str) -> None:
        now = self._clock()
        if not self._counts:
            self._since = now
        self._counts[reason] += 1
        if self._last is None or now - self._last >= self._interval:
            self.flush()

    def tick(self) -> None:
        """Write what was counted if the interval has passed (cheap: call it on any request)."""
        if self._counts and self._last is not None and self._clock() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        if not self._counts:
            return
        now = self._clock()
        total = sum(self._counts.values())
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(self._counts.items()))
        seconds = now - (self._since if self._since is not None else now)
        self._logger.log(self._level, "%s: %d in the last %.0f s (%s)", self._what, total, seconds, reasons)
        self._counts.clear()
        self._last = now
