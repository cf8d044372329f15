"""The terminal as a messenger: the same port, printing what a citizen would read.

Buttons are numbered across the whole session, [1], [2], ..., never reused, so a script can tap
any button it has seen (`:tap N`).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from typing import TextIO

from bot.messengers.fit import send_fitted
from services.messaging import OutgoingMessage, SentMessage

PLATFORM = "shell"


class _TextRenderer(HTMLParser):
    """Telegram HTML to plain text: tags dropped, entities decoded, links followed by their address."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            self.parts.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html_text: str) -> str:
    renderer = _TextRenderer()
    renderer.feed(html_text)
    renderer.close()
    return unescape("".join(renderer.parts)) if not renderer.parts else "".join(renderer.parts)


@dataclass(frozen=True)
class ShownButton:
    chat_id: int
    message_id: int
    data: str | None  # None for a request-contact button


class ConsoleMessenger:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.current_chat = 0
        self.buttons: dict[int, ShownButton] = {}
        self._next_button = 1
        self._next_message = 1

    @property
    def platform(self) -> str:
        return PLATFORM

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        """Print the message, in parts as a messenger would show it (bot/messengers/fit.py)."""
        return await send_fitted(lambda part: self._print(chat_id, part), message)

    async def _print(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        message_id = message.edit_message_id or self._next_message
        if message.edit_message_id is None:
            self._next_message += 1
        prefix = "bot> " if chat_id == self.current_chat else f"bot({chat_id})> "
        if message.edit_message_id is not None:
            prefix += "(ویرایش) "
        text = html_to_text(message.html).strip("\n")
        indent = " " * len("bot> ")
        first, *rest = text.split("\n")
        lines = [prefix + first] + [indent + line if line else "" for line in rest]
        for row in message.buttons:
            for button in row:
                lines.append(f"  [{self._register(ShownButton(chat_id, message_id, button.data))}] {button.label}")
        if message.request_contact:
            lines.append(f"  [{self._register(ShownButton(chat_id, message_id, None))}] {message.request_contact}"
                         "   (:contact شماره)")
        self._out.write("\n".join(lines) + "\n")
        self._out.flush()
        return SentMessage(message_id)

    def note(self, text: str) -> None:
        """A line that is not a bot message (tap answers, directive feedback)."""
        self._out.write(f"  · {text}\n")
        self._out.flush()

    def _register(self, button: ShownButton) -> int:
        number = self._next_button
        self._next_button += 1
        self.buttons[number] = button
        return number
