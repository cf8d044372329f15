"""Helpers for the `eblagh run` contract: a runner in-process against the fake Bot API, and a citizen.

`running(...)` starts `bot.runner.run_bot` with settings pointing at a FakeBotAPI (polling, or a
webhook on a free loopback port) and stops it like SIGTERM would, asserting exit status 0.
"""

from __future__ import annotations

import asyncio
import html
import re
import socket
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bot.engine import EngineOptions
from bot.messengers.bale_text import visible
from bot.runner import RunOptions, run_bot
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.callbacks import Action
from handlers.conversation import Plugin
from handlers.events import Chat, CommandReceived, Response, TextReceived
from services.clock import Clock, system_clock
from services.messaging import OutgoingMessage
from services.privacy import Hasher
from storage.database import Database
from tests.botapi import FakeBotAPI
from tests.botapi.records import ChatMessage

FAST = RunOptions(poll_timeout=1, sweep_interval=0.3,
                  engine=EngineOptions(sweep_interval=0.1, duty_interval=0.5, reconcile_interval=0.5))
WEBHOOK_SECRET = "contract-secret_0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def plain(markup: str) -> str:
    """What a citizen reads of an HTML text."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def settings_for(api: FakeBotAPI, secret: bytes, *, framework: str, mode: str, platform: str | None = None,
                 redis_url: str | None = None, port: int | None = None, webhook_url: str | None = None,
                 **extra: Any) -> Settings:
    """Settings for `eblagh run` against the fake, on the fake's platform unless told otherwise."""
    values: dict[str, Any] = dict(SECRET_KEY=secret.decode(), BOT_TOKEN=api.token, BOT_API_BASE=api.base_url,
                                  BOT_FRAMEWORK=framework, PLATFORM=platform or api.platform,
                                  REDIS_URL=redis_url, **extra)
    if mode == "webhook":
        port = port or free_port()
        values.update(WEBHOOK_URL=webhook_url or f"http://127.0.0.1:{port}/hook",
                      WEBHOOK_LISTEN=f"127.0.0.1:{port}", WEBHOOK_SECRET=WEBHOOK_SECRET)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def running(settings: Settings, db: Database, secret: bytes, *, model: Any = None,
                  plugins: Sequence[Plugin] = (), options: RunOptions = FAST,
                  clock: Clock = system_clock) -> AsyncIterator[asyncio.Task[int]]:
    runtime = Runtime(settings=settings, database=db, hasher=Hasher(secret))
    stop = asyncio.Event()
    task = asyncio.create_task(run_bot(runtime, stop=stop, model=model, options=options, plugins=plugins,
                                       clock=clock))
    try:
        if settings.webhook_url:
            await until(lambda: task.done() or _listening(settings.webhook_listen), what="webhook server")
        yield task
    finally:
        stop.set()
        status = await asyncio.wait_for(task, 20)
    assert status == 0


def _listening(listen: str) -> bool:
    host, _, port = listen.rpartition(":")
    with socket.socket() as probe:
        return probe.connect_ex((host, int(port))) == 0


async def until(check: Callable[[], Any], *, timeout: float = 8.0, what: str = "condition") -> Any:  # noqa: ASYNC109 - part of the assertion
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout}s")
        await asyncio.sleep(0.02)


@dataclass
class Person:
    """A citizen at a private chat on the fake Bot API."""

    api: FakeBotAPI
    user_id: int
    seen: int = 0

    def __post_init__(self) -> None:
        self.api.add_user(self.user_id)

    @property
    def inbox(self) -> list[ChatMessage]:
        return self.api.messages(self.user_id)

    def shown(self, message: ChatMessage) -> str:
        """What the citizen reads: Telegram's text, or Bale's without its bold markers and joiners."""
        text = message.text or ""
        return visible(text) if self.api.platform == "bale" else text

    async def expect(self, text: str, *, timeout: float = 8.0) -> ChatMessage:  # noqa: ASYNC109
        """The first message after those already seen whose text contains `text`."""
        def find() -> ChatMessage | None:
            for index, message in enumerate(self.inbox[self.seen:], start=self.seen):
                if text in self.shown(message):
                    self.seen = index + 1
                    return message
            return None
        try:
            found: ChatMessage = await until(find, timeout=timeout, what=f"message with {text!r}")
        except TimeoutError:
            raise TimeoutError(f"chat {self.user_id}: no {text!r} in {[m.text for m in self.inbox]}") from None
        return found

    async def tap(self, message: ChatMessage, data: str, *, check: bool = True) -> str:
        """Tap and wait for the answer; returns the answer's text."""
        query_id = self.api.tap(self.user_id, message.message_id, data, check=check)
        query = await until(lambda: self.api.callbacks[query_id] if self.api.callbacks[query_id].answered else None,
                            what="answer to the tap")
        return str(query.answer_text or "")

    def button(self, message: ChatMessage, action: Action) -> str:
        for row in message.buttons:
            for _label, data in row:
                if data.split(":", 1)[0] == action.value:
                    return str(data)
        raise LookupError(f"no {action} button on {message.text!r}")


@dataclass
class Echo:
    """A plugin that answers `echo N` to text `N`, slowly, and records when each chat was busy."""

    delay: float = 0.05
    busy: dict[int, int] = field(default_factory=dict)
    overlaps: list[int] = field(default_factory=list)
    order: list[tuple[int, str]] = field(default_factory=list)

    async def command(self, event: CommandReceived) -> Response | None:
        return None

    async def text(self, event: TextReceived) -> Response | None:
        if not event.text.startswith("n"):
            return None
        chat = event.chat.chat_id
        if self.busy.get(chat):
            self.overlaps.append(chat)
        self.busy[chat] = self.busy.get(chat, 0) + 1
        self.order.append((chat, event.text))
        await asyncio.sleep(self.delay)
        self.busy[chat] -= 1
        return Response([OutgoingMessage(f"echo {event.text}")])

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None:
        return None
