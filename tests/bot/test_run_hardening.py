"""`eblagh run` against the loopback Bot API: lock-out and flood limits end to end.

- Strangers failing on the owner's national ID from several chats lock only their own chats; the
  owner then logs in at once, and staff find one audit event naming the ID masked.
- A chat writing more than 20 times a minute gets one slow-down note, and its taps are still
  answered while it is ignored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from handlers import texts
from handlers.callbacks import Action, encode
from services.auth import ID_TARGETED
from storage.database import Database
from storage.models import AuditEvent, ChatBinding
from tests.bot.run_kit import Person, running, settings_for
from tests.bot.test_run_contract import CITIZEN, MOBILE, NID, seed
from tests.botapi import FakeBotAPI

STRANGERS = (5001, 5002, 5003)

pytestmark = pytest.mark.parametrize(
    ("framework", "mode"), [(f, m) for f in ("aiogram", "ptb") for m in ("polling", "webhook")])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


async def test_strangers_cannot_lock_the_owner_out(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                   framework: str, mode: str) -> None:
    await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode=mode, AUTH_MAX_FAILURES_PER_CHAT=2)
    async with running(settings, sqlite_db, secret):
        for user_id in STRANGERS:
            stranger = Person(api, user_id)
            for phone in ("09350000001", "09350000002"):
                api.send_text(user_id, NID)
                await stranger.expect("شماره همراه", timeout=30)
                api.share_contact(user_id, phone)
                await stranger.expect(texts.CONTACT_MISMATCH[:30])
            api.send_text(user_id, NID)
            await stranger.expect("تلاش‌های ناموفق")  # the stranger's own chat is locked

        owner = Person(api, CITIZEN)
        api.send_text(CITIZEN, NID)
        await owner.expect("شماره همراه")
        api.share_contact(CITIZEN, MOBILE)
        await owner.expect("هویت شما تأیید شد")
    async with sqlite_db.session() as session:
        binding = (await session.exec(select(ChatBinding))).one()
        alerts = (await session.exec(select(AuditEvent).where(AuditEvent.action == ID_TARGETED))).all()
    assert binding.chat_id == CITIZEN
    assert [a.subject for a in alerts] == ["001****679"]
    assert NID not in alerts[0].detail
    api.assert_nothing_refused()


async def test_a_flooding_chat_gets_one_note_and_its_taps_are_answered(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, framework: str, mode: str) -> None:
    settings = settings_for(api, secret, framework=framework, mode=mode)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        api.send_command(CITIZEN, "/help")
        first = await person.expect("دستیار ابلاغ", timeout=30)
        for _ in range(20):
            api.send_command(CITIZEN, "/help")
        note = await person.expect("آهسته‌تر")
        answer = await person.tap(first, encode(Action.HELP), check=False)
        assert answer == ""  # ignored, but answered (it was handled after every /help: one chat, in order)
    texts_seen = [m.text or "" for m in person.inbox]
    assert sum("آهسته‌تر" in t for t in texts_seen) == 1
    assert len(texts_seen) == 21 and texts_seen[-1] == note.text  # 20 answers, then only the note
    assert api.unanswered_callbacks == []
