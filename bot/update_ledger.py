"""Which Bot API updates were already handled, so a restart or a redelivered update repeats nothing.

An update is marked after its replies went out: a crash between the two can repeat that one update
(at least once), never lose it. `DatabaseUpdateLedger` is the one-machine default; with REDIS_URL
the composition root uses storage.redis_updates.RedisUpdateLedger, which has the same shape.
"""

from __future__ import annotations

from typing import Protocol

from services.clock import Clock
from storage import updates
from storage.database import Database
from storage.updates import KEEP_MARKS


class UpdateLedger(Protocol):
    async def is_handled(self, update_id: int) -> bool: ...

    async def handled_among(self, update_ids: list[int]) -> set[int]:
        """The ones already handled, asked at once (a polled batch)."""
        ...

    async def mark_handled(self, update_id: int) -> None: ...


class DatabaseUpdateLedger:
    def __init__(self, db: Database, bot: str, clock: Clock) -> None:
        self._db = db
        self._bot = bot
        self._clock = clock

    async def is_handled(self, update_id: int) -> bool:
        async with self._db.session() as session:
            return await updates.is_handled(session, self._bot, update_id)

    async def handled_among(self, update_ids: list[int]) -> set[int]:
        async with self._db.session() as session:
            return await updates.handled_among(session, self._bot, update_ids)

    async def mark_handled(self, update_id: int) -> None:
        async with self._db.session() as session:
            await updates.mark_handled(session, self._bot, update_id, self._clock())

    async def forget_old(self) -> int:
        async with self._db.session() as session:
            return await updates.forget_before(session, self._clock() - KEEP_MARKS)
