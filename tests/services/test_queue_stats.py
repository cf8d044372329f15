"""Queue depth by lane, as the metrics read it: queued, due, in flight and the oldest queued row, on both
databases; one read for a storm of scrapes; a database that is away costs a warning, not the scrape."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from services.queue_stats import LaneDepth, QueueStats
from storage import messages
from storage.database import Database
from storage.models import LaneName, MessageKind

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


async def _queue(db: Database, chat_id: int, *, ago: timedelta, lane: LaneName = LaneName.MESSENGER,
                 platform: str = "telegram") -> int:
    async with db.session() as session:
        made = await messages.queue(session, kind=MessageKind.NOTE, ref_id=chat_id, platform=platform, chat_id=chat_id,
                                    body="متن", now=NOW - ago, lane=lane)
    assert made is not None
    return made


async def test_depth_due_in_flight_and_oldest_by_lane(db: Database) -> None:
    # Rows are queued in time order, as they are for real (the oldest is found by its id).
    flying = await _queue(db, 3, ago=timedelta(hours=2))  # in flight: not queued
    later = await _queue(db, 2, ago=timedelta(hours=1))  # the oldest queued, waiting for its retry
    await _queue(db, 1, ago=timedelta(minutes=10))  # due
    await _queue(db, 4, ago=timedelta(minutes=1), lane=LaneName.CALLBACK, platform="http")
    async with db.session() as session:
        await messages.mark_retry(session, later, "503", NOW + timedelta(minutes=5))
        assert [c.id for c in await messages.claim(session, [flying], NOW, "worker-1")] == [flying]

    stats = QueueStats(db, lambda: NOW, lanes=[("messenger", "bale")])
    await stats.refresh()
    assert stats.ok
    assert stats.depths == [
        LaneDepth("callback", "http", queued=1, due=1, sending=0, oldest_queued_at=NOW - timedelta(minutes=1)),
        LaneDepth("messenger", "bale"),  # expected, empty: reported at 0
        LaneDepth("messenger", "telegram", queued=2, due=1, sending=1, oldest_queued_at=NOW - timedelta(hours=1)),
    ]


async def test_a_storm_of_scrapes_reads_once_within_the_ttl(db: Database) -> None:
    await _queue(db, 1, ago=timedelta(minutes=1))
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "GROUP BY messages.lane" in statement:  # the queue's reads, two a refresh
            statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    stats = QueueStats(db, lambda: NOW, ttl=60)
    await asyncio.gather(*(stats.refresh() for _ in range(20)))
    reads = len(statements)
    assert reads == 2  # one refresh read the database
    await _queue(db, 2, ago=timedelta(minutes=1))
    await stats.refresh()
    assert len(statements) == reads and stats.depths[0].queued == 1  # still the cached read

    fresh = QueueStats(db, lambda: NOW, ttl=0)
    await fresh.refresh()
    assert fresh.depths[0].queued == 2


async def test_a_database_away_drops_the_figures_and_counts_the_failure() -> None:
    gone = Database("postgresql://postgres@127.0.0.1:1/nowhere")
    try:
        stats = QueueStats(gone, lambda: NOW, ttl=0, lanes=[("messenger", "telegram")])
        await stats.refresh()
        assert (stats.ok, stats.depths, stats.failures) == (False, [], 1)
    finally:
        await gone.close()
