"""The sweeper: the database says what must be sent, the queue only carries it.

Each pass releases claims of senders that died mid-send, turns new notices into delivery rows, and
queues every queued, due row the queue does not hold (new broadcasts, retries whose time came,
everything after Redis lost its data), up to a bounded backlog so the queue stays small however
large the broadcast. Notices go first: they carry legal deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from services.clock import Clock
from services.delivery_ports import WorkQueue
from storage import deliveries, outbox
from storage.database import Database
from storage.outbox import Lane


@dataclass
class SweepStats:
    released: int = 0
    created: int = 0
    queued: int = 0


class Sweeper:
    def __init__(self, db: Database, queue: WorkQueue, clock: Clock, *, platform: str,
                 claim_timeout: float = 60.0, max_backlog: int = 5000, page: int = 2000,
                 pages_per_pass: int = 5) -> None:
        self._db = db
        self._queue = queue
        self._clock = clock
        self._platform = platform
        self._claim_timeout = timedelta(seconds=claim_timeout)
        self._max_backlog = max_backlog
        self._page = page
        self._pages_per_pass = pages_per_pass
        self._cursor: dict[Lane, int] = {}

    async def sweep(self) -> SweepStats:
        stats = SweepStats()
        now = self._clock()
        async with self._db.session() as session:
            for lane in Lane:
                stats.released += await outbox.release_stale(session, lane, now - self._claim_timeout)
            stats.created = await deliveries.enqueue_due(session, now)
        room = self._max_backlog - await self._queue.backlog()
        for lane in (Lane.NOTICE, Lane.OUTBOX):
            # Go on from where the last pass stopped, so a large queue is not read from the top each time;
            # at the end, the next pass starts over (rows queued again for a retry have low ids).
            after = self._cursor.get(lane, 0)
            for _ in range(self._pages_per_pass):
                if room <= 0:
                    break
                async with self._db.session() as session:
                    ids = await outbox.due_ids(session, lane, self._platform, now, after_id=after, limit=self._page)
                if not ids:
                    after = 0
                    break
                after = ids[-1]
                missing = await self._queue.missing(outbox.refs_of(lane, ids))
                added = await self._queue.push(missing[:room])
                stats.queued += added
                room -= added
            self._cursor[lane] = after
        return stats
