"""The terminal chat (`eblagh shell`): every line is a citizen's message, `:` lines are directives.

Directives: `:contact PHONE [USER_ID]`, `:tap N`, `:user ID`, `:quit`. With standard input not a
terminal, each line is handled after the previous answer and every pushed notice have been sent.
What is pushed comes from the same delivery engine as on the messengers (bot/engine.py), in this
process and unpaced (a terminal has no rate limit), drained between lines.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from typing import TextIO

from bot.app import App
from bot.dispatch import dispatch
from bot.engine import Backends, build_engine
from bot.messengers.botapi import parse_command
from bot.messengers.console import PLATFORM, ConsoleMessenger
from handlers.events import ButtonTapped, Chat, CommandReceived, ContactShared, Event, TextReceived
from nlp.identifiers import normalize_mobile
from services.clock import sleep_or_stop
from services.delivery.ports import MemoryHeartbeats, MemoryLease, MemoryWorkQueue, UnlimitedBudget

FIRST_USER = 1001
SHELL_HELP = (
    "eblagh shell — هر خط یک پیام شهروند است. دستورها: "
    ":contact PHONE [USER_ID]  :tap N  :user ID  :quit"
)


class Shell:
    def __init__(self, app: App, out: TextIO) -> None:
        self._app = app
        self._console = ConsoleMessenger(out)
        self.user_id = FIRST_USER
        self._console.current_chat = FIRST_USER
        self._lock = asyncio.Lock()

        async def nothing() -> None:
            return None

        budget = UnlimitedBudget()
        backends = Backends(lambda _name: MemoryWorkQueue(), lambda _name, _rate, _chat: budget, MemoryLease(),
                            MemoryHeartbeats(grace=60.0), nothing)
        self._engine = build_engine(app.runtime, self._console, backends, clock=app.clock, wake=app.wake,
                                    budget=budget)

    @property
    def chat(self) -> Chat:
        # Private chats: the chat id is the user's id, as on Telegram and Bale.
        return Chat(PLATFORM, self.user_id, self.user_id)

    async def handle_line(self, line: str) -> bool:
        """Handle one input line; False when the shell should end."""
        line = line.rstrip("\r\n")
        if not line.strip():
            return True
        event: Event | None
        if line.startswith(":"):
            if line.strip() == ":quit":
                return False
            event = self._directive(line.strip())
        else:
            event = self._message(line)
        if event is not None:
            async with self._lock:
                response = await dispatch(self._app, event, self._console)
                if isinstance(event, ButtonTapped) and response.tap_answer:
                    self._console.note(response.tap_answer)
        await self.deliver_due()
        return True

    def _message(self, line: str) -> Event:
        # Read as Telegram and Bale read it, so the shell answers what the bot would.
        command = parse_command(line)
        if command is not None:
            return CommandReceived(self.chat, command[0], command[1])
        return TextReceived(self.chat, line)

    def _directive(self, line: str) -> Event | None:
        """The event a directive stands for, or None when it only changes the shell or is wrong."""
        name, _, rest = line[1:].partition(" ")
        args = rest.split()
        if name == "user" and len(args) == 1 and args[0].lstrip("-").isdigit():
            self.user_id = int(args[0])
            self._console.current_chat = self.user_id
            self._console.note(f"گفتگوی کاربر {self.user_id}")
            return None
        if name == "contact" and args:
            phone, owner = " ".join(args), self.user_id
            # `:contact PHONE USER_ID`, where the phone itself may be typed with spaces.
            if len(args) >= 2 and args[-1].isdigit() and normalize_mobile(" ".join(args[:-1])):
                phone, owner = " ".join(args[:-1]), int(args[-1])
            return ContactShared(self.chat, phone, owner)
        if name == "tap" and len(args) == 1 and args[0].isdigit():
            button = self._console.buttons.get(int(args[0]))
            if button is None:
                self._console.note(f"دکمه [{args[0]}] وجود ندارد")
                return None
            if button.data is None:
                self._console.note("برای این دکمه بنویسید: :contact شماره‌همراه")
                return None
            return ButtonTapped(self.chat, button.data, button.message_id)
        self._console.note(f"دستور نامعتبر: {line}   ({SHELL_HELP})")
        return None

    async def deliver_due(self) -> None:
        """Do the timed duties, then send everything due now, until nothing is left that can go now."""
        async with self._lock:
            await self._engine.run_jobs_once()
            await self._engine.drain()

    async def background_delivery(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        while not await sleep_or_stop(stop, interval):
            await self.deliver_due()


async def _terminal_lines(prompt: str) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while True:
        try:
            line = await loop.run_in_executor(None, input, prompt)
        except EOFError:
            return
        yield line


async def run_shell(app: App, *, out: TextIO = sys.stdout, source: TextIO = sys.stdin) -> int:
    shell = Shell(app, out)
    if not source.isatty():
        # Scripted: strictly in order, each line after the bot is done with the previous one.
        await shell.deliver_due()
        for line in source:
            if not await shell.handle_line(line):
                break
        return 0
    print(SHELL_HELP, file=out)
    print("برای شروع /start را بنویسید.", file=out)
    stop = asyncio.Event()
    pusher = asyncio.create_task(shell.background_delivery(stop))
    try:
        async for line in _terminal_lines("you> "):
            if not await shell.handle_line(line):
                break
    finally:
        stop.set()
        await pusher
    return 0
