"""What the fake Bot API remembers: messages in chats (with their edits), callback queries, refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Edit:
    """An earlier version of a message, kept when the bot edits it."""

    text: str
    html: str | None
    reply_markup: dict[str, Any] | None
    at: float


@dataclass
class ChatMessage:
    """A message in a chat, as the citizen sees it (`text`) and as the bot sent it (`html`)."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    html: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    link_preview_disabled: bool | None = None
    contact: dict[str, Any] | None = None
    edits: list[Edit] = field(default_factory=list)
    edit_date: int | None = None
    # In a group: who wrote it (None: the private chat's own person, chat_id == user id).
    from_user: int | None = None
    # A copy of a bot message a member forwarded here; it keeps its inline buttons.
    forwarded_from_bot: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # more Message fields (e.g. a forward's)

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """Inline buttons as (label, callback_data) rows."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [[(b["text"], b.get("callback_data", "")) for b in row] for row in self.reply_markup["inline_keyboard"]]

    @property
    def requests_contact(self) -> bool:
        rows = (self.reply_markup or {}).get("keyboard", [])
        return any(isinstance(b, dict) and b.get("request_contact") for row in rows for b in row)

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id, "chat_id": self.chat_id, "from_bot": self.from_bot,
            "date": self.date, "text": self.text, "html": self.html, "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup, "reply_to_message_id": self.reply_to_message_id,
            "link_preview_disabled": self.link_preview_disabled, "contact": self.contact,
            "edits": [{"text": e.text, "html": e.html, "reply_markup": e.reply_markup} for e in self.edits],
            "from_user": self.from_user, "forwarded_from_bot": self.forwarded_from_bot,
        }


@dataclass
class CallbackQuery:
    id: str
    chat_id: int
    message_id: int
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass(frozen=True)
class Refused:
    """A request the server answered with ok=false."""

    method: str
    status: int
    description: str
    chat_id: int | None
    at: float
