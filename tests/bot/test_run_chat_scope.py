"""`eblagh run` against the loopback Bot API, with its control side playing two people in one group.

(a) logging in inside a group shows nothing and takes no step; (b) a notice card forwarded into a
group: neither another member's tap nor the citizen's own records anything; (c) staff commands work
only in STAFF_CHAT_ID, for users on STAFF_USER_IDS.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from handlers import staff_texts, texts
from handlers.callbacks import Action
from handlers.outbox_cards import segment_label
from services.broadcasts import Segment
from storage.database import Database
from storage.models import AuthAttempt, ChatBinding, HandledUpdate, Notice, Receipt
from tests.bot.run_kit import Person, plain, running, settings_for, until
from tests.bot.test_run_contract import CITIZEN, MOBILE, NID, OTHER, count, log_in, seed
from tests.botapi import FakeBotAPI

GROUP, STAFF_GROUP, STAFF = -100_2001, -100_3001, 9001

pytestmark = pytest.mark.parametrize("framework", ["aiogram", "ptb"])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        server.add_group(GROUP, title="گروه ساکنان ساختمان", kind="supergroup", members=[CITIZEN, OTHER])
        server.add_group(STAFF_GROUP, title="کارشناسان کمیسیون", kind="group", members=[STAFF, OTHER])
        yield server


async def handled(db: Database, *updates: dict[str, Any]) -> None:
    """Wait until the bot has handled these updates (their marks are in the database)."""
    wanted = {u["update_id"] for u in updates}
    for _ in range(1500):
        async with db.session() as session:
            found = await session.exec(select(HandledUpdate.update_id).where(
                col(HandledUpdate.update_id).in_(wanted)))
            if set(found.all()) == wanted:
                return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"updates {sorted(wanted)} not handled")


async def answer_of(api: FakeBotAPI, query_id: str) -> str:
    query = await until(lambda: api.callbacks[query_id] if api.callbacks[query_id].answered else None,
                        what="answer to the tap")
    return str(query.answer_text or "")


def group_texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [m.text or "" for m in api.messages(chat_id)]


async def test_logging_in_inside_a_group_shows_nothing(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                       intent_model: object, framework: str) -> None:
    await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode="polling")
    async with running(settings, sqlite_db, secret, model=intent_model):
        first = api.group_send_command(GROUP, CITIZEN, "/start")
        # A generous first wait: the runner starts (and loads the intent model) on a busy machine.
        await until(lambda: api.messages(GROUP), what="the group note", timeout=30)
        rest = [api.group_send_text(GROUP, CITIZEN, NID), api.group_share_contact(GROUP, CITIZEN, MOBILE),
                api.group_send_command(GROUP, OTHER, f"/start {NID}"), api.group_send_text(GROUP, OTHER, "جریمه من چقدره؟"),
                api.group_send_command(GROUP, CITIZEN, "/notices")]
        await handled(sqlite_db, first, *rest)
    # One short note pointing to a private chat, and nothing else: no national-ID step, no contact step.
    assert group_texts(api, GROUP) == [plain(texts.GROUP_PRIVATE_ONLY)]
    assert not any(m.requests_contact for m in api.messages(GROUP))
    assert await count(sqlite_db, ChatBinding) == 0 and await count(sqlite_db, AuthAttempt) == 0
    assert api.messages(CITIZEN) == [] and api.messages(OTHER) == []
    api.assert_nothing_refused()


async def test_a_notice_tapped_in_a_group_records_nothing(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                          framework: str) -> None:
    ids = await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode="polling")
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        await log_in(person, NID, MOBILE)  # bound in the private chat
        card = await person.expect("۱۴۰۳")
        open_data = person.button(card, Action.OPEN_NOTICE)
        forwarded = api.forward_to_group(CITIZEN, CITIZEN, card.message_id, GROUP)
        # Another member taps the forwarded card; then the citizen themself, still in the group.
        for user_id in (OTHER, CITIZEN):
            query = api.group_tap(GROUP, user_id, forwarded.message_id, open_data)
            assert await answer_of(api, query) == texts.NOTICE_PRIVATE_ONLY
        # A forged tap on another notice id in the group is answered just the same.
        forged = api.group_tap(GROUP, OTHER, forwarded.message_id, f"o:{ids['other']}", check=False)
        assert await answer_of(api, forged) == texts.NOTICE_PRIVATE_ONLY
        assert await count(sqlite_db, Receipt) == 0
        async with sqlite_db.session() as session:
            notice = await session.get(Notice, ids["citizen"])
            assert notice is not None and notice.viewed_at is None
        assert not any("متن کامل رأی" in text for text in group_texts(api, GROUP))
        # The same button in the citizen's private chat is service.
        assert await person.tap(card, open_data) == texts.TAP_SERVICE_RECORDED
        assert await count(sqlite_db, Receipt) == 1
    assert api.unanswered_callbacks == []
    api.assert_nothing_refused()


async def test_staff_commands_only_in_the_staff_chat(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                     framework: str) -> None:
    await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode="polling",
                            STAFF_CHAT_ID=STAFF_GROUP, STAFF_USER_IDS=str(STAFF))
    staff_private = Person(api, STAFF)
    async with running(settings, sqlite_db, secret):
        # Outside the staff chat, staff commands are the ordinary unknown command.
        api.send_command(STAFF, "/broadcast")
        await staff_private.expect(plain(texts.UNKNOWN_COMMAND)[:25])
        api.send_command(STAFF, "/broadcast_status 1")
        await staff_private.expect(plain(texts.UNKNOWN_COMMAND)[:25])
        # In the staff chat, a member not on STAFF_USER_IDS is refused the same way.
        api.group_send_command(STAFF_GROUP, OTHER, "/broadcast")
        await until(lambda: len(api.messages(STAFF_GROUP)) == 1, what="refusal in the staff chat")
        assert group_texts(api, STAFF_GROUP)[0] == plain(texts.UNKNOWN_COMMAND)
        # An allow-listed staff member gets the broadcast flow.
        api.group_send_command(STAFF_GROUP, STAFF, "/broadcast")
        await until(lambda: len(api.messages(STAFF_GROUP)) == 2, what="the broadcast prompt")
        assert group_texts(api, STAFF_GROUP)[1] == plain(staff_texts.BROADCAST_ASK_TEXT.format(
            segment=segment_label(Segment.parse("all"))))
        api.group_send_command(STAFF_GROUP, STAFF, "/broadcast_status 99")
        await until(lambda: len(api.messages(STAFF_GROUP)) == 3, what="the status answer")
        assert group_texts(api, STAFF_GROUP)[2] == plain(staff_texts.BROADCAST_NOT_FOUND)
        # Citizen features are not there either, and the staff chat gets no group note.
        update = api.group_send_text(STAFF_GROUP, OTHER, NID)
        await handled(sqlite_db, update)
        assert len(api.messages(STAFF_GROUP)) == 3
    assert await count(sqlite_db, ChatBinding) == 0
    api.assert_nothing_refused()

