"""The incoming half of a Bot API transport: fetching updates, webhooks, the commands menu, parsing.

Each framework module (aiogram_client, ptb_client) offers a `BotApiClient` over its own Bot and
Update types, so the runner's getUpdates loop, webhook server, dedupe and ordering are the same for
both and no library type leaves bot/messengers. Updates travel as the raw JSON the Bot API sent,
which is what a webhook receives and what a Redis queue can hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from handlers.events import Event

RawUpdate = dict[str, Any]


@dataclass(frozen=True)
class Incoming:
    """What an update means to eblagh: an event (None for kinds it ignores) and a tap to answer."""

    update_id: int
    event: Event | None
    callback_id: str | None = None


class BotApiClient(Protocol):
    async def get_updates(self, offset: int | None, long_poll: int) -> list[RawUpdate]:
        """Long poll; raises the messenger port's SendError kinds."""
        ...

    async def set_webhook(self, url: str, secret_token: str | None) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None: ...

    def parse(self, raw: RawUpdate) -> Incoming:
        """The update through the library's own model; unreadable updates become an empty Incoming."""
        ...


def update_id_of(raw: Any) -> int | None:
    value = raw.get("update_id") if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def unreadable(raw: RawUpdate) -> Incoming:
    """An update the library cannot read: no event, but a tap in it is still answered (its raw id)."""
    query = raw.get("callback_query")
    query_id = query.get("id") if isinstance(query, dict) else None
    return Incoming(update_id_of(raw) or 0, None, query_id if isinstance(query_id, str) and query_id else None)
