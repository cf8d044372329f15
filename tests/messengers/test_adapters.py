"""One contract for both Bot API adapters, run against the loopback fake Bot API."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest

from bot.messengers import (
    ALLOWED_UPDATES,
    BotApiMessenger,
    MissingBotToken,
    aiogram_adapter,
    build_messenger,
    ptb_adapter,
)
from bot.messengers.bale_text import to_bale, visible
from bot.messengers.botapi import DEFAULT_RETRY_AFTER, mask_token, parse_command
from bot.messengers.updates import Incoming
from bot.settings import Settings
from handlers.events import ButtonTapped, Chat, CommandReceived, ContactShared, TextReceived
from services.messaging import (
    Button,
    ChatKind,
    OutgoingMessage,
    Permanent,
    RetryAfter,
    SentMessage,
    Transient,
    Unreachable,
)
from tests.botapi import FakeBotAPI, Faults, Limits
from tests.botapi.bale import BaleOptions, RateLimitForm
from tests.botapi.fixtures import botapi, no_real_network  # noqa: F401 - fixtures
from tests.botapi.rules import parse_html

CITIZEN = 1001
MODULES = {"aiogram": aiogram_adapter, "ptb": ptb_adapter}


def settings_for(api: FakeBotAPI, framework: str) -> Settings:
    """Settings for a messenger on the fake's platform (Telegram unless it plays Bale)."""
    return Settings(_env_file=None, BOT_TOKEN=api.token, BOT_API_BASE=api.base_url,  # type: ignore[call-arg]
                    BOT_FRAMEWORK=framework, PLATFORM=api.platform)


@pytest.fixture(params=sorted(MODULES))
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def messenger(botapi: FakeBotAPI, framework: str) -> AsyncIterator[BotApiMessenger]:  # noqa: F811
    botapi.add_user(CITIZEN)
    sender = build_messenger(settings_for(botapi, framework))
    yield sender
    await sender.close()


async def updates(messenger: BotApiMessenger) -> list[Any]:
    """Fetch and confirm pending updates with the adapter's own library."""
    bot: Any = messenger.bot  # type: ignore[attr-defined]
    found = list(await bot.get_updates(allowed_updates=list(ALLOWED_UPDATES)))
    if found:
        await bot.get_updates(offset=found[-1].update_id + 1)
    return found


def module_of(framework: str) -> ModuleType:
    return MODULES[framework]


# ---- sending -------------------------------------------------------------------------------------


async def test_sends_html_without_link_previews(botapi: FakeBotAPI, messenger: BotApiMessenger) -> None:  # noqa: F811
    sent = await messenger.send(CITIZEN, OutgoingMessage("<b>رأی</b> کمیسیون &amp; <a href=\"https://x.ir\">متن</a>"))
    shown = botapi.last(CITIZEN)
    assert sent == SentMessage(shown.message_id)
    assert shown.text == "رأی کمیسیون & متن" and shown.parse_mode == "HTML"
    assert shown.link_preview_disabled is True and shown.reply_markup is None
    assert messenger.platform == "telegram"
    botapi.assert_nothing_refused()


async def test_sends_inline_buttons_in_rows(botapi: FakeBotAPI, messenger: BotApiMessenger) -> None:  # noqa: F811
    buttons = ((Button("مشاهده", "view:R-1"), Button("بعدی", "next")), (Button("راهنما", "help"),))
    await messenger.send(CITIZEN, OutgoingMessage("x", buttons=buttons))
    assert botapi.last(CITIZEN).buttons == [[("مشاهده", "view:R-1"), ("بعدی", "next")], [("راهنما", "help")]]


async def test_request_contact_keyboard_and_its_removal(botapi: FakeBotAPI, messenger: BotApiMessenger) -> None:  # noqa: F811
    await messenger.send(CITIZEN, OutgoingMessage("شماره را بفرستید", request_contact="ارسال شماره"))
    markup = botapi.last(CITIZEN).reply_markup
    assert markup == {"keyboard": [[{"text": "ارسال شماره", "request_contact": True}]],
                      "resize_keyboard": True, "one_time_keyboard": True}
    await messenger.send(CITIZEN, OutgoingMessage("ممنون", remove_keyboard=True))
    assert botapi.last(CITIZEN).removes_keyboard


async def test_edits_and_an_unchanged_edit_is_success(botapi: FakeBotAPI, messenger: BotApiMessenger) -> None:  # noqa: F811
    first = await messenger.send(CITIZEN, OutgoingMessage("<b>خلاصه</b>", buttons=((Button("متن کامل", "open"),),)))
    full = OutgoingMessage("<b>متن کامل</b>", edit_message_id=first.message_id)
    assert await messenger.send(CITIZEN, full) == first
    shown = botapi.last(CITIZEN)
    assert (shown.text, shown.buttons, [e.text for e in shown.edits]) == ("متن کامل", [], ["خلاصه"])
    assert await messenger.send(CITIZEN, full) == first  # "message is not modified" is a success
    assert len(botapi.messages(CITIZEN)) == 1


async def test_a_message_too_long_for_one_arrives_whole_in_parts(
    botapi: FakeBotAPI, messenger: BotApiMessenger  # noqa: F811
) -> None:
    paragraph = "<b>بند &lt;الف&gt;</b> تخلف ساختمانی در طبقه پنجم & بالکن؛ 🙂 " * 30
    source = "\n\n".join([paragraph] * 5).replace(" & ", " &amp; ")
    buttons = ((Button("باز کردن", "o:1"),),)
    sent = await messenger.send(CITIZEN, OutgoingMessage(source, buttons=buttons))
    shown = botapi.messages(CITIZEN)
    assert len(shown) == len(sent.message_ids) == 3
    assert sent.message_ids == tuple(m.message_id for m in shown) and sent.message_id == shown[0].message_id
    assert [m.text[:6] for m in shown] == ["(۱/۳)\n", "(۲/۳)\n", "(۳/۳)\n"]  # type: ignore[index]
    # Joined without their markers, the parts are the text as written, formatting included.
    assert "".join(parse_html(m.html or "").text[6:] for m in shown) == parse_html(source).text
    assert all(e["type"] == "bold" for m in shown for e in m.entities)
    assert [m.buttons for m in shown] == [[], [], [[("باز کردن", "o:1")]]]
    botapi.assert_nothing_refused()


async def test_an_edit_too_long_is_the_edit_then_new_messages(
    botapi: FakeBotAPI, messenger: BotApiMessenger  # noqa: F811
) -> None:
    first = await messenger.send(CITIZEN, OutgoingMessage("خلاصه", buttons=((Button("متن کامل", "open"),),)))
    sent = await messenger.send(CITIZEN, OutgoingMessage("متن کامل رأی. " * 600, edit_message_id=first.message_id))
    shown = botapi.messages(CITIZEN)
    assert len(shown) == 3 and sent.message_ids == tuple(m.message_id for m in shown)
    assert shown[0].edits and shown[0].text.startswith("(۱/۳)")  # type: ignore[union-attr]
    botapi.assert_nothing_refused()


async def test_impossible_keyboards_are_permanent_before_any_request(
    botapi: FakeBotAPI, messenger: BotApiMessenger  # noqa: F811
) -> None:
    with pytest.raises(Permanent):
        await messenger.send(CITIZEN, OutgoingMessage("x", request_contact="c", edit_message_id=1))
    with pytest.raises(Permanent):
        await messenger.send(CITIZEN, OutgoingMessage("x", buttons=((Button("a", "b"),),), remove_keyboard=True))
    assert botapi.requests == {}


async def test_answers_taps_once(botapi: FakeBotAPI, messenger: BotApiMessenger, framework: str) -> None:  # noqa: F811
    sent = await messenger.send(CITIZEN, OutgoingMessage("x", buttons=((Button("باز کن", "open"),),)))
    query_id = botapi.tap(CITIZEN, sent.message_id, "open")
    [update] = await updates(messenger)
    assert module_of(framework).callback_id(update) == query_id
    await messenger.answer_tap(query_id, "باز شد")
    assert botapi.callbacks[query_id].answer_text == "باز شد" and botapi.unanswered_callbacks == []
    with pytest.raises(Permanent, match="(?i)query is too old"):
        await messenger.answer_tap(query_id)


# ---- error mapping -------------------------------------------------------------------------------


async def test_429_is_retry_after_without_a_silent_retry(framework: str) -> None:
    async with FakeBotAPI(limits=Limits(chat_per_second=1, retry_after=3)) as api:
        api.add_user(CITIZEN)
        sender = build_messenger(settings_for(api, framework))
        try:
            await sender.send(CITIZEN, OutgoingMessage("1"))
            started = time.monotonic()
            with pytest.raises(RetryAfter) as error:
                await sender.send(CITIZEN, OutgoingMessage("2"))
        finally:
            await sender.close()
        assert error.value.seconds == 3
        assert time.monotonic() - started < 1 and api.requests["sendMessage"] == 2


async def test_blocked_and_unknown_chats_are_unreachable(botapi: FakeBotAPI, messenger: BotApiMessenger) -> None:  # noqa: F811
    botapi.block(CITIZEN)
    with pytest.raises(Unreachable, match="blocked"):
        await messenger.send(CITIZEN, OutgoingMessage("x"))
    with pytest.raises(Unreachable, match="(?i)chat not found"):
        await messenger.send(987654, OutgoingMessage("x"))


async def test_bad_html_is_permanent(botapi: FakeBotAPI, messenger: BotApiMessenger) -> None:  # noqa: F811
    with pytest.raises(Permanent, match="(?i)can't parse entities"):
        await messenger.send(CITIZEN, OutgoingMessage("پرونده <۱۲۳>"))
    with pytest.raises(Permanent, match="(?i)message to edit not found"):
        await messenger.send(CITIZEN, OutgoingMessage("x", edit_message_id=99))


@pytest.mark.parametrize("html_body", [True, False])
async def test_502_is_transient(framework: str, html_body: bool) -> None:
    async with FakeBotAPI(faults=Faults(ratio=1.0, html_body=html_body)) as api:
        api.add_user(CITIZEN)
        sender = build_messenger(settings_for(api, framework))
        try:
            with pytest.raises(Transient):
                await sender.send(CITIZEN, OutgoingMessage("x"))
        finally:
            await sender.close()
        assert api.requests["sendMessage"] == 1


async def test_a_dead_server_is_transient(framework: str) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(_env_file=None, BOT_TOKEN="1:x", BOT_API_BASE=f"http://127.0.0.1:{port}",  # type: ignore[call-arg]
                        BOT_FRAMEWORK=framework)
    sender = build_messenger(settings)
    try:
        with pytest.raises(Transient):
            await sender.send(CITIZEN, OutgoingMessage("x"))
    finally:
        await sender.close()


# ---- incoming updates ----------------------------------------------------------------------------


async def test_updates_become_events(botapi: FakeBotAPI, messenger: BotApiMessenger, framework: str) -> None:  # noqa: F811
    module = module_of(framework)
    chat = Chat(platform="bale", chat_id=CITIZEN, user_id=CITIZEN)
    sent = await messenger.send(CITIZEN, OutgoingMessage("x", buttons=((Button("a", "view:1"),),)))
    botapi.send_text(CITIZEN, "پرونده من", reply_to_message_id=sent.message_id)
    botapi.send_command(CITIZEN, "/start abc")
    botapi.send_command(CITIZEN, "/Help@eblagh_test_bot")
    botapi.share_contact(CITIZEN, "+989121234567")
    botapi.share_contact(CITIZEN, "09121234567", contact_user_id=None)
    botapi.tap(CITIZEN, sent.message_id, "view:1")
    events = [module.event_from_update(u, "bale") for u in await updates(messenger)]
    ids = [m.message_id for m in botapi.history(CITIZEN) if not m.from_bot]
    assert events == [
        TextReceived(chat, "پرونده من", message_id=ids[0], reply_to_message_id=sent.message_id),
        CommandReceived(chat, "start", "abc", message_id=ids[1]),
        CommandReceived(chat, "help", "", message_id=ids[2]),
        ContactShared(chat, "+989121234567", CITIZEN, message_id=ids[3]),
        ContactShared(chat, "09121234567", None, message_id=ids[4]),
        ButtonTapped(chat, "view:1", message_id=sent.message_id),
    ]


async def test_group_updates_carry_the_chat_kind(botapi: FakeBotAPI, messenger: BotApiMessenger,  # noqa: F811
                                                 framework: str) -> None:
    module = module_of(framework)
    group, member = -100_4242, 2002
    botapi.add_group(group, title="گروه ساختمان", kind="supergroup", members=[CITIZEN, member])
    card = await messenger.send(CITIZEN, OutgoingMessage("card", buttons=((Button("open", "o:7"),),)))
    forwarded = botapi.forward_to_group(CITIZEN, CITIZEN, card.message_id, group)
    botapi.group_send_command(group, CITIZEN, "/start")
    botapi.group_share_contact(group, member, "09121234567")
    botapi.group_tap(group, member, forwarded.message_id, "o:7")
    botapi.tap(CITIZEN, card.message_id, "o:7")
    events = [module.event_from_update(u, "telegram") for u in await updates(messenger)]
    in_group = ChatKind.SUPERGROUP
    assert [(e.chat.chat_id, e.chat.user_id, e.chat.kind, e.chat.private) for e in events] == [
        (group, CITIZEN, in_group, False), (group, member, in_group, False), (group, member, in_group, False),
        (CITIZEN, CITIZEN, ChatKind.PRIVATE, True)]
    assert isinstance(events[0], CommandReceived) and isinstance(events[2], ButtonTapped)


@pytest.mark.parametrize("kind", ["group", "supergroup", "channel", "sender", "something_new"])
def test_every_chat_type_but_private_is_shared(framework: str, kind: str) -> None:
    user = {"id": CITIZEN, "is_bot": False, "first_name": "x"}
    payload = {"update_id": 1, "message": {"message_id": 5, "date": 0, "text": "سلام", "from": user,
                                           "chat": {"id": -100_1, "type": kind, "title": "t"}}}
    event = module_of(framework).event_from_update(_update(framework, payload), "telegram")
    assert event is not None and not event.chat.private
    assert event.chat.kind is (ChatKind(kind) if kind in {"group", "supergroup", "channel"} else ChatKind.GROUP)


def _update(framework: str, payload: dict[str, Any]) -> Any:
    if framework == "aiogram":
        from aiogram.types import Update as AiogramUpdate

        return AiogramUpdate.model_validate(payload)
    from telegram import Update as PtbUpdate

    return PtbUpdate.de_json(payload, None)


def test_other_update_kinds_are_ignored(framework: str) -> None:
    module = module_of(framework)
    user = {"id": CITIZEN, "is_bot": False, "first_name": "x"}
    message = {"message_id": 5, "date": 0, "chat": {"id": CITIZEN, "type": "private"}, "from": user}
    for payload in ({"update_id": 1, "edited_message": {**message, "text": "x"}},
                    {"update_id": 2, "message": {**message, "sticker": None}},
                    {"update_id": 3, "message": {**message, "location": {"latitude": 35.7, "longitude": 51.4}}}):
        update = _update(framework, payload)
        assert module.event_from_update(update, "telegram") is None
        assert module.callback_id(update) is None


def test_commands_follow_telegram_syntax() -> None:
    assert parse_command("/start") == ("start", "")
    assert parse_command("/start@eblagh_bot  0012345679 ") == ("start", "0012345679")
    assert parse_command("/logout\nبعدی") == ("logout", "بعدی")
    for text in ("start", "/ start", "/شروع", "a /start", "/start@"):
        assert parse_command(text) is None


def test_tokens_are_masked(botapi: FakeBotAPI, framework: str) -> None:  # noqa: F811
    secret = botapi.token.split(":")[1]
    assert mask_token(botapi.token) == "123456789:***"
    assert secret not in repr(build_messenger(settings_for(botapi, framework)))


def test_allowed_updates_are_what_is_converted() -> None:
    assert ALLOWED_UPDATES == ("message", "callback_query")


def test_a_bot_api_messenger_needs_a_token() -> None:
    with pytest.raises(MissingBotToken):
        build_messenger(Settings(_env_file=None, BOT_TOKEN=""))  # type: ignore[call-arg]


async def test_an_unreadable_tap_is_still_answered(messenger: BotApiMessenger) -> None:
    # A callback_query without chat_instance (required by the Bot API): neither library can read it,
    # yet the tap's id is kept so that the pipeline answers it.
    from bot.runner import client_for

    settings = Settings(_env_file=None, BOT_TOKEN="1:x",  # type: ignore[call-arg]
                        BOT_FRAMEWORK="ptb" if isinstance(messenger, ptb_adapter.PtbMessenger) else "aiogram")
    raw = {"update_id": 9, "callback_query": {"id": "q9", "from": {"id": CITIZEN, "is_bot": False, "first_name": "x"},
                                              "data": "o:1"}}
    incoming = client_for(settings, messenger).parse(raw)
    assert (incoming.update_id, incoming.event, incoming.callback_id) == (9, None, "q9")


# ---- Bale (tests/botapi/bale.py says where each difference comes from) ---------------------------


@pytest.fixture
async def bale_api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(platform="bale") as api:
        api.add_user(CITIZEN)
        yield api


@pytest.fixture
async def bale_messenger(bale_api: FakeBotAPI, framework: str) -> AsyncIterator[BotApiMessenger]:
    sender = build_messenger(settings_for(bale_api, framework))
    yield sender
    await sender.close()


async def test_bale_gets_rendered_text_without_parse_mode(bale_api: FakeBotAPI,
                                                          bale_messenger: BotApiMessenger) -> None:
    html_text = "<b>رأی</b> کمیسیون &amp; &lt;پیوست&gt; برای *مریم_رضایی*"
    sent = await bale_messenger.send(CITIZEN, OutgoingMessage(html_text, buttons=((Button("باز کن", "o:1"),),)))
    shown = bale_api.last(CITIZEN)
    assert shown.parse_mode is None and shown.text == to_bale(html_text)
    assert visible(shown.text or "") == "رأی کمیسیون & <پیوست> برای *مریم_رضایی*"
    assert (shown.text or "").startswith("*رأی* ")
    await bale_messenger.send(CITIZEN, OutgoingMessage("<b>متن کامل</b>", edit_message_id=sent.message_id))
    assert bale_api.last(CITIZEN).text == "*متن کامل*" and bale_api.last(CITIZEN).parse_mode is None
    bale_api.assert_nothing_refused()


@pytest.mark.parametrize("form", list(RateLimitForm))
async def test_bale_rate_limits_are_retry_after(framework: str, form: RateLimitForm) -> None:
    async with FakeBotAPI(platform="bale", limits=Limits(chat_per_second=1, retry_after=3),
                          bale_options=BaleOptions(rate_limit=form)) as api:
        api.add_user(CITIZEN)
        sender = build_messenger(settings_for(api, framework))
        try:
            await sender.send(CITIZEN, OutgoingMessage("1"))
            with pytest.raises(RetryAfter) as error:
                await sender.send(CITIZEN, OutgoingMessage("2"))
        finally:
            await sender.close()
    assert error.value.seconds == DEFAULT_RETRY_AFTER  # Bale names no wait: the default
    assert [(r.status, r.description) for r in api.refused] == [
        (429, "Too Many Requests") if form is RateLimitForm.BARE_429 else (400, form.value)]


async def test_bale_unknown_chat_is_unreachable(bale_messenger: BotApiMessenger) -> None:
    with pytest.raises(Unreachable, match="no such group or user"):
        await bale_messenger.send(987654, OutgoingMessage("x"))


async def test_bale_updates_become_events(bale_api: FakeBotAPI, bale_messenger: BotApiMessenger) -> None:
    from bot.runner import client_for

    client = client_for(settings_for(bale_api, "ptb" if isinstance(bale_messenger, ptb_adapter.PtbMessenger)
                                     else "aiogram"), bale_messenger)
    chat = Chat(platform="bale", chat_id=CITIZEN, user_id=CITIZEN)
    sent = await bale_messenger.send(CITIZEN, OutgoingMessage("x", buttons=((Button("a", "o:1"),),)))
    query_id = bale_api.tap(CITIZEN, sent.message_id, "o:1")  # no chat_instance on Bale
    bale_api.share_contact(CITIZEN, "09121234567", contact_user_id=None, phone_as_number=True)
    bale_api.share_contact(CITIZEN, "+989121234567")
    bale_api.share_contact(CITIZEN, "09121234567", contact_user_id=None, forwarded=True)
    raws = await client.get_updates(None, 0)
    assert "chat_instance" not in raws[0]["callback_query"] and raws[1]["message"]["contact"]["phone_number"] == 9121234567
    incoming = [client.parse(raw) for raw in raws]
    ids = [m.message_id for m in bale_api.history(CITIZEN) if not m.from_bot]
    assert [i.event for i in incoming] == [
        ButtonTapped(chat, "o:1", message_id=sent.message_id),
        ContactShared(chat, "9121234567", None, message_id=ids[0]),
        ContactShared(chat, "+989121234567", CITIZEN, message_id=ids[1]),
        ContactShared(chat, "09121234567", None, message_id=ids[2], forwarded=True),
    ]
    assert incoming[0].callback_id == query_id


def test_bale_updates_missing_what_the_libraries_require_are_read(framework: str) -> None:
    from bot.runner import client_for

    settings = Settings(_env_file=None, BOT_TOKEN="1:x", BOT_FRAMEWORK=framework, PLATFORM="bale")  # type: ignore[call-arg]
    messenger = build_messenger(settings)
    client = client_for(settings, messenger)
    sparse_user = {"id": CITIZEN}  # no is_bot, no first_name
    message = {"message_id": 3, "chat": {"id": CITIZEN, "type": "private"}, "from": sparse_user, "text": "سلام"}
    raw = {"update_id": 11, "message": message}  # no date either
    incoming = client.parse(raw)
    assert incoming.event == TextReceived(Chat("bale", CITIZEN, CITIZEN), "سلام", message_id=3)
    assert "date" not in raw["message"]  # the caller's JSON is left as it came
    tap = {"update_id": 12, "callback_query": {"id": "q1", "from": sparse_user, "data": "o:1",
                                               "message": {**message, "from": {"id": 1}, "date": 5}}}
    assert client.parse(tap).event == ButtonTapped(Chat("bale", CITIZEN, CITIZEN), "o:1", message_id=3)
    # On Telegram the same tap is unreadable (chat_instance is required there), and still answered.
    telegram = Settings(_env_file=None, BOT_TOKEN="1:x", BOT_FRAMEWORK=framework)  # type: ignore[call-arg]
    assert client_for(telegram, build_messenger(telegram)).parse(tap) == Incoming(12, None, "q1")
