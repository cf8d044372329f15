"""Redis primitives of `eblagh run`: per-chat ordered queues with a lease, state, handled updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from storage.redis_chat_lock import RedisChatLocks
from storage.redis_state import RedisStateStore
from storage.redis_updates import RedisUpdateLedger

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    await connection.aclose()


async def test_two_processes_drain_one_chat_one_at_a_time_in_order(client: redis.Redis) -> None:
    one, two = RedisChatLocks(client), RedisChatLocks(client)  # two processes
    seen: list[int] = []
    busy = 0

    async def handle(update_id: int, payload: str) -> None:
        nonlocal busy
        assert busy == 0 and payload == f"p{update_id}"
        busy += 1
        await asyncio.sleep(0.005)
        seen.append(update_id)
        busy -= 1

    async def arrive(locks: RedisChatLocks, update_id: int) -> None:
        await locks.submit("telegram:1:42", update_id, f"p{update_id}")
        await locks.drain("telegram:1:42", handle)

    # Updates arrive in order, alternately at each process, each starting a drain at once.
    tasks = []
    for update_id in range(1, 21):
        tasks.append(asyncio.create_task(arrive(one if update_id % 2 else two, update_id)))
        await asyncio.sleep(0.001)
    await asyncio.gather(*tasks)
    assert seen == list(range(1, 21))
    assert await one.pending_chats() == [] and not await client.keys("eblagh:chat:*")


async def test_duplicates_are_dropped_and_a_failure_leaves_the_update_queued(client: redis.Redis) -> None:
    locks = RedisChatLocks(client)
    assert await locks.submit("c", 7, "x") and not await locks.submit("c", 7, "x")

    async def fail(update_id: int, payload: str) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await locks.drain("c", fail)
    assert await locks.pending_chats() == ["c"]
    handled: list[int] = []

    async def ok(update_id: int, payload: str) -> None:
        handled.append(update_id)

    assert await RedisChatLocks(client).drain("c", ok) == 1 and handled == [7]


async def test_a_dead_holders_chat_is_taken_over_after_its_lease(client: redis.Redis) -> None:
    dead = RedisChatLocks(client, lease_seconds=0.2)
    await dead.submit("c", 1, "x")
    await client.set("eblagh:chat:c:lock", "someone-who-died", px=200)  # held by a crashed process
    handled: list[int] = []

    async def ok(update_id: int, payload: str) -> None:
        handled.append(update_id)

    alive = RedisChatLocks(client)
    assert await alive.drain("c", ok) == 0 and await alive.pending_chats() == ["c"]
    await asyncio.sleep(0.3)
    assert await alive.drain("c", ok) == 1 and handled == [1]


async def test_state_and_handled_marks(client: redis.Redis) -> None:
    from services.conversation.state import ChatState, Step

    store = RedisStateStore[ChatState](client, decode=ChatState.from_mapping, encode=ChatState.to_mapping,
                                       ttl_seconds=60)
    assert (await store.load("bale", 5)).step is Step.IDLE
    await store.save("bale", 5, ChatState(Step.AWAITING_CONTACT, {"nid_hash": "h", "nid_masked": "001****679"}))
    await store.save("bale", 5, ChatState(Step.AWAITING_NATIONAL_ID))  # replaces, nothing lingers
    assert await store.load("bale", 5) == ChatState(Step.AWAITING_NATIONAL_ID)
    assert 0 < await client.ttl("eblagh:state:bale:5") <= 60
    await store.clear("bale", 5)
    assert (await store.load("bale", 5)).step is Step.IDLE

    ledger = RedisUpdateLedger(client, "bale:1")
    assert not await ledger.is_handled(9)
    await ledger.mark_handled(9)
    assert await ledger.is_handled(9) and not await RedisUpdateLedger(client, "telegram:1").is_handled(9)
    assert await ledger.handled_among([8, 9, 10]) == {9}
    assert await RedisUpdateLedger(client, "telegram:1").handled_among([9]) == set()


async def test_a_drain_that_keeps_the_ledger_skips_what_was_handled_and_marks_what_it_finishes(
        client: redis.Redis) -> None:
    ledger = RedisUpdateLedger(client, "bale:1")
    locks = RedisChatLocks(client, ledger=ledger)
    assert locks.marks_handled and not RedisChatLocks(client).marks_handled
    for update_id in (1, 2, 3):
        await locks.submit("bale:1:5", update_id, f"u{update_id}")
    # 2 was handled by a holder that died before dropping it from the queue.
    await ledger.mark_handled(2)
    handled: list[int] = []
    marked_before_next: list[bool] = []

    async def handle(update_id: int, payload: str) -> None:
        marked_before_next.append(await ledger.is_handled(update_id))
        handled.append(update_id)
        if update_id == 3:
            raise RuntimeError("3 fails: it stays queued and unmarked")

    with pytest.raises(RuntimeError):
        await locks.drain("bale:1:5", handle)
    assert handled == [1, 3] and marked_before_next == [False, False]
    assert await ledger.handled_among([1, 2, 3]) == {1, 2}
    assert await locks.pending_chats() == ["bale:1:5"]
    # The next drain takes 3 again, and marks it once it is done.
    assert await locks.drain("bale:1:5", lambda update_id, payload: _noted(handled, update_id)) == 1
    assert handled == [1, 3, 3] and await ledger.is_handled(3)
    assert await locks.pending_chats() == []


async def _noted(handled: list[int], update_id: int) -> None:
    handled.append(update_id)
