"""`eblagh run` against the loopback Bot API: one contract for {aiogram, ptb} x {polling, webhook}
x {telegram, bale}.

The real runner (bot.runner.run_bot) runs in-process with the real client libraries over HTTP; one
case runs the `eblagh run` program itself and stops it with SIGTERM. On Bale the fake plays Bale's
differences (tests/botapi/bale.py); tests with nothing Bale-specific to show run on Telegram only,
to keep the suite's time in bounds.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from sqlmodel import func, select

from handlers import texts
from handlers.callbacks import Action
from services.law.calendar import format_rials
from services.privacy import Hasher
from storage.database import Database
from storage.models import ChatBinding, Notice, Receipt
from tests.bot.run_kit import WEBHOOK_SECRET, Echo, Person, free_port, plain, running, settings_for, until
from tests.botapi import FakeBotAPI, Faults, Limits
from tests.botapi.bale import BaleOptions, RateLimitForm
from tests.factories import create_case, create_citizen, create_ruling

NID, MOBILE = "0012345679", "09121234567"
OTHER_NID, OTHER_MOBILE = "0499370899", "09351112233"
FINE = 1_250_000_000
CITIZEN, OTHER = 1001, 2002

FRAMEWORKS, MODES = ("aiogram", "ptb"), ("polling", "webhook")
ARGS = ("framework", "mode", "platform")
both_platforms = pytest.mark.parametrize(ARGS, list(itertools.product(FRAMEWORKS, MODES, ("telegram", "bale"))))
telegram_only = pytest.mark.parametrize(ARGS, list(itertools.product(FRAMEWORKS, MODES, ("telegram",))))
# What a citizen must never see on Bale, which has no parse_mode: a tag or an entity.
HTML_TRACE = re.compile(r"<[A-Za-z/][^>]*>|&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


async def seed(db: Database, secret: bytes) -> dict[str, int]:
    """Two citizens, each with a case and a first-instance fine ruling (hence a notice)."""
    hasher, notices = Hasher(secret), {}
    async with db.session() as session:
        for key, nid, mobile in (("citizen", NID, MOBILE), ("other", OTHER_NID, OTHER_MOBILE)):
            citizen = await create_citizen(session, hasher, national_id=nid, mobile=mobile, full_name="مریم رضایی")
            case = await create_case(session, citizen)
            ruling = await create_ruling(session, case, fine_amount_rials=FINE, text="متن کامل رأی کمیسیون")
            notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
            assert notice.id is not None and citizen.id is not None
            notices[key], notices[f"{key}_id"], notices[f"{key}_case"] = notice.id, citizen.id, case.id or 0
    return notices


async def count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def log_in(person: Person, nid: str, mobile: str) -> None:
    person.api.send_command(person.user_id, "/start")
    await person.expect("کد ملی")
    person.api.send_text(person.user_id, nid)
    asked = await person.expect("شماره همراه")
    assert asked.reply_markup and asked.reply_markup["keyboard"][0][0]["request_contact"] is True
    if person.api.platform == "bale":
        # Bale's worst case: no user_id, the phone as a number without its leading 0.
        person.api.share_contact(person.user_id, mobile, contact_user_id=None, phone_as_number=True)
    else:
        person.api.share_contact(person.user_id, mobile)
    await person.expect("هویت شما تأیید شد")


def assert_no_html_on_bale(api: FakeBotAPI) -> None:
    """Every text the bot sent to Bale (edited ones in every version) is free of HTML."""
    if api.platform != "bale":
        return
    sent = [m for chat in api.chat_ids for m in api.messages(chat)]
    assert sent
    for message in sent:
        assert message.parse_mode is None
        for text in [message.text or "", *(e.text for e in message.edits)]:
            assert not HTML_TRACE.search(text), text


@pytest.fixture
async def api(platform: str) -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(platform=platform) as server:
        yield server


@both_platforms
async def test_the_citizen_journey(api: FakeBotAPI, sqlite_db: Database, secret: bytes, intent_model: object,
                                   framework: str, mode: str, platform: str) -> None:
    ids = await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode=mode)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret, model=intent_model):
        await log_in(person, NID, MOBILE)
        card = await person.expect("۱۴۰۳")  # the pushed ruling, with its case number
        assert "جریمه" in (card.text or "")
        open_data = person.button(card, Action.OPEN_NOTICE)
        assert open_data == f"o:{ids['citizen']}"

        assert await person.tap(card, open_data) == texts.TAP_SERVICE_RECORDED
        await person.expect("متن کامل رأی کمیسیون")
        await person.expect("مهلت اعتراض")
        assert await count(sqlite_db, Receipt) == 1
        assert await person.tap(card, open_data) == ""  # opened again: answered, not recorded again
        await person.expect("متن کامل رأی کمیسیون")
        assert await count(sqlite_db, Receipt) == 1

        api.send_text(CITIZEN, "جریمه من چقدره؟")
        answer = await person.expect("جریمه پرونده")
        assert plain(format_rials(FINE)) in person.shown(answer)
    if platform == "bale":  # no Bale client offers setMyCommands: not called
        assert api.requests["setMyCommands"] == 0 and api.commands == {}
    else:
        assert list(api.commands.values()) == [[{"command": c, "description": d} for c, d in texts.COMMANDS_MENU]]
    assert api.unanswered_callbacks == []
    api.assert_nothing_refused()
    assert_no_html_on_bale(api)
    async with sqlite_db.session() as session:
        binding = (await session.exec(select(ChatBinding))).one()
    assert binding.platform == platform and binding.chat_id == CITIZEN
    assert binding.auth_proof == ("contact_reply" if platform == "bale" else "contact_user_id")


@both_platforms
async def test_what_is_refused_is_refused_and_every_tap_answered(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, framework: str, mode: str, platform: str) -> None:
    ids = await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode=mode)
    person, other = Person(api, CITIZEN), Person(api, OTHER)
    async with running(settings, sqlite_db, secret):
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی")
        api.send_text(CITIZEN, NID)
        await person.expect("شماره همراه")
        api.share_contact(CITIZEN, MOBILE, contact_user_id=4242)  # someone else's contact
        await person.expect(texts.CONTACT_NOT_OWN[:30])
        # A forwarded contact proves nothing, with or without user_id (Bale may leave it out).
        api.share_contact(CITIZEN, MOBILE, contact_user_id=None, forwarded=True)
        await person.expect(texts.CONTACT_NOT_OWN[:30])
        api.share_contact(CITIZEN, "09120000000")  # the wrong phone
        await person.expect(texts.CONTACT_MISMATCH[:30])
        assert await count(sqlite_db, ChatBinding) == 0

        await log_in(other, OTHER_NID, OTHER_MOBILE)
        card = await other.expect("۱۴۰۳")
        # The other citizen forges a tap on the first citizen's notice: refused, and answered.
        answer = await other.tap(card, f"o:{ids['citizen']}", check=False)
        assert answer == texts.NOTICE_NOT_YOURS
        assert await other.tap(card, "zz:\u0000forged", check=False) == texts.UNKNOWN_BUTTON
        assert await other.tap(card, "o:" + "9" * 40, check=False) == texts.UNKNOWN_BUTTON
        assert await count(sqlite_db, Receipt) == 0
    assert api.unanswered_callbacks == []
    api.assert_nothing_refused()
    assert_no_html_on_bale(api)


# On Bale each run meets one of Bale's flood answers, none of which names a wait.
BALE_FORMS = dict(zip(itertools.product(FRAMEWORKS, MODES),
                      [RateLimitForm.BARE_429, RateLimitForm.BOT_LIMIT, RateLimitForm.LOCAL, RateLimitForm.BARE_429],
                      strict=True))


@both_platforms
async def test_a_429_delays_the_reply_but_it_arrives(sqlite_db: Database, secret: bytes,
                                                     framework: str, mode: str, platform: str) -> None:
    await seed(sqlite_db, secret)
    form = BALE_FORMS[(framework, mode)]
    async with FakeBotAPI(limits=Limits(chat_per_second=1, retry_after=1), platform=platform,
                          bale_options=BaleOptions(rate_limit=form)) as api:
        settings = settings_for(api, secret, framework=framework, mode=mode)
        person = Person(api, CITIZEN)
        async with running(settings, sqlite_db, secret):
            await log_in(person, NID, MOBILE)
            # Binding answers with two messages at once; the second meets the 429 and waits.
            await person.expect(texts.BOUND_FALLBACK[:20])
            await person.expect("۱۴۰۳", timeout=10)  # the pushed notice too, after its own 429s
        status = 429 if platform == "telegram" or form is RateLimitForm.BARE_429 else 400
        assert api.statuses[status] >= 1
        assert {r.status for r in api.refused} == {status}


@both_platforms
async def test_a_blocked_citizen_is_skipped_until_writing_again(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, framework: str, mode: str, platform: str) -> None:
    ids = await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode=mode)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        await log_in(person, NID, MOBILE)
        await person.expect("۱۴۰۳")
        api.block(CITIZEN)
        async with sqlite_db.session() as session:  # a new ruling arrives while blocked
            from storage.models import Case, Citizen

            citizen = await session.get(Citizen, ids["citizen_id"])
            case = await session.get(Case, ids["citizen_case"])
            assert citizen is not None and case is not None
            await create_ruling(session, case, ruling_id="R-NEW", kind="demolition", fine_amount_rials=None)

        async def unreachable() -> bool:
            async with sqlite_db.session() as session:
                binding = (await session.exec(select(ChatBinding))).one()
            return binding.unreachable_at is not None

        for _ in range(200):
            if await unreachable():
                break
            await asyncio.sleep(0.05)
        assert await unreachable()
        before = len(person.inbox)
        api.unblock(CITIZEN)
        api.send_text(CITIZEN, "سلام")
        await until(lambda: len(person.inbox) >= before + 2, what="the answer and the held-back notice")
        await person.expect("قلع")  # the demolition ruling, delivered now
        assert not await unreachable()
    assert {r.status for r in api.refused} == {403}


@both_platforms
async def test_restart_neither_loses_nor_repeats(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                 framework: str, mode: str, platform: str) -> None:
    echo = Echo(delay=0.0)
    person = Person(api, CITIZEN)
    port = free_port()
    settings = settings_for(api, secret, framework=framework, mode=mode, port=port)
    async with running(settings, sqlite_db, secret, plugins=[echo]):
        first = api.send_text(CITIZEN, "n1")
        await person.expect("echo n1")
    # Down: the citizen keeps writing.
    api.send_text(CITIZEN, "n2")
    api.send_text(CITIZEN, "n3")
    async with running(settings, sqlite_db, secret, plugins=[echo]):
        await person.expect("echo n2")
        await person.expect("echo n3")
        # The Bot API sends a handled update again (as after a crash before it was confirmed).
        if mode == "webhook":  # Bale: the secret is the URL's last segment, not a header
            url = f"http://127.0.0.1:{port}/hook" + (f"/{WEBHOOK_SECRET}" if platform == "bale" else "")
            headers = {} if platform == "bale" else {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            async with ClientSession() as http, http.post(url, json=first, headers=headers) as response:
                assert response.status == 200
        else:
            api._updates.append(first)  # noqa: SLF001 - the fake has no public "redeliver"
        api.send_text(CITIZEN, "n4")
        await person.expect("echo n4")
    assert [text for _chat, text in echo.order] == ["n1", "n2", "n3", "n4"]
    assert [m.text for m in person.inbox] == ["echo n1", "echo n2", "echo n3", "echo n4"]
    api.assert_nothing_refused()


@telegram_only
@pytest.mark.redis
async def test_with_redis_a_login_survives_a_restart(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                     redis_url: str, framework: str, mode: str, platform: str) -> None:
    await seed(sqlite_db, secret)
    settings = settings_for(api, secret, framework=framework, mode=mode, port=free_port(), redis_url=redis_url)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret):
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی")
        api.send_text(CITIZEN, NID)
        await person.expect("شماره همراه")
    api.share_contact(CITIZEN, MOBILE)  # while the bot is down
    async with running(settings, sqlite_db, secret):
        await person.expect("هویت شما تأیید شد")
        card = await person.expect("۱۴۰۳")
        assert await person.tap(card, person.button(card, Action.OPEN_NOTICE)) == texts.TAP_SERVICE_RECORDED
    assert await count(sqlite_db, Receipt) == 1
    assert api.unanswered_callbacks == []
    api.assert_nothing_refused()


@telegram_only
async def test_a_wrong_token_ends_the_run_with_status_1(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                        framework: str, mode: str, platform: str) -> None:
    from bot.runner import run_bot
    from bot.runtime import Runtime

    settings = settings_for(api, secret, framework=framework, mode=mode).model_copy(
        update={"bot_token": "123456789:wrong"})
    runtime = Runtime(settings=settings, database=sqlite_db, hasher=Hasher(secret))
    status = await asyncio.wait_for(run_bot(runtime, stop=asyncio.Event()), 10)
    assert status == 1
    assert {r.status for r in api.refused} == {401}


@telegram_only
async def test_502s_from_an_overloaded_front_end_are_retried(sqlite_db: Database, secret: bytes,
                                                             framework: str, mode: str, platform: str) -> None:
    await seed(sqlite_db, secret)
    async with FakeBotAPI(faults=Faults(ratio=0.3, seed=7)) as api:
        settings = settings_for(api, secret, framework=framework, mode=mode)
        person = Person(api, CITIZEN)
        async with running(settings, sqlite_db, secret):
            await log_in(person, NID, MOBILE)
            # The delivery engine retries with backoff; a retried reply may even come after the card.
            card = await until(lambda: next((m for m in person.inbox if "۱۴۰۳" in (m.text or "")), None),
                               timeout=15, what="the pushed notice")
            assert await person.tap(card, person.button(card, Action.OPEN_NOTICE)) == texts.TAP_SERVICE_RECORDED
        assert api.statuses[502] >= 1
        assert {r.status for r in api.refused} == {502}
        assert api.unanswered_callbacks == []
