"""Helpers for tests that drive the conversation: a wired app over a real database, a settable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import StringIO

from bot.app import App, build_app
from bot.dispatch import dispatch
from bot.engine import Backends, build_engine
from bot.messengers.console import ConsoleMessenger
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.answers import Understanding
from handlers.events import ButtonTapped, Chat, CommandReceived, ContactShared, Event, Response, TextReceived
from services.conversation.state import StateStore
from services.delivery.engine import DrainStats
from services.delivery.ports import MemoryHeartbeats, MemoryLease, MemoryWorkQueue, UnlimitedBudget
from services.messaging import ChatKind, MessageSender, OutgoingMessage, SentMessage
from services.privacy import Hasher
from storage.database import Database


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2025, 1, 25, 8, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


class RecordingSender:
    """The messenger boundary for service tests: accepts everything and remembers it."""

    def __init__(self, platform: str = "telegram") -> None:
        self._platform = platform
        self.sent: list[tuple[int, OutgoingMessage]] = []

    @property
    def platform(self) -> str:
        return self._platform

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        self.sent.append((chat_id, message))
        return SentMessage(len(self.sent))

    def to(self, chat_id: int) -> list[OutgoingMessage]:
        return [m for c, m in self.sent if c == chat_id]


def make_app(db: Database, secret: bytes, clock: Clock, model: Understanding | None = None,
             state: StateStore | None = None, **settings: object) -> App:
    runtime = Runtime(settings=Settings(_env_file=None, SECRET_KEY=secret.decode(), **settings),  # type: ignore[arg-type,call-arg]
                      database=db, hasher=Hasher(secret))
    return build_app(runtime, clock=clock, model=model, state=state)


@dataclass
class Citizen:
    """A person at a chat: sends events, reads what came back."""

    app: App
    sender: RecordingSender
    user_id: int
    chat_id: int | None = None  # None: the person's private chat (its id is theirs)
    kind: ChatKind = ChatKind.PRIVATE
    # True: after each event the delivery engine sends what became due (as the terminal chat does), and
    # what it sent to this chat is added to the response (a handoff's "forwarded" note, say).
    drains: bool = False

    @property
    def chat(self) -> Chat:
        return Chat(self.sender.platform, self.chat_id or self.user_id, self.user_id, self.kind)

    async def _go(self, event: Event) -> Response:
        response = await dispatch(self.app, event, self.sender)
        if self.drains:
            before = len(self.sender.sent)
            await deliver_due(self.app, self.sender)
            response.messages += [m for c, m in self.sender.sent[before:] if c == self.chat.chat_id]
        return response

    async def replies(self, text: str, to: int) -> Response:
        """A message in reply to message `to` (a staff member answering a forwarded question)."""
        return await self._go(TextReceived(self.chat, text, reply_to_message_id=to))

    async def command(self, name: str, args: str = "") -> Response:
        return await self._go(CommandReceived(self.chat, name, args))

    async def says(self, text: str) -> Response:
        return await self._go(TextReceived(self.chat, text))

    async def shares(self, phone: str, owner: int | None = None) -> Response:
        return await self._go(ContactShared(self.chat, phone, self.user_id if owner is None else owner))

    async def taps(self, data: str) -> Response:
        return await self._go(ButtonTapped(self.chat, data))

    def inbox(self) -> list[OutgoingMessage]:
        return self.sender.to(self.chat.chat_id)


def console() -> tuple[ConsoleMessenger, StringIO]:
    out = StringIO()
    return ConsoleMessenger(out), out


async def deliver_due(app: App, sender: MessageSender) -> DrainStats:
    """What the delivery engine of `eblagh run` sends now (notices, reminders, handoffs, notes), sent with
    this sender at once (unpaced), as the terminal chat drains it between lines."""

    async def nothing() -> None:
        return None

    budget = UnlimitedBudget()
    backends = Backends(lambda _name: MemoryWorkQueue(), lambda _name, _rate, _chat: budget, MemoryLease(),
                        MemoryHeartbeats(grace=60.0), nothing)
    return await build_engine(app.runtime, sender, backends, clock=app.clock, budget=budget).drain()
