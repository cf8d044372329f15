"""BotApiClient on aiogram: its Bot fetches updates and sets the webhook; its Update model parses."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiogram.exceptions import ClientDecodeError, TelegramAPIError
from aiogram.types import BotCommand, Update

from bot.messengers.aiogram_adapter import AiogramMessenger, callback_id, event_from_update
from bot.messengers.aiogram_adapter import _send_error as send_error
from bot.messengers.botapi import ALLOWED_UPDATES, REQUEST_TIMEOUT
from bot.messengers.updates import Incoming, RawUpdate, update_id_of

log = logging.getLogger(__name__)


class AiogramClient:
    def __init__(self, messenger: AiogramMessenger) -> None:
        self._bot = messenger.bot
        self._platform = messenger.platform

    async def get_updates(self, offset: int | None, long_poll: int) -> list[RawUpdate]:
        try:
            updates = await self._bot.get_updates(offset=offset, timeout=long_poll, allowed_updates=list(ALLOWED_UPDATES),
                                                  request_timeout=int(long_poll + REQUEST_TIMEOUT))
        except (TelegramAPIError, ClientDecodeError) as error:
            raise send_error(error) from error
        return [u.model_dump(mode="json", exclude_unset=True, by_alias=True) for u in updates]

    async def set_webhook(self, url: str, secret_token: str | None) -> None:
        try:
            await self._bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=list(ALLOWED_UPDATES))
        except (TelegramAPIError, ClientDecodeError) as error:
            raise send_error(error) from error

    async def delete_webhook(self) -> None:
        try:
            await self._bot.delete_webhook(drop_pending_updates=False)
        except (TelegramAPIError, ClientDecodeError) as error:
            raise send_error(error) from error

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        try:
            await self._bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands])
        except (TelegramAPIError, ClientDecodeError) as error:
            raise send_error(error) from error

    def parse(self, raw: RawUpdate) -> Incoming:
        update_id = update_id_of(raw) or 0
        try:
            update = Update.model_validate(raw, context={"bot": self._bot})
        except ValueError:  # pydantic's ValidationError: not an update this library can read
            log.warning("update %s could not be read", update_id)
            return Incoming(update_id, None)
        return Incoming(update_id, event_from_update(update, self._platform), callback_id(update))
