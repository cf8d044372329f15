"""BotApiClient on python-telegram-bot: its Bot fetches updates and sets the webhook; Update parses."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

from telegram import BotCommand, Update

from bot.messengers.bale_updates import tolerate
from bot.messengers.botapi import ALLOWED_UPDATES, PLATFORM_BALE, REQUEST_TIMEOUT
from bot.messengers.ptb_adapter import PtbMessenger, bot_api_errors, callback_id, event_from_update
from bot.messengers.updates import Incoming, RawUpdate, unreadable, update_id_of
from services.messaging import Transient

log = logging.getLogger(__name__)


class PtbClient:
    def __init__(self, messenger: PtbMessenger, allowed_updates: Sequence[str] = ALLOWED_UPDATES) -> None:
        self._bot = messenger.bot
        self._platform = messenger.platform
        self._allowed = list(allowed_updates)  # with pre_checkout_query when fines are paid in the chat

    async def get_updates(self, offset: int | None, long_poll: int) -> list[RawUpdate]:
        # Raw JSON, not Bot.get_updates: ptb raises on an update it cannot read, which would sink the
        # whole batch (and stop the poller); parse() reads each update on its own instead.
        params: dict[str, Any] = {"timeout": long_poll, "allowed_updates": self._allowed}
        if offset is not None:
            params["offset"] = offset
        with bot_api_errors(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "use Bot.get_updates instead"
            # The read timeout must outlast the long poll, or every quiet poll is a TimedOut.
            updates = await self._bot.do_api_request("getUpdates", api_kwargs=params,
                                                     read_timeout=long_poll + REQUEST_TIMEOUT)
        if not isinstance(updates, list) or not all(isinstance(u, dict) for u in updates):
            raise Transient(f"getUpdates answered {type(updates).__name__}, not a list of updates")
        return updates

    async def set_webhook(self, url: str, secret_token: str | None) -> None:
        with bot_api_errors():
            await self._bot.set_webhook(url=url, secret_token=secret_token, allowed_updates=self._allowed)

    async def delete_webhook(self) -> None:
        with bot_api_errors():
            await self._bot.delete_webhook(drop_pending_updates=False)

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None:
        with bot_api_errors():
            await self._bot.set_my_commands([BotCommand(c, d) for c, d in commands])

    def parse(self, raw: RawUpdate) -> Incoming:
        update_id = update_id_of(raw) or 0
        if self._platform == PLATFORM_BALE:
            raw = tolerate(raw)  # what Bale leaves out and the library requires
        try:
            update = Update.de_json(raw, self._bot)
        except (KeyError, TypeError, ValueError):
            log.warning("update %s could not be read", update_id)
            return unreadable(raw)
        return Incoming(update_id, event_from_update(update, self._platform), callback_id(update))
