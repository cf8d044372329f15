"""One chat's updates handled one at a time and in update_id order, across tasks or processes.

Updates are submitted to their chat's queue; whoever drains the chat holds it and handles the queue
in order until it is empty, so a second update of a busy chat waits behind the first instead of
racing it. `MemoryChatLocks` serves one process; storage.redis_chat_lock.RedisChatLocks has the
same shape for several processes behind one webhook (REDIS_URL).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

# Called with (update_id, payload) for each queued update, in order, while the chat is held.
Handle = Callable[[int, str], Awaitable[None]]


class ChatLocks(Protocol):
    # True when submitted updates survive this process (another process or a restart can drain them).
    durable: bool
    # True when draining keeps the update ledger too: a handled update is skipped, a finished one marked.
    marks_handled: bool

    async def submit(self, chat: str, update_id: int, payload: str) -> bool:
        """Queue an update for its chat; False when that update is already queued."""
        ...

    async def drain(self, chat: str, handle: Handle) -> int:
        """Handle the chat's queue in order unless someone else holds the chat; returns how many.

        If `handle` raises, the update stays queued, the chat is released and the error propagates.
        """
        ...

    async def pending_chats(self) -> list[str]:
        """Chats with queued updates (to recover what a stopped holder left)."""
        ...


class MemoryChatLocks:
    """In one process: a queue per chat and a busy mark; the event loop makes each step atomic."""

    durable = False
    marks_handled = False

    def __init__(self) -> None:
        self._queues: dict[str, dict[int, str]] = {}
        self._busy: set[str] = set()

    async def submit(self, chat: str, update_id: int, payload: str) -> bool:
        queue = self._queues.setdefault(chat, {})
        if update_id in queue:
            return False
        queue[update_id] = payload
        return True

    async def drain(self, chat: str, handle: Handle) -> int:
        if chat in self._busy:
            return 0  # the holder's loop will reach what was just submitted
        self._busy.add(chat)
        handled = 0
        try:
            # No await between the emptiness check and the release: nothing slips in unseen.
            while queue := self._queues.get(chat):
                update_id = min(queue)
                await handle(update_id, queue[update_id])
                queue.pop(update_id, None)
                handled += 1
            self._queues.pop(chat, None)
        finally:
            self._busy.discard(chat)
        return handled

    async def pending_chats(self) -> list[str]:
        return [chat for chat, queue in self._queues.items() if queue and chat not in self._busy]
