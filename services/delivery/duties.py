"""Timed duties: start scheduled broadcasts, remind once before deemed service, record deemed
service, close finished broadcasts.

Every step is a conditional UPDATE in the database, so however many workers run the duties, each
happens once; a lease (taken by the caller) only keeps the others from doing the same reads.
The reminder is an outbox message like any other: rate-limited, recorded, retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from services.broadcasts import Segment
from services.clock import Clock
from services.law.policy import LawPolicy
from services.law.service_dates import ServiceRule, deemed_service_at
from storage import audit, broadcasts, duties
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class DutyStats:
    broadcasts_started: int = 0
    reminders: int = 0
    reminder_messages: int = 0
    deemed: int = 0
    broadcasts_done: int = 0


class TimedDuties:
    def __init__(self, db: Database, clock: Clock, law: LawPolicy, *, reminder_days_before: int) -> None:
        self._db = db
        self._clock = clock
        self._law = law
        self._reminder_days = reminder_days_before

    async def run_once(self) -> DutyStats:
        stats = DutyStats()
        now = self._clock()
        async with self._db.session() as session:
            for broadcast in await broadcasts.due_scheduled(session, now):
                assert broadcast.id is not None
                segment = Segment.parse(broadcast.segment)
                count = await broadcasts.start(session, broadcast.id, segment.kind, segment.value, now)
                if count is not None:
                    stats.broadcasts_started += 1
                    log.info("broadcast %d started: %d recipients", broadcast.id, count)
        if self._law.rule is ServiceRule.VIEW_OR_DEEMED:
            await self._deemed(stats)
            if self._reminder_days > 0:
                await self._reminders(stats)
        async with self._db.session() as session:
            stats.broadcasts_done = await broadcasts.finish_completed(session, self._clock())
        return stats

    async def _deemed(self, stats: DutyStats) -> None:
        now = self._clock()
        # A day of slack in the query; the law's own reckoning (Tehran days) decides per notice.
        cutoff = now - timedelta(days=self._law.deemed_days - 1)
        async with self._db.session() as session:
            candidates = await duties.unviewed_delivered_before(session, cutoff, unreminded=False)
        for notice_id, delivered_at in candidates:
            if deemed_service_at(delivered_at, self._law.deemed_days) > now:
                continue
            async with self._db.session() as session:
                if await duties.record_deemed(session, notice_id, now):
                    audit.record_event(session, actor="worker", action="notice_deemed_served",
                                       subject=str(notice_id), at=now)
                    stats.deemed += 1

    async def _reminders(self, stats: DutyStats) -> None:
        now = self._clock()
        lead = timedelta(days=self._reminder_days)
        cutoff = now - timedelta(days=self._law.deemed_days - 1) + lead
        async with self._db.session() as session:
            candidates = await duties.unviewed_delivered_before(session, cutoff, unreminded=True)
        for notice_id, delivered_at in candidates:
            deemed_at = deemed_service_at(delivered_at, self._law.deemed_days)
            if not deemed_at - lead <= now < deemed_at:
                continue
            async with self._db.session() as session:
                if await duties.take_reminder(session, notice_id, now):
                    stats.reminders += 1
                    stats.reminder_messages += await duties.queue_reminder(session, notice_id, now)
