"""Flood limits through bot.dispatch (the path the shell and both runners share), real databases.

A chat over 20 events a minute gets one slow-down note, then nothing (taps still answered) until
the minute passes; an unbound chat reaches a human 3 times an hour. The clock is set, never slept.
"""

from __future__ import annotations

from sqlmodel import func, select

from bot.app import build_app
from bot.runtime import Runtime
from bot.settings import Settings
from handlers import texts
from handlers.callbacks import Action, encode
from services.privacy import Hasher
from storage.database import Database
from storage.models import Handoff
from storage.redis_window import RedisWindowCounter
from tests.factories import create_citizen
from tests.journey import Citizen, Clock, RecordingSender, make_app

NID, MOBILE = "0012345679", "09121234567"
STAFF_CHAT = -100500
HUMAN = "میخوام با کارشناس صحبت کنم"


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.html for m in response.messages)


async def _handoffs(db: Database) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(Handoff))).one())


async def test_a_flooding_chat_is_told_once_then_ignored_for_the_minute(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, STAFF_CHAT_ID=STAFF_CHAT)
    person = Citizen(app, RecordingSender(), user_id=601)
    for _ in range(10):  # texts, commands, taps: everything counts
        assert (await person.command("help")).messages
        assert (await person.taps(encode(Action.HELP))).tap_answer == ""
        clock.advance(seconds=1)
    assert len(person.inbox()) == 20

    note = await person.says("سلام")
    assert [m.html for m in note.messages] == [texts.SLOW_DOWN.format(seconds="۵۰")]
    assert person.inbox()[-1].html == note.messages[0].html  # sent, once

    ignored = await person.says("سلام؟")
    assert ignored.messages == [] and ignored.tap_answer is None
    tap = await person.taps(encode(Action.HELP))
    assert tap.messages == [] and tap.tap_answer == ""  # a tap is answered, with nothing
    await person.shares(MOBILE)
    assert len(person.inbox()) == 21

    clock.advance(seconds=50)  # the minute since the first message has passed
    assert texts.HELP in _text(await person.command("help"))
    # Another chat was never affected.
    other = Citizen(app, person.sender, user_id=602)
    assert (await other.command("help")).messages


async def test_a_tap_that_crosses_the_limit_gets_a_short_answer(db: Database, secret: bytes) -> None:
    app = make_app(db, secret, Clock())
    person = Citizen(app, RecordingSender(), user_id=603)
    for _ in range(20):
        await person.taps(encode(Action.HELP))
    crossing = await person.taps(encode(Action.HELP))
    assert crossing.tap_answer == texts.SLOW_DOWN_TAP
    assert "آهسته‌تر" in _text(crossing)


async def test_the_staff_chat_is_never_slowed_down(db: Database, secret: bytes) -> None:
    app = make_app(db, secret, Clock(), STAFF_CHAT_ID=STAFF_CHAT)
    staff = Citizen(app, RecordingSender(), user_id=42, chat_id=STAFF_CHAT)
    for _ in range(40):  # only the staff plugins act there: an unknown command's answer, never a slow-down
        assert _text(await staff.command("help")) == texts.UNKNOWN_COMMAND


async def test_before_login_a_human_is_reached_three_times_an_hour(db: Database, secret: bytes,
                                                                   intent_model: object) -> None:
    async with db.session() as session:
        await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE)
    clock = Clock()
    app = make_app(db, secret, clock, model=intent_model, STAFF_CHAT_ID=STAFF_CHAT)  # type: ignore[arg-type]
    person = Citizen(app, RecordingSender(), user_id=604, drains=True)
    for _ in range(3):
        assert _text(await person.says(HUMAN)) == texts.HUMAN_FORWARDED
        clock.advance(minutes=5)
    refused = await person.says(HUMAN)
    assert refused.others == []  # nothing for the staff chat: the handoffs below stay 3
    assert texts.HUMAN_LIMIT_UNBOUND.format(limit="۳", minutes="۴۵") == _text(refused)
    assert refused.messages[0].buttons[0][0].data == encode(Action.LOGIN)  # logging in lifts it
    assert await _handoffs(db) == 3
    assert len(person.sender.to(STAFF_CHAT)) == 3

    # Logged in, the citizen reaches a human without that limit.
    await person.says(NID)
    assert "هویت شما تأیید شد" in _text(await person.shares(MOBILE))
    for _ in range(2):
        assert texts.HUMAN_FORWARDED in _text(await person.says(HUMAN))
    assert await _handoffs(db) == 5

    # Another unbound chat, after the hour: reached again.
    stranger = Citizen(app, person.sender, user_id=605, drains=True)
    for _ in range(3):
        await stranger.says(HUMAN)
    assert texts.HUMAN_FORWARDED not in _text(await stranger.says(HUMAN))
    clock.advance(minutes=61)
    assert _text(await stranger.says(HUMAN)) == texts.HUMAN_FORWARDED


async def test_with_redis_two_processes_share_one_flood_count(sqlite_db: Database, secret: bytes,
                                                              redis_url: str) -> None:
    from redis.asyncio import Redis

    clock = Clock()
    clients = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    try:
        settings = Settings(_env_file=None, SECRET_KEY=secret.decode())  # type: ignore[call-arg]
        runtime = Runtime(settings=settings, database=sqlite_db, hasher=Hasher(secret))
        apps = [build_app(runtime, clock=clock, counter=RedisWindowCounter(client)) for client in clients]
        sender = RecordingSender()
        one, two = (Citizen(app, sender, user_id=606) for app in apps)
        for _ in range(10):
            assert (await one.command("help")).messages
            assert (await two.command("help")).messages
        assert [m.html for m in (await one.command("help")).messages][0].startswith("⏳")
        assert (await two.command("help")).messages == []
    finally:
        for client in clients:
            await client.aclose()
