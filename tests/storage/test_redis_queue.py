"""The delivery queue on real Redis Streams: no copies, a dead consumer's entries taken over, a wipe survived."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as redis

from storage.redis_queue import RedisWorkQueue

pytestmark = pytest.mark.redis


async def test_pushing_a_reference_twice_queues_it_once(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    queue = RedisWorkQueue(client, "telegram")
    assert await queue.push(["o:1", "o:1", "o:2"]) == 2
    assert await queue.missing(["o:1", "o:3"]) == ["o:3"]
    items = await queue.pull("a", 10, 10) or await queue.pull("a", 10, 10)  # the first creates the group
    assert [i.ref for i in items] == ["o:1", "o:2"]
    await queue.done(items)
    assert await queue.backlog() == 0 and await queue.missing(["o:1", "o:2"]) == ["o:1", "o:2"]
    await client.aclose()


async def test_a_crashed_consumers_entries_are_claimed_by_another(redis_url: str) -> None:
    crashed, alive = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    first, second = RedisWorkQueue(crashed, "telegram"), RedisWorkQueue(alive, "telegram")
    await first.pull("w1", 1, 10)
    await first.push(["d:1", "d:2", "d:3"])
    taken = await first.pull("w1", 10, 10)
    assert len(taken) == 3
    await crashed.aclose()  # w1 dies without acknowledging anything
    assert await second.pull("w2", 10, 10) == []
    assert await second.reclaim("w2", min_idle_ms=200, count=10) == []  # not idle long enough yet
    await asyncio.sleep(0.25)
    reclaimed = await second.reclaim("w2", min_idle_ms=200, count=10)
    assert sorted(i.ref for i in reclaimed) == ["d:1", "d:2", "d:3"]
    await second.done(reclaimed)
    assert await second.backlog() == 0
    await alive.aclose()


async def test_after_a_wipe_the_queue_recreates_itself_and_reports_everything_missing(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    queue = RedisWorkQueue(client, "telegram")
    await queue.pull("w1", 1, 10)
    await queue.push(["o:5", "o:6"])
    await client.flushdb()
    assert await queue.pull("w1", 10, 10) == []  # NOGROUP: recreated, empty
    assert await queue.missing(["o:5", "o:6"]) == ["o:5", "o:6"]
    assert await queue.push(["o:5", "o:6"]) == 2
    assert [i.ref for i in await queue.pull("w1", 10, 10)] == ["o:5", "o:6"]
    await client.aclose()
