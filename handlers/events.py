"""The incoming side of the messenger port: the project's own small event types.

Adapters build these from aiogram / python-telegram-bot updates or from terminal lines; the
conversation never sees a transport type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.messaging import OutgoingMessage


@dataclass(frozen=True)
class Chat:
    """Where an event came from: the messenger, the chat and the person who acted."""

    platform: str
    chat_id: int
    user_id: int


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


Event = TextReceived | CommandReceived | ContactShared | ButtonTapped


@dataclass
class Response:
    """What the conversation answers: messages to this chat, and the answer to a tap.

    `tap_answer` is the short text of answerCallbackQuery; every tap gets one (empty string when
    there is nothing to say). `others` carries messages for other chats (the staff chat, a citizen
    a staff member replied to).
    """

    messages: list[OutgoingMessage] = field(default_factory=list)
    tap_answer: str | None = None
    others: list[tuple[str, int, OutgoingMessage]] = field(default_factory=list)
    # A question for a human: (handoff id, message) to send to the staff chat and remember.
    to_staff: tuple[int, OutgoingMessage] | None = None
