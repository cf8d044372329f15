"""Two `eblagh run` processes behind one webhook share the database and Redis: when one of them logs a
chat out or binds it to another citizen, the other answers for the new binding at once. No answer shows
the previous citizen's cases, and no tap records a receipt for them (issue 12: nothing about the chat's
citizen is cached between updates; each update reads the binding fresh, once, on its one connection).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import pytest
from redis.asyncio import Redis
from sqlalchemy import event
from sqlmodel import select

from bot.app import App
from handlers import texts
from handlers.callbacks import Action, encode
from services.conversation.state import ChatState
from services.privacy import Hasher
from storage.database import Database
from storage.models import Notice, Receipt
from storage.redis_state import RedisStateStore
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, make_app

X = ("0012345679", "09121234567", "1403051234")
Y = ("0084575948", "09127654321", "1403077777")
CHAT = 700


async def _seed(db: Database, secret: bytes, who: tuple[str, str, str]) -> int:
    national_id, mobile, case_number = who
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id=national_id, mobile=mobile)
        case = await create_case(session, citizen, case_number=case_number)
        ruling = await create_ruling(session, case, ruling_id=f"R-{case_number}")
        notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
        assert notice.id is not None
        return notice.id


async def _receipts(db: Database, notice_id: int) -> int:
    async with db.session() as session:
        return len((await session.exec(select(Receipt).where(Receipt.notice_id == notice_id))).all())


@pytest.fixture
async def two_processes(db: Database, secret: bytes, redis_url: str,
                        intent_model: object) -> AsyncIterator[tuple[App, App]]:
    """Two apps with their own memory, one database and one Redis: two processes as `eblagh run` wires them."""
    clients = [Redis.from_url(redis_url), Redis.from_url(redis_url)]
    apps = tuple(make_app(db, secret, Clock(), model=intent_model,  # type: ignore[arg-type]
                          state=RedisStateStore[ChatState](client, decode=ChatState.from_mapping,
                                                           encode=ChatState.to_mapping))
                 for client in clients)
    yield apps[0], apps[1]
    for client in clients:
        await client.aclose()


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.html for m in response.messages)


async def _login(person: Citizen, who: tuple[str, str, str]) -> None:
    await person.command("start")
    await person.says(who[0])
    assert "هویت شما تأیید شد" in _text(await person.shares(who[1]))


async def test_a_logout_or_a_new_binding_elsewhere_is_seen_at_once(db: Database, secret: bytes,
                                                                  two_processes: tuple[App, App]) -> None:
    x_notice = await _seed(db, secret, X)
    y_notice = await _seed(db, secret, Y)
    first, second = two_processes
    at_first = Citizen(first, RecordingSender(), user_id=CHAT)
    at_second = Citizen(second, RecordingSender(), user_id=CHAT)
    await _login(at_first, X)
    assert "۱۴۰۳۰۵۱۲۳۴" in _text(await at_first.says("پروندم به کجا رسید"))

    # Logged out through the other process: this one shows nothing of X and records nothing.
    assert _text(await at_second.command("logout")) == texts.LOGGED_OUT
    assert "۱۴۰۳۰۵۱۲۳۴" not in _text(await at_first.says("پروندم به کجا رسید"))
    refused = await at_first.taps(encode(Action.OPEN_NOTICE, x_notice))
    assert refused.tap_answer == texts.NEED_LOGIN
    assert await _receipts(db, x_notice) == 0

    # Bound to Y through the other process: this one answers for Y, and X's notice is not Y's to open.
    await _login(at_second, Y)
    answer = _text(await at_first.says("پروندم به کجا رسید"))
    assert "۱۴۰۳۰۷۷۷۷۷" in answer and "۱۴۰۳۰۵۱۲۳۴" not in answer
    assert (await at_first.taps(encode(Action.OPEN_NOTICE, x_notice))).tap_answer == texts.NOTICE_NOT_YOURS
    assert await _receipts(db, x_notice) == 0
    await at_first.taps(encode(Action.OPEN_NOTICE, y_notice))
    assert await _receipts(db, y_notice) == 1


@contextmanager
def binding_reads(db: Database) -> Iterator[list[str]]:
    """The statements that read chat_bindings meanwhile."""
    seen: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT") and "FROM chat_bindings" in statement:
            seen.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", note)


async def test_each_update_reads_the_binding_once(db: Database, secret: bytes,
                                                  two_processes: tuple[App, App]) -> None:
    await _seed(db, secret, X)
    first, second = two_processes
    at_first = Citizen(first, RecordingSender(), user_id=CHAT)
    await _login(at_first, X)
    for question in ("پروندم به کجا رسید", "جریمه من چقدره؟"):
        with binding_reads(db) as reads:
            assert "۱۴۰۳۰۵۱۲۳۴" in _text(await at_first.says(question))
        assert len(reads) == 1  # once (reachability and the citizen in one read), and never skipped
    await Citizen(second, RecordingSender(), user_id=CHAT).command("logout")
    with binding_reads(db) as reads:
        assert "۱۴۰۳۰۵۱۲۳۴" not in _text(await at_first.says("پروندم به کجا رسید"))
    assert len(reads) == 1
