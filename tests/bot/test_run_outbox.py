"""`eblagh run` (with no `eblagh worker`) sends every engine message: a dashboard answer reaches the
citizen's chat, marked sent only once the Bot API accepted it, and a broadcast's copies go out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.messengers import aiogram_adapter  # noqa: F401  (imported before the waits below)
from handlers import texts
from handlers.outbox_cards import staff_reply_card
from services.broadcasts import BroadcastService, Segment
from services.privacy import Hasher
from services.staff_accounts import Role, StaffMember
from services.staff_inbox import StaffInbox
from storage.database import Database
from storage.staff_models import StaffAccount
from tests.bot.run_kit import Person, running, settings_for
from tests.botapi import FakeBotAPI
from tests.web.staff.kit import MovableClock, seed_world


async def test_a_dashboard_answer_and_a_broadcast_are_sent_by_eblagh_run(
        sqlite_db: Database, secret: bytes, botapi: FakeBotAPI) -> None:
    citizen = Person(botapi, 6161)
    world = await seed_world(sqlite_db, Hasher(secret), MovableClock(datetime.now(UTC)), chat_id=citizen.user_id)
    inbox = StaffInbox(sqlite_db, lambda: datetime.now(UTC), staff_reply_card)
    staff = StaffMember(1, "ali", Role.OPERATOR, False)
    async with sqlite_db.session() as session:  # the account the reply names
        session.add(StaffAccount(id=1, username="ali", role="operator", password_hash="-", totp_secret="A" * 32))
    queued = await inbox.send_staff_reply(world.handoff_id, "پاسخ <کارشناس> & تمام", staff)
    broadcast = await BroadcastService(sqlite_db, lambda: datetime.now(UTC)).create(
        text="اطلاعیه منطقه ۷", segment=Segment.parse("district:7"), at=None, created_by="staff:ali")
    assert broadcast.recipients == 1
    async with running(settings_for(botapi, secret, framework="aiogram", mode="polling"), sqlite_db, secret):
        answer = await citizen.expect("پاسخ <کارشناس> & تمام")
        assert texts.STAFF_REPLY_TO_CITIZEN.split("\n")[0].replace("<b>", "").replace("</b>", "") in (answer.text or "")
        await citizen.expect("اطلاعیه منطقه ۷")

        for _ in range(400):  # recorded right after the Bot API accepted it
            if (await inbox.replies())[0].status == "sent":
                break
            await asyncio.sleep(0.02)
    replies = await inbox.replies()
    assert [(r.reply.id, r.status) for r in replies] == [(queued.reply_id, "sent")]
