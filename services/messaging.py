"""The outgoing side of the messenger port: what eblagh sends, and how sending can fail.

Framework-free. An adapter in `bot/messengers/` turns an `OutgoingMessage` into Bot API calls and
maps the transport's errors onto the four `SendError` kinds below, which the delivery engine and
the conversation understand without knowing which library or messenger is underneath.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

# Telegram and Bale refuse callback data over 64 bytes and texts over 4096 characters.
CALLBACK_DATA_LIMIT = 64
TEXT_LIMIT = 4096


class ChatKind(StrEnum):
    """A chat's type as the Bot API names it. Only a private chat is one person's own."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"

    @classmethod
    def of(cls, value: object) -> ChatKind:
        """The kind for a Bot API `chat.type`; anything unknown counts as shared, never as private."""
        try:
            return cls(str(getattr(value, "value", value)))
        except ValueError:
            return cls.GROUP


@dataclass(frozen=True)
class Button:
    """An inline button; `data` comes back in a tap and must never be trusted."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(f"callback data over {CALLBACK_DATA_LIMIT} bytes: {self.data!r}")


@dataclass(frozen=True)
class Invoice:
    """An invoice (sendInvoice) instead of a text: one price line, in `currency`'s own units.

    On Bale the currency is IRR and the amount is in Rials (see docs/bale.md "Payments"). `payload`
    comes back in pre_checkout_query and successful_payment and must never be trusted.
    """

    title: str
    description: str
    payload: str
    label: str
    amount: int
    currency: str = "IRR"


@dataclass(frozen=True)
class OutgoingMessage:
    """One message in HTML (`<b>`, `<i>`, `<code>`, `<a>`), every dynamic part escaped by its author.

    `request_contact` is the label of a reply-keyboard button that shares the citizen's own contact;
    `remove_keyboard` takes such a keyboard away; `edit_message_id` edits an earlier message instead;
    `invoice` sends an invoice (sendInvoice) and `html` is then only what a terminal shows.
    """

    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    request_contact: str | None = None
    remove_keyboard: bool = False
    edit_message_id: int | None = None
    invoice: Invoice | None = None


@dataclass(frozen=True)
class SentMessage:
    """What the messenger accepted: `message_ids` holds every part of a message sent in several."""

    message_id: int
    message_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.message_ids:
            object.__setattr__(self, "message_ids", (self.message_id,))


class SendError(Exception):
    """Base of the four kinds of failure every adapter maps its errors to."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        # The parts of a long message that did arrive before this failure (see bot/messengers/fit.py).
        self.sent_message_ids: tuple[int, ...] = ()


class RetryAfter(SendError):
    """429: the whole bot must wait `seconds` before sending again."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"retry after {seconds}s")
        self.seconds = seconds


class Unreachable(SendError):
    """403 and friends: the citizen blocked the bot or the chat is gone."""


class Permanent(SendError):
    """400: the request itself is wrong; sending it again cannot help."""


class Transient(SendError):
    """Network trouble or 5xx: worth another try later."""


class Undelivered(StrEnum):
    """Why a message for another chat (a question to staff, an answer to a citizen) did not arrive."""

    BLOCKED = "blocked"  # the person blocked the bot
    GONE = "gone"  # the chat does not exist for the bot (never started, deleted, unknown)
    REFUSED = "refused"  # the messenger refused the message itself
    TEMPORARY = "temporary"  # network trouble, 5xx or 429 that outlasted the sender's retries
    ELSEWHERE = "elsewhere"  # the chat is on another messenger than the one answering


def undelivered(error: SendError) -> Undelivered:
    if isinstance(error, Unreachable):
        return Undelivered.BLOCKED if "blocked" in error.detail.lower() else Undelivered.GONE
    if isinstance(error, Permanent):
        return Undelivered.REFUSED
    return Undelivered.TEMPORARY


class MessageSender(Protocol):
    """What the delivery engine and the runners need from a messenger."""

    @property
    def platform(self) -> str: ...

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage: ...

