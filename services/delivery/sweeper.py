"""The sweeper: the database says what must be sent, the queues only carry it.

Each pass works from what changed, through indexes that hold only what is in motion:
- claims of workers whose heartbeat stopped go back to the queue, and the entries they held are dropped;
- new notices, and chats newly bound or reachable again, become messages (notices and chats not yet
  fanned out: a partial index);
- every queued, due row the lane's queue does not hold is queued (new broadcasts, retries whose time
  came, everything after Redis lost its data), up to a bounded backlog so a queue stays small however
  large the broadcast.

So an idle pass costs a few index lookups whether the database holds a thousand notices or millions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from services.clock import Clock
from services.delivery.lanes import Lane
from services.delivery.ports import Heartbeats
from storage import messages
from storage.database import Database
from storage.messages import Position

log = logging.getLogger(__name__)


@dataclass
class SweepStats:
    released: int = 0
    created: int = 0
    queued: int = 0
    stopped_workers: tuple[str, ...] = ()


class Sweeper:
    def __init__(self, db: Database, lanes: Sequence[Lane], heartbeats: Heartbeats, clock: Clock, *,
                 me: str, confirm: float = 1.5, max_backlog: int = 5000, page: int = 2000,
                 pages_per_pass: int = 5) -> None:
        self._db = db
        self._lanes = list(lanes)
        self._heartbeats = heartbeats
        self._clock = clock
        self._me = me
        self._max_backlog = max_backlog
        self._page = page
        self._pages_per_pass = pages_per_pass
        self._cursor: dict[str, Position | None] = {}
        # A worker whose beat is missing is taken as stopped only once it has stayed missing `confirm`
        # seconds (more than a beat's interval): after Redis lost its data, live workers beat again first.
        self._confirm = confirm
        self._missing_since: dict[str, float] = {}

    async def sweep(self) -> SweepStats:
        stats = SweepStats()
        await self._recover(stats)
        now = self._clock()
        async with self._db.session() as session:
            stats.created = await messages.fan_out(session, now)
        for lane in self._lanes:
            stats.queued += await self._queue_due(lane)
        return stats

    async def _recover(self, stats: SweepStats) -> None:
        """Release what stopped workers held: their rows go back to queued, their entries are dropped."""
        async with self._db.session() as session:
            holders = set(await messages.holders(session))
            unnamed = await messages.unnamed_claims(session)
        for lane in self._lanes:
            holders.update(await lane.queue.consumers())
        holders.discard(self._me)
        missing = await self._heartbeats.stopped(sorted(holders)) if holders else []
        now_m = time.monotonic()
        self._missing_since = {h: self._missing_since.get(h, now_m) for h in missing}
        stopped = [h for h, since in self._missing_since.items() if now_m - since >= self._confirm]
        if unnamed:
            stopped.append("")  # claims from before heartbeats: anyone's, once past the grace
        if not stopped:
            return
        before = self._clock() - timedelta(seconds=self._heartbeats.grace)
        async with self._db.session() as session:
            stats.released = await messages.release(session, stopped, before)
        if self._heartbeats.grace == 0:
            # Their entries can go now: the rows are queued again and this pass queues them anew.
            for lane in self._lanes:
                for holder in stopped:
                    if holder:
                        await lane.queue.forget(holder)
        stats.stopped_workers = tuple(h for h in stopped if h)
        if stats.released:
            log.info("released %d messages held by stopped workers %s", stats.released, ", ".join(stopped))

    async def _queue_due(self, lane: Lane) -> int:
        room = self._max_backlog - await lane.queue.backlog()
        # Go on from where the last pass stopped, so a large backlog is not read from the top each time;
        # at the end, the next pass starts over (a retry may have become due before the cursor).
        after = self._cursor.get(lane.key)
        queued = 0
        now = self._clock()
        for _ in range(self._pages_per_pass):
            if room <= 0:
                break
            async with self._db.session() as session:
                page = await messages.due_page(session, lane.name.value, lane.platform, now, after=after,
                                               limit=self._page)
            if not page:
                after = None
                break
            after = page[-1][1]
            missing = await lane.queue.missing(messages.refs_of([row_id for row_id, _at in page]))
            added = await lane.queue.push(missing[:room])
            queued += added
            room -= added
        self._cursor[lane.key] = after
        return queued
