"""The conversation's side of the delivery engine: what an incoming message changes for outgoing ones."""

from __future__ import annotations

from services.clock import Clock
from storage import citizens, messages
from storage.database import Database


class Outgoing:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def chat_wrote_again(self, platform: str, chat_id: int) -> int | None:
        """A blocked chat that writes again is reachable: resume what was held back (the sweeper also
        queues the notices that came meanwhile).

        Returns the citizen the chat is bound to (None: not bound), read by the same query, so the
        conversation need not read the binding again in this update.
        """
        async with self._db.reading() as session:
            reach = await citizens.chat_reach(session, platform, chat_id)
        if reach.unreachable:  # rare: read first, write only then
            async with self._db.session() as session:
                if await citizens.mark_reachable(session, platform, chat_id):
                    await messages.requeue_blocked_for_chat(session, platform, chat_id, self._clock())
        return reach.citizen_id
