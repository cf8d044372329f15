"""`eblagh run` as a webhook: the secret (header on Telegram, URL path on Bale), and several processes
behind one URL sharing Redis without ever handling one chat's updates at once or out of order."""

from __future__ import annotations

import itertools
import logging
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from aiohttp import ClientSession, web
from sqlmodel import select

from bot.log_guard import ThrottledLog
from bot.log_privacy import PrivacyFilter
from bot.webhook import webhook_secret
from handlers import texts
from storage.database import Database
from storage.models import ChatBinding
from tests.bot.run_kit import WEBHOOK_SECRET, Echo, Person, free_port, running, settings_for, until
from tests.bot.test_run_contract import MOBILE, NID, seed
from tests.botapi import FakeBotAPI

CITIZEN = 1001


@pytest.fixture(params=["aiogram", "ptb"])
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


async def post(url: str, headers: dict[str, str] | None = None, body: object = None) -> int:
    async with ClientSession() as http, http.post(url, json=body or {"update_id": 1, "message": {}},
                                                  headers=headers or {}) as response:
        return response.status


async def post_raw(url: str, data: bytes, headers: dict[str, str] | None = None) -> int:
    async with ClientSession() as http, http.post(url, data=data, headers={
            "Content-Type": "application/json", **(headers or {})}) as response:
        return response.status


DEEP = b"[" * 100_000 + b"]" * 100_000  # json.loads raises RecursionError on it
UNREADABLE = [DEEP, b"{oops", b'{"update_id": ' + b"9" * 5000 + b"}", b"\xff\xfe\x00{", b""]


async def test_telegram_webhook_refuses_a_wrong_or_missing_secret(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, framework: str) -> None:
    port = free_port()
    settings = settings_for(api, secret, framework=framework, mode="webhook", port=port)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی")
        assert api.webhook_url == f"http://127.0.0.1:{port}/hook" and api.webhook_secret == WEBHOOK_SECRET
        forged = {"update_id": 1, "message": {"message_id": 9, "date": 0, "chat": {"id": CITIZEN, "type": "private"},
                                               "from": {"id": CITIZEN, "is_bot": False, "first_name": "x"},
                                               "text": "/start"}}
        url = f"http://127.0.0.1:{port}/hook"
        assert await post(url, body=forged) == 401
        assert await post(url, {"X-Telegram-Bot-Api-Secret-Token": "guess"}, forged) == 401
        assert await post(f"{url}/{WEBHOOK_SECRET}", body=forged) == 401
        assert await post(url, {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}, {"not": "an update"}) == 400
        for body in UNREADABLE:
            assert await post_raw(url, body, {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}) == 400, body[:20]
    assert len(person.inbox) == 1  # nothing forged was answered
    api.assert_nothing_refused()


async def test_bale_gets_the_secret_in_the_path(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                framework: str) -> None:
    await seed(sqlite_db, secret)
    port = free_port()
    settings = settings_for(api, secret, framework=framework, mode="webhook", port=port, platform="bale")
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        # Bale sends no secret header: the secret is the URL's last segment, and setWebhook has no secret_token.
        await until(lambda: api.webhook_url, what="setWebhook")
        assert api.webhook_url == f"http://127.0.0.1:{port}/hook/{WEBHOOK_SECRET}" and api.webhook_secret is None
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی")
        api.send_text(CITIZEN, NID)
        await person.expect("شماره همراه")
        api.share_contact(CITIZEN, MOBILE)
        await person.expect("هویت شما تأیید شد")
        await person.expect("۱۴۰۳")
        for path in ("/hook", "/hook/guess", f"/{WEBHOOK_SECRET}"):
            assert await post(f"http://127.0.0.1:{port}{path}") == 401
    async with sqlite_db.session() as session:
        binding = (await session.exec(select(ChatBinding))).one()
    assert binding.platform == "bale"
    api.assert_nothing_refused()


async def test_bale_refusals_are_400_counted_once_a_minute_and_never_show_the_path(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, framework: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # everything any library logs, setWebhook's URL included
    port = free_port()
    settings = settings_for(api, secret, framework=framework, mode="webhook", port=port, platform="bale")
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        await until(lambda: api.webhook_url, what="setWebhook")
        hook = f"http://127.0.0.1:{port}/hook/{WEBHOOK_SECRET}"
        for body in UNREADABLE:
            assert await post_raw(hook, body) == 400, body[:20]
        assert await post(hook, body=[1, 2]) == 400
        for path in ("/hook", f"/hook/{WEBHOOK_SECRET}x", f"/{WEBHOOK_SECRET}/hook", f"/hook/{WEBHOOK_SECRET[:-1]}"):
            for _ in range(5):
                assert await post(f"http://127.0.0.1:{port}{path}") == 401
        api.send_command(CITIZEN, "/start")  # the fast path still answers
        await person.expect("کد ملی")
    refusals = [r for r in caplog.records if r.name == "bot.webhook" and "refused" in r.getMessage()]
    # the first at once, the rest counted and written once when the server stopped
    assert len(refusals) == 2
    assert "unknown path: 20" in refusals[1].getMessage() and "not JSON: 4" in refusals[1].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a bad body is not a server error"
    assert WEBHOOK_SECRET not in caplog.text
    assert not [r for r in caplog.records if WEBHOOK_SECRET in r.getMessage() + (r.exc_text or "")]
    assert not [f for h in logging.getLogger().handlers for f in h.filters
                if isinstance(f, PrivacyFilter) and WEBHOOK_SECRET in f.secrets], "the secret's filter goes on stop"


def test_throttled_log_writes_at_most_once_an_interval_with_counts(caplog: pytest.LogCaptureFixture) -> None:
    now = [1000.0]
    throttled = ThrottledLog(logging.getLogger("test.throttle"), "refused", interval=60, clock=lambda: now[0])
    caplog.set_level(logging.WARNING, "test.throttle")
    for second in range(120):  # two a second for two minutes
        now[0] = 1000.0 + second
        throttled.note("wrong secret")
        throttled.note("not JSON")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["refused: 1 in the last 0 s (wrong secret: 1)",
                     "refused: 120 in the last 60 s (not JSON: 60, wrong secret: 60)"]
    throttled.tick()  # 59 s after the last line: nothing yet
    now[0] += 1
    throttled.tick()
    throttled.flush()  # nothing left to write
    assert len(caplog.records) == 3 and caplog.records[2].getMessage().startswith("refused: 119 ")


def test_the_privacy_filter_scrubs_the_secret_from_messages_arguments_and_tracebacks() -> None:
    redactor = PrivacyFilter([WEBHOOK_SECRET])
    try:
        raise ValueError(f"bad request line POST /hook/{WEBHOOK_SECRET}")
    except ValueError:
        record = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "url %s", (f"/hook/{WEBHOOK_SECRET}",),
                                   sys.exc_info())
    assert redactor.filter(record)
    formatted = logging.Formatter().format(record)
    assert WEBHOOK_SECRET not in formatted and "/hook/***" in formatted and "ValueError" in formatted


def test_without_a_secret_one_is_derived_from_the_token(secret: bytes) -> None:
    from bot.settings import Settings

    one = Settings(_env_file=None, BOT_TOKEN="1:abc", WEBHOOK_URL="https://x.ir/h")  # type: ignore[call-arg]
    other = Settings(_env_file=None, BOT_TOKEN="1:abd", WEBHOOK_URL="https://x.ir/h")  # type: ignore[call-arg]
    assert webhook_secret(one) == webhook_secret(one) != webhook_secret(other)
    assert "abc" not in webhook_secret(one) and webhook_secret(one).isalnum()


class RoundRobin:
    """A load balancer in front of several webhook processes: each request to the next one."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.hits: Counter[str] = Counter()
        self._next = itertools.cycle(backends)
        self._runner: web.AppRunner | None = None
        self.port = free_port()

    async def __aenter__(self) -> RoundRobin:
        app = web.Application()
        app.router.add_post("/hook", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        backend = next(self._next)
        self.hits[backend] += 1
        async with ClientSession() as http, http.post(backend, data=await request.read(), headers={
                k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")
        }) as response:
            return web.Response(status=response.status, body=await response.read())


@pytest.mark.redis
async def test_two_processes_one_chat_never_at_once_nor_out_of_order(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, redis_url: str, framework: str) -> None:
    await seed(sqlite_db, secret)
    echo = Echo(delay=0.05)
    ports = [free_port(), free_port()]
    async with RoundRobin([f"http://127.0.0.1:{p}/hook" for p in ports]) as balancer, AsyncExitStack() as stack:
        for port in ports:
            settings = settings_for(api, secret, framework=framework, mode="webhook", port=port, redis_url=redis_url,
                                    webhook_url=f"http://127.0.0.1:{balancer.port}/hook")
            await stack.enter_async_context(running(settings, sqlite_db, secret, plugins=[echo]))
        person, other = Person(api, CITIZEN), Person(api, 2002)
        # One chat after the other, so each chat's updates alternate between the two processes.
        for chat in (CITIZEN, 2002):
            for n in range(1, 9):
                api.send_text(chat, f"n{n}")
        for n in range(1, 9):
            await person.expect(f"echo n{n}")
            await other.expect(f"echo n{n}")
        # Conversation state is shared too: the login starts on one process and ends on the other.
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی")
        api.send_text(CITIZEN, NID)
        await person.expect("شماره همراه")
        api.share_contact(CITIZEN, MOBILE)
        await person.expect("هویت شما تأیید شد")
        assert min(balancer.hits.values()) >= 5
    assert echo.overlaps == []
    for chat in (CITIZEN, 2002):
        assert [text for c, text in echo.order if c == chat] == [f"n{n}" for n in range(1, 9)]
    assert texts.CONTACT_UNEXPECTED not in "".join(m.text or "" for m in person.inbox)
    api.assert_nothing_refused()
