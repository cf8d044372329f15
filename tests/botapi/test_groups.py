"""Group chats on the fake Bot API: several people in one chat, through the control side over HTTP,
read back with the real aiogram client (chat.type and title, who wrote, taps on a forwarded card)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.botapi import FakeBotAPI
from tests.botapi.control import ControlClient
from tests.botapi.fixtures import botapi, no_real_network  # noqa: F401 - fixtures

GROUP, ALICE, BOB = -100_123, 1001, 1002


@pytest.fixture
async def aio(botapi: FakeBotAPI) -> AsyncIterator[Bot]:  # noqa: F811
    bot = Bot(botapi.token, session=AiohttpSession(api=TelegramAPIServer.from_base(botapi.base_url)))
    yield bot
    await bot.session.close()


async def test_two_people_in_one_group(botapi: FakeBotAPI, aio: Bot) -> None:  # noqa: F811
    async with ControlClient(botapi.base_url) as control:
        chat = await control.add_group(GROUP, title="گروه ساختمان", kind="supergroup", members=[ALICE, BOB])
        assert chat == {"id": GROUP, "type": "supergroup", "title": "گروه ساختمان"}
        await control.group_send_command(GROUP, ALICE, "/start")
        await control.group_send_text(GROUP, BOB, "سلام")
        await control.group_share_contact(GROUP, BOB, "+989121234567")
        first, second, third = await aio.get_updates()
        for update, sender in ((first, ALICE), (second, BOB), (third, BOB)):
            assert update.message is not None and update.message.from_user is not None
            assert (update.message.chat.id, update.message.chat.type, update.message.chat.title) == \
                (GROUP, "supergroup", "گروه ساختمان")
            assert update.message.from_user.id == sender
        assert first.message and first.message.entities and first.message.entities[0].type == "bot_command"
        assert third.message and third.message.contact and third.message.contact.user_id == BOB
        await aio.get_updates(offset=third.update_id + 1)

        # The bot writes to the group; a member taps its button.
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="باز", callback_data="o:1")]])
        sent = await aio.send_message(GROUP, "کارت", reply_markup=markup)
        query_id = await control.group_tap(GROUP, BOB, sent.message_id, "o:1")
        # A card forwarded from Alice's private chat keeps its button, and can be tapped in the group.
        card = await aio.send_message(ALICE, "کارت خصوصی", reply_markup=markup)
        forwarded = await control.forward_to_group(ALICE, ALICE, card.message_id, GROUP)
        assert forwarded["from_user"] == ALICE and forwarded["forwarded_from_bot"] is True
        forged = await control.group_tap(GROUP, BOB, forwarded["message_id"], "o:999", check=False)
        taps = (await aio.get_updates(offset=third.update_id + 1))
        assert [(u.callback_query.id, u.callback_query.from_user.id, u.callback_query.message.chat.id)
                for u in taps if u.callback_query and u.callback_query.message] == \
            [(query_id, BOB, GROUP), (forged, BOB, GROUP)]
        with pytest.raises(RuntimeError, match="no button"):
            await control.group_tap(GROUP, BOB, sent.message_id, "o:2")
        with pytest.raises(RuntimeError, match="no group"):
            await control.group_send_text(-100_999, BOB, "x")
        assert await control.refused() == []
