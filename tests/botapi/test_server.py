"""The fake Bot API, driven by the real aiogram and python-telegram-bot clients over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import telegram
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiohttp import web

from tests.botapi import FakeBotAPI, Faults, Limits
from tests.botapi.control import ControlClient
from tests.botapi.fixtures import botapi, no_real_network  # noqa: F401 - fixtures
from tests.botapi.rules import parse_html

CITIZEN = 1001


@pytest.fixture
async def aio(botapi: FakeBotAPI) -> AsyncIterator[Bot]:  # noqa: F811
    bot = Bot(botapi.token, session=AiohttpSession(api=TelegramAPIServer.from_base(botapi.base_url)))
    yield bot
    await bot.session.close()


@pytest.fixture
async def ptb(botapi: FakeBotAPI) -> AsyncIterator[telegram.Bot]:  # noqa: F811
    bot = telegram.Bot(botapi.token, base_url=f"{botapi.base_url}/bot")
    await bot.initialize()
    yield bot
    await bot.shutdown()


# ---- HTML and text rules ------------------------------------------------------------------------


@pytest.mark.parametrize("source, plain", [
    ("<b>پرونده</b> ۱۴۰۳", "پرونده ۱۴۰۳"),
    ("<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>", "abcde"),
    ('<a href="https://example.org/?a=1&amp;b=2">link</a>', "link"),
    ("<code>x &lt; y</code> &amp; <pre>z</pre>", "x < y & z"),
    ('<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span><blockquote>q</blockquote>', "stq"),
    ("&#1575;&#x628; &quot;q&quot;", 'اب "q"'),
])
def test_html_parses_to_what_the_citizen_sees(source: str, plain: str) -> None:
    assert parse_html(source).text == plain


def test_entity_offsets_count_utf16_units() -> None:
    parsed = parse_html("😀 <b>x</b>")
    assert parsed.entities == [{"type": "bold", "offset": 3, "length": 1}]


@pytest.mark.parametrize("source, fragment", [
    ("<foo>x</foo>", 'Unsupported start tag "foo"'),
    ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>x</i>", "Unmatched end tag"),
    ("x</b>", "Unexpected end tag"),
    ("3 < 5", "Unsupported start tag"),
    ("AT&T", "Character '&' is reserved"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ("<b", "Unclosed start tag"),
])
async def test_bad_html_is_refused_to_both_clients(
    botapi: FakeBotAPI, aio: Bot, ptb: telegram.Bot, source: str, fragment: str  # noqa: F811
) -> None:
    botapi.add_user(CITIZEN)
    with pytest.raises(TelegramBadRequest) as aio_error:
        await aio.send_message(CITIZEN, source, parse_mode="HTML")
    assert "can't parse entities" in aio_error.value.message and fragment in aio_error.value.message
    with pytest.raises(telegram.error.BadRequest, match="parse entities"):
        await ptb.send_message(CITIZEN, source, parse_mode="HTML")
    assert botapi.messages(CITIZEN) == []
    assert [r.status for r in botapi.refused] == [400, 400]


async def test_lenient_mode_keeps_a_bare_ampersand_like_telegram(aio: Bot) -> None:
    async with FakeBotAPI(strict_ampersand=False) as api:
        api.add_user(CITIZEN)
        bot = Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        try:
            sent = await bot.send_message(CITIZEN, "AT&T <b>x</b>", parse_mode="HTML")
        finally:
            await bot.session.close()
    assert sent.text == "AT&T x"


async def test_text_limit_counts_characters_after_parsing(botapi: FakeBotAPI, aio: Bot, ptb: telegram.Bot) -> None:  # noqa: F811
    botapi.add_user(CITIZEN)
    await aio.send_message(CITIZEN, "<b>" + "ب" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await aio.send_message(CITIZEN, "ب" * 4097)
    with pytest.raises(telegram.error.BadRequest, match="Message is too long"):
        await ptb.send_message(CITIZEN, "&amp;" * 4097, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await aio.send_message(CITIZEN, "<b> </b>", parse_mode="HTML")
    assert len(botapi.last(CITIZEN).text or "") == 4096


async def test_callback_data_is_limited_to_64_bytes(botapi: FakeBotAPI, aio: Bot, ptb: telegram.Bot) -> None:  # noqa: F811
    botapi.add_user(CITIZEN)
    fits = "د" * 32  # two bytes a letter
    await aio.send_message(CITIZEN, "x", reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data=fits)]]))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await aio.send_message(CITIZEN, "x", reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="no", callback_data=fits + "د")]]))
    with pytest.raises(telegram.error.BadRequest, match="Button_data_invalid"):
        await ptb.send_message(CITIZEN, "x", reply_markup=telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("no", callback_data="a" * 65)]]))
    assert botapi.last(CITIZEN).buttons == [[("ok", fits)]]


async def test_unknown_chat_and_blocked_citizen(botapi: FakeBotAPI, aio: Bot, ptb: telegram.Bot) -> None:  # noqa: F811
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await aio.send_message(4242, "x")
    botapi.block(CITIZEN)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await aio.send_message(CITIZEN, "x")
    with pytest.raises(telegram.error.Forbidden, match="bot was blocked by the user"):
        await ptb.send_message(CITIZEN, "x")
    botapi.unblock(CITIZEN)
    await ptb.send_message(CITIZEN, "x")


async def test_replies_need_an_existing_message(botapi: FakeBotAPI, aio: Bot) -> None:  # noqa: F811
    update = botapi.send_text(CITIZEN, "سلام")
    asked = update["message"]["message_id"]
    sent = await aio.send_message(CITIZEN, "پاسخ", reply_to_message_id=asked)
    assert sent.reply_to_message and sent.reply_to_message.text == "سلام"
    assert botapi.last(CITIZEN).reply_to_message_id == asked
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await aio.send_message(CITIZEN, "x", reply_to_message_id=999)


# ---- edits and callback queries ------------------------------------------------------------------


async def test_edits_follow_telegram(botapi: FakeBotAPI, aio: Bot, ptb: telegram.Bot) -> None:  # noqa: F811
    botapi.add_user(CITIZEN)
    botapi.add_user(2002)
    sent = await aio.send_message(CITIZEN, "<b>one</b>", parse_mode="HTML")
    await aio.edit_message_text("<b>two</b>", chat_id=CITIZEN, message_id=sent.message_id, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await aio.edit_message_text("<b>two</b>", chat_id=CITIZEN, message_id=sent.message_id, parse_mode="HTML")
    with pytest.raises(telegram.error.BadRequest, match="Message to edit not found"):
        await ptb.edit_message_text("x", chat_id=2002, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await aio.edit_message_text("x", chat_id=CITIZEN, message_id=999)
    message = botapi.last(CITIZEN)
    assert (message.text, message.html, [e.text for e in message.edits]) == ("two", "<b>two</b>", ["one"])


async def test_taps_become_callback_queries_answered_once(botapi: FakeBotAPI, aio: Bot) -> None:  # noqa: F811
    botapi.add_user(CITIZEN)
    sent = await aio.send_message(CITIZEN, "x", reply_markup=InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="open", callback_data="open:1")]]))
    query_id = botapi.tap(CITIZEN, sent.message_id, "open:1")
    with pytest.raises(LookupError):
        botapi.tap(CITIZEN, sent.message_id, "forged")
    [update] = await aio.get_updates()
    assert update.callback_query and update.callback_query.data == "open:1"
    assert update.callback_query.message and update.callback_query.message.message_id == sent.message_id
    assert botapi.unanswered_callbacks == [query_id]
    await aio.answer_callback_query(query_id, text="باز شد")
    assert botapi.unanswered_callbacks == [] and botapi.callbacks[query_id].answer_text == "باز شد"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await aio.answer_callback_query(query_id)


# ---- flood control and faults ------------------------------------------------------------------


async def test_flood_control_answers_429_and_refuses_until_it_passes(aio: Bot, ptb: telegram.Bot) -> None:
    async with FakeBotAPI(limits=Limits(chat_per_second=1, retry_after=1)) as api:
        api.add_user(CITIZEN)
        api.add_user(2002)
        bot = Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
        pbot = telegram.Bot(api.token, base_url=f"{api.base_url}/bot")
        try:
            await bot.send_message(CITIZEN, "1")
            with pytest.raises(TelegramRetryAfter) as error:
                await bot.send_message(CITIZEN, "2")
            assert error.value.retry_after == 1
            with pytest.raises(telegram.error.RetryAfter):
                await pbot.send_message(CITIZEN, "3")
            await bot.send_message(2002, "another chat is not limited")
            await asyncio.sleep(1.05)
            await bot.send_message(CITIZEN, "4")
        finally:
            await bot.session.close()
            await pbot.shutdown()
        assert [m.text for m in api.messages(CITIZEN)] == ["1", "4"]
        assert api.stats()["rate_limited"] == 2
        assert {r.status for r in api.refused} == {429}


async def test_global_flood_control_covers_every_chat() -> None:
    statuses, bodies = [], []
    async with FakeBotAPI(limits=Limits(global_per_second=3, retry_after=2)) as api, aiohttp.ClientSession() as http:
        for chat in range(1, 6):
            api.add_user(chat)
            async with http.post(f"{api.base_url}/bot{api.token}/sendMessage",
                                 json={"chat_id": chat, "text": "x"}) as response:
                statuses.append(response.status)
                bodies.append(await response.json())
    assert statuses == [200, 200, 200, 429, 429]
    assert bodies[3] == {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 2",
                         "parameters": {"retry_after": 2}}


async def test_fault_injection_answers_502_like_nginx(aio: Bot, ptb: telegram.Bot) -> None:
    async with FakeBotAPI(faults=Faults(ratio=1.0)) as api:
        api.add_user(CITIZEN)
        pbot = telegram.Bot(api.token, base_url=f"{api.base_url}/bot")
        try:
            with pytest.raises(telegram.error.NetworkError, match="Bad Gateway"):
                await pbot.send_message(CITIZEN, "x")
        finally:
            await pbot.shutdown()
        assert api.stats()["statuses"] == {"502": 1}
        api.configure(faults=Faults(ratio=0.5, seed=7))
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(40):
                async with http.post(f"{api.base_url}/bot{api.token}/sendMessage",
                                     data={"chat_id": str(CITIZEN), "text": "x"}) as response:
                    statuses.append(response.status)
        assert 5 < statuses.count(502) < 35 and statuses.count(200) == len(api.messages(CITIZEN))


# ---- the protocol -------------------------------------------------------------------------------


async def test_protocol_accepts_json_form_multipart_and_query(botapi: FakeBotAPI) -> None:  # noqa: F811
    botapi.add_user(CITIZEN)
    url = f"{botapi.base_url}/bot{botapi.token}"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(CITIZEN))
    form.add_field("text", "multipart")
    async with aiohttp.ClientSession() as http:
        for kwargs in ({"json": {"chat_id": CITIZEN, "text": "json"}},
                       {"data": {"chat_id": str(CITIZEN), "text": "form"}},
                       {"data": form}):
            async with http.post(f"{url}/sendMessage", **kwargs) as response:
                assert response.status == 200 and (await response.json())["ok"] is True
        async with http.get(f"{url}/sendMessage", params={"chat_id": str(CITIZEN), "text": "query"}) as response:
            assert response.status == 200
        async with http.post(f"{url}/getMe") as response:
            assert (await response.json())["result"]["username"] == "eblagh_test_bot"
        async with http.post(f"{url}/sendSticker", json={}) as response:
            assert (response.status, await response.json()) == (
                404, {"ok": False, "error_code": 404, "description": "Not Found"})
        async with http.post(f"{botapi.base_url}/bot1:wrong/getMe") as response:
            assert (response.status, (await response.json())["description"]) == (401, "Unauthorized")
        for method in ("close", "logOut"):
            async with http.post(f"{url}/{method}") as response:
                assert (await response.json()) == {"ok": True, "result": True}
    assert [m.text for m in botapi.messages(CITIZEN)] == ["json", "form", "multipart", "query"]


async def test_commands_round_trip(aio: Bot, ptb: telegram.Bot) -> None:
    from aiogram.types import BotCommand

    await aio.set_my_commands([BotCommand(command="start", description="شروع")])
    assert [c.command for c in await ptb.get_my_commands()] == ["start"]
    await ptb.delete_my_commands()
    assert await aio.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await aio.set_my_commands([BotCommand(command="Start!", description="x")])


async def test_get_updates_offsets_limit_and_allowed_updates(botapi: FakeBotAPI, aio: Bot, ptb: telegram.Bot) -> None:  # noqa: F811
    for text in ("a", "b", "c"):
        botapi.send_text(CITIZEN, text)
    first = await aio.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["a", "b"]
    again = await ptb.get_updates()  # nothing confirmed yet
    assert [u.message.text for u in again if u.message] == ["a", "b", "c"]
    rest = await aio.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["c"]
    assert len(botapi.pending_updates()) == 1
    botapi.send_text(CITIZEN, "d")
    last = await aio.get_updates(offset=-1)
    assert [u.message.text for u in last if u.message] == ["d"]
    await aio.get_updates(offset=last[0].update_id + 1, allowed_updates=["callback_query"])
    botapi.send_text(CITIZEN, "ignored: not an allowed update")
    assert await aio.get_updates() == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(botapi: FakeBotAPI, ptb: telegram.Bot) -> None:  # noqa: F811
    async def later() -> None:
        await asyncio.sleep(0.2)
        botapi.send_command(CITIZEN, "/start")

    started = time.monotonic()
    task = asyncio.create_task(later())
    updates = await ptb.get_updates(timeout=10, read_timeout=15)
    await task
    assert time.monotonic() - started < 2
    assert updates[0].message and updates[0].message.text == "/start"
    assert updates[0].message.entities[0].type == "bot_command"
    started = time.monotonic()
    assert await ptb.get_updates(offset=updates[0].update_id + 1, timeout=0.3) == ()
    assert time.monotonic() - started >= 0.25


async def test_a_second_poller_terminates_the_first(botapi: FakeBotAPI, aio: Bot) -> None:  # noqa: F811
    first = asyncio.create_task(aio.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(aio.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    assert await second == []


async def test_webhook_delivers_with_secret_and_retries(botapi: FakeBotAPI, aio: Bot) -> None:  # noqa: F811
    received: list[tuple[str | None, dict]] = []
    answers = [500]  # the first delivery fails; Telegram tries again

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        botapi.send_text(CITIZEN, "dropped")
        await aio.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t_-X",
                              allowed_updates=["message", "callback_query"], drop_pending_updates=True)
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await aio.get_updates()
        botapi.send_text(CITIZEN, "سلام")
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.02)
        assert [(secret, body["message"]["text"]) for secret, body in received] == [("s3cr3t_-X", "سلام")] * 2
        info = await aio.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
            await aio.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="no spaces")
        await aio.delete_webhook()
        botapi.send_text(CITIZEN, "polled again")
        [update] = await aio.get_updates()
        assert update.message and update.message.text == "polled again"
    finally:
        await runner.cleanup()


async def test_control_over_http_from_another_process(botapi: FakeBotAPI, aio: Bot) -> None:  # noqa: F811
    async with ControlClient(botapi.base_url) as control:
        await control.add_users([CITIZEN])
        await control.share_contact(CITIZEN, "+989121234567")
        [update] = await aio.get_updates()
        assert update.message and update.message.contact
        assert update.message.contact.user_id == CITIZEN
        await aio.send_message(CITIZEN, "<i>ok</i>", parse_mode="HTML")
        [message] = await control.wait_for_messages(CITIZEN, 1, timeout=1)
        assert (message["text"], message["html"]) == ("ok", "<i>ok</i>")
        await control.configure(limits=Limits(global_per_second=100))
        assert (await control.stats())["requests"]["sendMessage"] == 1
        assert await control.refused() == []
        with pytest.raises(TimeoutError):
            await control.wait_for_messages(CITIZEN, 2, timeout=0.1)


async def test_the_guard_stops_real_network(no_real_network: list[str]) -> None:  # noqa: F811
    async with aiohttp.ClientSession() as http:
        with pytest.raises(OSError):
            await http.get("https://api.telegram.org/")
    assert no_real_network == ["resolve 'api.telegram.org'"]
    no_real_network.clear()


async def test_standalone_process_for_benchmarks() -> None:
    import json
    import sys
    from pathlib import Path

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.botapi", "--chat-rate", "1", "--retry-after", "2",
        cwd=Path(__file__).resolve().parents[2], stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout
        started = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        bot = Bot(started["token"], session=AiohttpSession(api=TelegramAPIServer.from_base(started["base_url"])))
        try:
            async with ControlClient(started["base_url"]) as control:
                await control.send_text(CITIZEN, "سلام")
                [update] = await bot.get_updates()
                assert update.message and update.message.text == "سلام"
                await bot.send_message(CITIZEN, "1")
                with pytest.raises(TelegramRetryAfter):
                    await bot.send_message(CITIZEN, "2")
                assert [m["text"] for m in await control.messages(CITIZEN)] == ["1"]
                assert [r["status"] for r in await control.refused()] == [429]
        finally:
            await bot.session.close()
    finally:
        process.terminate()
        await process.wait()


async def test_known_and_blocked_chats_can_be_given_up_front() -> None:
    async with FakeBotAPI(users=[1, 2], blocked=[3]) as api, aiohttp.ClientSession() as http:
        statuses = []
        for chat in (1, 2, 3, 4):
            async with http.post(f"{api.base_url}/bot{api.token}/sendMessage",
                                 json={"chat_id": chat, "text": "x"}) as response:
                statuses.append(response.status)
        assert statuses == [200, 200, 403, 400]
        assert [(r.chat_id, r.description) for r in api.refused] == [
            (3, "Forbidden: bot was blocked by the user"), (4, "Bad Request: chat not found")]
