"""Queue depth and oldest queued age by lane, read from the database for the metrics at scrape time.

A read is kept for `ttl` seconds and concurrent scrapes share one read, so a storm of scrapes costs
one query every few seconds. When the database cannot be read, the figures are dropped (no stale
numbers that look healthy) until the next read succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from services.clock import Clock
from storage.database import Database
from storage.queue_depth import LaneDepth, lane_depths

__all__ = ["LaneDepth", "QueueStats"]

log = logging.getLogger(__name__)


class QueueStats:
    def __init__(self, db: Database, clock: Clock, *, ttl: float = 5.0,
                 lanes: Iterable[tuple[str, str]] = ()) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl
        self._lock = asyncio.Lock()
        self._read_at: float | None = None  # monotonic
        # Lanes reported even when empty (a gauge at 0, not a series that vanishes).
        self._known: set[tuple[str, str]] = set(lanes)
        self.depths: list[LaneDepth] = []
        self.ok = True  # the last read succeeded
        self.failures = 0

    def expect(self, lane: str, platform: str) -> None:
        """Report this lane (at 0 when empty) from the next read on."""
        self._known.add((lane, platform))

    async def refresh(self) -> None:
        """Read again if the last read is older than `ttl`."""
        if self._fresh():
            return
        async with self._lock:
            if self._fresh():  # another scrape read while this one waited
                return
            try:
                async with self._db.session() as session:
                    found = await lane_depths(session, self._clock())
            except Exception as error:
                self.failures += 1
                self.ok, self.depths = False, []
                log.warning("queue depth not read (%s: %s)", type(error).__name__, str(error)[:160])
            else:
                self._known.update((d.lane, d.platform) for d in found)
                present = {(d.lane, d.platform) for d in found}
                self.ok = True
                self.depths = sorted([*found, *(LaneDepth(lane, platform) for lane, platform in self._known
                                                if (lane, platform) not in present)],
                                     key=lambda d: (d.lane, d.platform))
            self._read_at = time.monotonic()

    def _fresh(self) -> bool:
        return self._read_at is not None and time.monotonic() - self._read_at < self._ttl
