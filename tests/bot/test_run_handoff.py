"""`eblagh run` against the loopback Bot API: nothing a person sends to or from staff is lost, and nobody
is told it was sent when it was not. The server refuses texts over 4096 characters, like Telegram.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

# Imported here, not on the first run: on a busy machine aiogram's import alone outlasts a wait below.
from bot.messengers import aiogram_adapter, ptb_adapter  # noqa: F401
from handlers import texts
from storage.database import Database
from storage.models import Handoff
from tests.bot.run_kit import Person, running, settings_for, until
from tests.bot.test_run_contract import MOBILE, NID, log_in, seed
from tests.botapi import FakeBotAPI
from tests.botapi.records import ChatMessage
from tests.botapi.rules import TEXT_LIMIT, parse_html

CITIZEN, STAFF, STAFF_MEMBER = 1001, 5005, 5005
PART = "({part}/{parts})\n"

pytestmark = pytest.mark.parametrize("framework", ["aiogram", "ptb"])


class OrderedBotAPI(FakeBotAPI):
    """The fake Bot API, also remembering in which order messages reached any chat."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[tuple[int, int]] = []

    def _store(self, message: ChatMessage) -> ChatMessage:
        self.order.append((message.chat_id, message.message_id))
        return super()._store(message)

    def position(self, message: ChatMessage) -> int:
        return self.order.index((message.chat_id, message.message_id))


@pytest.fixture
async def api() -> AsyncIterator[OrderedBotAPI]:
    async with OrderedBotAPI() as server:
        yield server


def fa(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def joined(parts: list[ChatMessage]) -> str:
    """The parts' visible texts without their «(n/N)» markers, as the chat shows them."""
    shown = []
    for number, part in enumerate(parts, start=1):
        text = parse_html(part.html or "").text
        marker = PART.format(part=fa(number), parts=fa(len(parts)))
        assert text.startswith(marker), text[:20]
        shown.append(text[len(marker):])
    return "".join(shown)


async def parts_of(person: Person, first: str) -> list[ChatMessage]:
    """The message starting a split text (its first part contains `first`) and the parts after it."""
    head = await person.expect(first)
    total = int((head.text or "")[3])  # "(۱/N)": N is one Persian digit here
    await until(lambda: len(person.inbox) >= person.seen + total - 1, what="every part")
    start = person.inbox.index(head)
    person.seen = start + total
    return person.inbox[start:start + total]


async def handoffs(db: Database) -> list[Handoff]:
    async with db.session() as session:
        return list((await session.exec(select(Handoff))).all())


async def test_a_long_question_and_a_long_answer_arrive_whole_before_anyone_hears_so(
        api: OrderedBotAPI, sqlite_db: Database, secret: bytes, intent_model: object, framework: str) -> None:
    await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode="polling", STAFF_CHAT_ID=STAFF)
    person, staff = Person(api, CITIZEN), Person(api, STAFF)
    question = "می‌خواهم با کارشناس صحبت کنم. " + "مساحت بنای من در رأی اشتباه حساب شده است و جریمه زیاد است. " * 75
    assert 4400 < len(question) < 4900
    async with running(settings, sqlite_db, secret, model=intent_model):
        await log_in(person, NID, MOBILE)
        api.send_text(CITIZEN, question)
        forwarded = await person.expect(texts.HUMAN_FORWARDED[:30])
        parts = await parts_of(staff, "(۱/")
        # Whole, numbered, within the limit, and the citizen heard "forwarded" only after the last part.
        assert len(parts) == 2 and all(len(p.text or "") <= TEXT_LIMIT for p in parts)
        assert question.strip() in joined(parts)
        assert "۰۰۱****۶۷۹" in joined(parts) and NID not in joined(parts)
        assert api.position(forwarded) > max(api.position(p) for p in parts)

        # A long answer, as a reply to the question's second part, reaches the citizen whole.
        answer = "سلام. " + "پرونده شما در جلسه بعدی کمیسیون دوباره بررسی می‌شود. " * 90
        api.send_text(STAFF_MEMBER, answer + "\x00\x07", reply_to_message_id=parts[1].message_id)
        sent = await staff.expect(texts.STAFF_REPLY_SENT.format(handoff_id="۱")[:25])
        received = await parts_of(person, "پاسخ کارشناس")
        assert len(received) == 2 and answer.strip() in joined(received)
        assert "\x00" not in joined(received) and "\x07" not in joined(received)
        assert api.position(sent) > max(api.position(p) for p in received)

        # The citizen blocks the bot: staff hear why the next answer did not arrive.
        api.block(CITIZEN)
        api.send_text(STAFF_MEMBER, "پاسخ دوم", reply_to_message_id=parts[0].message_id)
        await staff.expect(texts.STAFF_REPLY_UNDELIVERED["blocked"][:30])
    [handoff] = await handoffs(sqlite_db)
    assert handoff.forward_status == "forwarded" and handoff.question == question.strip()
    assert {r.status for r in api.refused} == {403}


@pytest.mark.parametrize("staff_chat", ["unknown", "blocked"])
async def test_an_unreachable_staff_chat_is_told_to_the_citizen_and_the_question_kept(
        api: OrderedBotAPI, sqlite_db: Database, secret: bytes, intent_model: object, framework: str,
        staff_chat: str) -> None:
    await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode="polling", STAFF_CHAT_ID=STAFF)
    person = Person(api, CITIZEN)
    if staff_chat == "blocked":
        api.block(STAFF)  # else the chat is unknown to the server: "chat not found"
    async with running(settings, sqlite_db, secret, model=intent_model):
        await log_in(person, NID, MOBILE)
        api.send_text(CITIZEN, "می‌خواهم با کارشناس صحبت کنم، جریمه‌ام زیاد است")
        await person.expect(texts.HUMAN_NOT_FORWARDED[:30])
    assert not any(texts.HUMAN_FORWARDED[:30] in (m.text or "") for m in person.inbox)
    assert api.messages(STAFF) == []
    [handoff] = await handoffs(sqlite_db)
    assert handoff.forward_status == "failed" and handoff.staff_message_id is None
    assert handoff.forward_error == ("blocked" if staff_chat == "blocked" else "gone")
    assert "جریمه‌ام زیاد است" in handoff.question
