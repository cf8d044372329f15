"""The incoming side of the messenger port: the project's own small event types.

Adapters build these from aiogram / python-telegram-bot updates or from terminal lines; the
conversation never sees a transport type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.messaging import ChatKind, OutgoingMessage


@dataclass(frozen=True)
class Chat:
    """Where an event came from: the messenger, the chat, the person who acted, and the chat's kind.

    `kind` defaults to private: the terminal chat is always one person's own. Only a private chat
    may authenticate, see a citizen's data or open a notice.
    """

    platform: str
    chat_id: int
    user_id: int
    kind: ChatKind = ChatKind.PRIVATE

    @property
    def private(self) -> bool:
        return self.kind is ChatKind.PRIVATE


@dataclass(frozen=True)
class TextReceived:
    chat: Chat
    text: str
    message_id: int | None = None
    reply_to_message_id: int | None = None


@dataclass(frozen=True)
class CommandReceived:
    """`/name args`; the adapter strips the slash and any @botname."""

    chat: Chat
    name: str
    args: str = ""
    message_id: int | None = None


@dataclass(frozen=True)
class ContactShared:
    """A shared contact; `contact_user_id` is None when the contact is not a messenger user (or, on
    Bale, when the server leaves it out). `forwarded`: the message was forwarded, not sent by the
    sender; `private`: it came in the bot's private chat with the sender."""

    chat: Chat
    phone: str
    contact_user_id: int | None
    message_id: int | None = None
    forwarded: bool = False
    private: bool = True


@dataclass(frozen=True)
class ButtonTapped:
    chat: Chat
    data: str
    message_id: int | None = None


@dataclass(frozen=True)
class PreCheckout:
    """pre_checkout_query: the citizen confirmed an invoice; it must be answered within 10 seconds."""

    chat: Chat  # the payer's private chat (chat_id == user_id)
    query_id: str
    payload: str
    currency: str
    total_amount: int


@dataclass(frozen=True)
class PaymentSucceeded:
    """A message with successful_payment. `transaction_id` is what inquireTransaction takes."""

    chat: Chat
    payload: str
    currency: str
    total_amount: int
    transaction_id: str
    tracking_code: str
    message_id: int | None = None


Event = TextReceived | CommandReceived | ContactShared | ButtonTapped | PreCheckout | PaymentSucceeded


@dataclass
class Response:
    """What the conversation answers: messages to this chat, and the answer to a tap.

    `tap_answer` is the short text of answerCallbackQuery; every tap gets one (empty string when
    there is nothing to say). `others` carries messages for other chats (an invoice to the payer's own
    chat); messages whose writer must hear whether they arrived (handoffs to and from staff) are queued
    on the delivery engine by the services instead.
    """

    messages: list[OutgoingMessage] = field(default_factory=list)
    tap_answer: str | None = None
    others: list[tuple[str, int, OutgoingMessage]] = field(default_factory=list)
