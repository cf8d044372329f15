"""Timed duties with several workers at once: one reminder before deemed service, deemed service
recorded once, scheduled broadcasts started once, cancelled ones withdrawn."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.app import law_policy
from bot.runtime import Runtime
from services.broadcasts import BroadcastService, Segment
from services.delivery.duties import TimedDuties
from services.privacy import Hasher
from storage.database import Database
from storage.models import AuditEvent, ChatBinding, Citizen, Message, Notice
from tests.delivery_kit import SECRET, seed_subscribers, worker_settings
from tests.factories import create_case, create_ruling
from tests.journey import Clock


async def _notice_delivered(db: Database, clock: Clock, chats: list[int]) -> int:
    citizen_id = (await seed_subscribers(db, chats[:1]))[0]
    async with db.session() as session:
        citizen = await session.get(Citizen, citizen_id)
        assert citizen is not None
        for chat in chats[1:]:  # the same citizen on a second chat
            session.add(ChatBinding(citizen_id=citizen_id, platform="telegram", chat_id=chat, user_id=chat))
        case = await create_case(session, citizen)
        ruling = await create_ruling(session, case)
        notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
        notice.first_delivered_at = clock()
        session.add(notice)
        await session.flush()
        assert notice.id is not None
        return notice.id


def _duties(db: Database, clock: Clock, reminder_days: int = 2) -> TimedDuties:
    runtime = Runtime(worker_settings(db, REMINDER_DAYS_BEFORE_DEEMED=reminder_days), db, Hasher(SECRET))
    return TimedDuties(db, clock, law_policy(runtime), reminder_days_before=reminder_days)


async def test_reminder_and_deemed_service_happen_once_however_many_workers_run(db: Database) -> None:
    clock = Clock()
    notice_id = await _notice_delivered(db, clock, [70_001, 70_002])
    workers = [_duties(db, clock) for _ in range(3)]

    clock.advance(days=7)  # deemed after 10 days: too early to remind (2 days before)
    assert sum(s.reminders for s in await asyncio.gather(*(w.run_once() for w in workers))) == 0

    clock.advance(days=1, hours=20)  # deemed at the end of the tenth Tehran day; two days before it
    stats = await asyncio.gather(*(w.run_once() for w in workers), *(w.run_once() for w in workers))
    assert sum(s.reminders for s in stats) == 1
    assert sum(s.reminder_messages for s in stats) == 2  # one per bound chat
    async with db.session() as session:
        reminders = (await session.exec(select(Message).where(Message.kind == "reminder"))).all()
    assert sorted((r.kind, r.ref_id, r.chat_id) for r in reminders) == [
        ("reminder", notice_id, 70_001), ("reminder", notice_id, 70_002)]

    clock.advance(days=2)
    stats = await asyncio.gather(*(w.run_once() for w in workers), *(w.run_once() for w in workers))
    assert sum(s.deemed for s in stats) == 1 and sum(s.reminders for s in stats) == 0
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
        events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "notice_deemed_served"))).all()
    assert notice is not None and notice.deemed_recorded_at == clock() and notice.reminder_sent_at is not None
    assert len(events) == 1


async def test_an_opened_notice_gets_no_reminder_and_no_deemed_service(db: Database) -> None:
    clock = Clock()
    notice_id = await _notice_delivered(db, clock, [71_001])
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
        assert notice is not None
        notice.viewed_at = clock() + timedelta(hours=1)
        session.add(notice)
    clock.advance(days=20)
    stats = await _duties(db, clock).run_once()
    assert (stats.reminders, stats.deemed) == (0, 0)


async def test_a_scheduled_broadcast_starts_once_at_its_time_and_cancel_withdraws_the_rest(db: Database) -> None:
    clock = Clock()
    await seed_subscribers(db, list(range(72_001, 72_011)), district=3)
    await seed_subscribers(db, list(range(72_101, 72_106)), district=4)
    service = BroadcastService(db, clock)
    later = await service.create(text="فردا", segment=Segment.parse("district:3"), at=clock() + timedelta(hours=2),
                                 created_by="test")
    assert later.state == "scheduled" and later.recipients == 10
    workers = [_duties(db, clock) for _ in range(3)]
    assert sum(s.broadcasts_started for s in await asyncio.gather(*(w.run_once() for w in workers))) == 0
    clock.advance(hours=2)
    assert sum(s.broadcasts_started for s in await asyncio.gather(*(w.run_once() for w in workers))) == 1
    progress = await service.status(later.id)
    assert progress is not None and (progress.state, progress.recipients, progress.pending) == ("queued", 10, 10)

    assert await service.cancel(later.id, by="test") == 10
    assert await service.cancel(later.id, by="test") is None
    progress = await service.status(later.id)
    assert progress is not None
    assert (progress.state, progress.pending, progress.cancelled, progress.sent) == ("cancelled", 0, 10, 0)
