"""Replies that outlast a 429 or a network hiccup: the conversation's sender in `eblagh run`.

`dispatch` drops a reply on any SendError; a citizen who just typed must still get the answer, so
the runner hands it this wrapper. A 429 pauses every send of the bot for the time asked (one shared
pause, as the Bot API's limit is per bot), transient errors retry with backoff, and an unreachable
chat (blocked) is reported once so its binding can be marked. Notices do not go through here: the
delivery engine has its own retry policy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.messengers.botapi import BotApiMessenger
from bot.messengers.fit import send_fitted
from services.messaging import OutgoingMessage, RetryAfter, SentMessage, Transient, Unreachable

log = logging.getLogger(__name__)

OnUnreachable = Callable[[int], Awaitable[None]]
T = TypeVar("T")


class PatientSender:
    def __init__(self, messenger: BotApiMessenger, *, on_unreachable: OnUnreachable | None = None,
                 max_wait: float = 60.0, transient_attempts: int = 4, backoff: float = 0.5) -> None:
        self._messenger = messenger
        self._on_unreachable = on_unreachable
        self._max_wait = max_wait
        self._attempts = transient_attempts
        self._backoff = backoff
        self._paused_until = 0.0

    @property
    def platform(self) -> str:
        return self._messenger.platform

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        # Each part of a long message is retried on its own, so a retry never repeats a part that arrived.
        return await send_fitted(
            lambda part: self._patiently(chat_id, lambda: self._messenger.send(chat_id, part)), message)

    async def answer_tap(self, callback_id: str, text: str = "") -> None:
        await self._patiently(None, lambda: self._messenger.answer_tap(callback_id, text))

    async def answer_pre_checkout(self, query_id: str, error_message: str | None) -> None:
        """At once, no patience: the messenger gives up on an answer after 10 seconds anyway."""
        await self._messenger.answer_pre_checkout(query_id, error_message)

    async def _patiently(self, chat_id: int | None, call: Callable[[], Awaitable[T]]) -> T:
        waited, failures = 0.0, 0
        while True:
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                waited += pause
                await asyncio.sleep(pause)
            try:
                return await call()
            except RetryAfter as error:
                if waited + error.seconds > self._max_wait:
                    raise
                self._paused_until = max(self._paused_until, time.monotonic() + error.seconds)
                log.info("rate limited for %.0fs; the reply waits", error.seconds)
            except Transient:
                failures += 1
                if failures >= self._attempts:
                    raise
                delay = self._backoff * 2 ** (failures - 1)
                waited += delay
                await asyncio.sleep(delay)
            except Unreachable:
                if chat_id is not None and self._on_unreachable is not None:
                    await self._on_unreachable(chat_id)
                raise
