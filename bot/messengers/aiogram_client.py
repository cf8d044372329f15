"""BotApiClient on aiogram: its Bot fetches updates and sets the webhook; its Update model parses."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiogram.methods.base import TelegramMethod
from aiogram.types import BotCommand, Update

from bot.messengers.aiogram_adapter import AiogramMessenger, bot_api_errors, callback_id, event_from_update
from bot.messengers.bale_updates import tolerate
from bot.messengers.botapi import ALLOWED_UPDATES, PLATFORM_BALE, REQUEST_TIMEOUT
from bot.messengers.updates import Incoming, RawUpdate, unreadable, update_id_of

log = logging.getLogger(__name__)


class _RawGetUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates answered as raw JSON: an update aiogram cannot read must not sink its whole batch
    (aiogram's own GetUpdates fails the batch, and with the offset unmoved it would fail forever)."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


class AiogramClient:
    def __init__(self, messenger: AiogramMessenger, allowed_updates: Sequence[str] = ALLOWED_UPDATES) -> None:
        self._bot = messenger.bot
        self._platform = messenger.platform
        self._allowed = list(allowed_updates)  # with pre_checkout_query when fines are paid in the chat

    async def get_updates(self, offset: int | None, long_poll: int) -> list[RawUpdate]:
        with bot_api_errors():
            method = _RawGetUpdates(offset=offset, timeout=long_poll, allowed_updates=self._allowed)
            return await self._bot(method, request_timeout=int(long_poll + REQUEST_TIMEOUT))

    async def set_webhook(self, url: str, secret_token: str | None) -> None:
        with bot_api_errors():
            await self._bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=self._allowed)

    async def delete_webhook(self) -> None:
        with bot_api_errors():
            await self._bot.delete_webhook(drop_pending_updates=False)

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        with bot_api_errors():
            await self._bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands])

    def parse(self, raw: RawUpdate) -> Incoming:
        update_id = update_id_of(raw) or 0
        if self._platform == PLATFORM_BALE:
            raw = tolerate(raw)  # what Bale leaves out and the library requires
        try:
            update = Update.model_validate(raw, context={"bot": self._bot})
        except ValueError:  # pydantic's ValidationError: not an update this library can read
            log.warning("update %s could not be read", update_id)
            return unreadable(raw)
        return Incoming(update_id, event_from_update(update, self._platform), callback_id(update))
