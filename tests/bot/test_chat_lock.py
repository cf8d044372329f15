"""Per-chat ordering in one process, and the handled-update ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.chat_lock import MemoryChatLocks
from bot.update_ledger import KEEP_MARKS, DatabaseUpdateLedger
from storage.database import Database
from tests.journey import Clock


async def test_a_chat_is_drained_in_update_order_by_one_holder() -> None:
    locks = MemoryChatLocks()
    seen: list[int] = []
    busy = 0

    async def handle(update_id: int, payload: str) -> None:
        nonlocal busy
        assert busy == 0
        busy += 1
        await asyncio.sleep(0.01)
        seen.append(update_id)
        busy -= 1

    for update_id in (5, 3, 4):
        assert await locks.submit("c", update_id, "{}")
    assert not await locks.submit("c", 4, "{}")  # already queued
    first = asyncio.create_task(locks.drain("c", handle))
    await asyncio.sleep(0)
    assert await locks.drain("c", handle) == 0  # held: the holder will reach it
    await locks.submit("c", 9, "{}")
    assert await first == 4
    assert seen == [3, 4, 5, 9] and await locks.pending_chats() == []


async def test_a_failed_update_stays_queued_and_the_chat_is_released() -> None:
    locks = MemoryChatLocks()

    async def fail(update_id: int, payload: str) -> None:
        raise RuntimeError("database down")

    await locks.submit("c", 1, "{}")
    with pytest.raises(RuntimeError):
        await locks.drain("c", fail)
    assert await locks.pending_chats() == ["c"]
    handled: list[int] = []

    async def ok(update_id: int, payload: str) -> None:
        handled.append(update_id)

    assert await locks.drain("c", ok) == 1 and handled == [1]


async def test_the_ledger_marks_once_per_bot_and_forgets_old_marks(db: Database) -> None:
    clock = Clock()
    telegram, bale = DatabaseUpdateLedger(db, "telegram:1", clock), DatabaseUpdateLedger(db, "bale:1", clock)
    assert not await telegram.is_handled(700)
    await telegram.mark_handled(700)
    await telegram.mark_handled(700)  # idempotent
    assert await telegram.is_handled(700) and not await bale.is_handled(700)
    clock.advance(seconds=KEEP_MARKS.total_seconds() + timedelta(hours=1).total_seconds())
    assert await telegram.forget_old() == 1
    assert not await telegram.is_handled(700)
