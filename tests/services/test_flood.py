"""Flood counters and the guard's decisions, in memory and on a real Redis, with a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from services.conversation.flood import Admission, FloodGuard, MemoryWindowCounter, WindowCounter
from storage.redis_window import RedisWindowCounter
from tests.conftest import REDIS_TEST_URL, _require
from tests.journey import Clock

MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def counter(request: pytest.FixtureRequest) -> AsyncIterator[WindowCounter]:
    if request.param == "memory":
        yield MemoryWindowCounter()
        return
    # The `redis_url` fixture is async and cannot be asked for here; this does what it does.
    _require("127.0.0.1", 6379, "Redis")
    client = Redis.from_url(REDIS_TEST_URL)
    await client.flushdb()
    yield RedisWindowCounter(client)
    await client.flushdb()
    await client.aclose()


async def test_a_window_starts_at_the_first_event_and_lasts_its_length(counter: WindowCounter) -> None:
    clock = Clock()
    start = clock.now
    assert await counter.hit("k", clock.now, MINUTE) == (1, start)
    clock.advance(seconds=30)
    assert await counter.hit("k", clock.now, MINUTE) == (2, start)
    assert await counter.hit("other", clock.now, MINUTE) == (1, clock.now)  # keys are separate
    clock.advance(seconds=29.9)
    assert (await counter.hit("k", clock.now, MINUTE))[0] == 3
    clock.advance(seconds=0.1)  # exactly a minute after the first: a new window
    assert await counter.hit("k", clock.now, MINUTE) == (1, clock.now)


async def test_the_guard_warns_once_then_drops_until_the_minute_passes(counter: WindowCounter) -> None:
    clock = Clock()
    guard = FloodGuard(counter, clock, exempt_chat_id=-100)
    seen = [(await guard.admit("telegram", 5)).admission for _ in range(25)]
    assert seen == [Admission.PASS] * 20 + [Admission.WARN] + [Admission.DROP] * 4
    clock.advance(seconds=45)
    verdict = await guard.admit("telegram", 5)
    assert verdict.admission is Admission.DROP and verdict.seconds_left(clock.now) == 15
    assert (await guard.admit("bale", 5)).admission is Admission.PASS  # another messenger's chat 5
    clock.advance(seconds=15)
    assert (await guard.admit("telegram", 5)).admission is Admission.PASS
    # The staff chat is never held back.
    assert {(await guard.admit("telegram", -100)).admission for _ in range(50)} == {Admission.PASS}


async def test_an_unbound_chat_reaches_a_human_three_times_an_hour(counter: WindowCounter) -> None:
    clock = Clock()
    guard = FloodGuard(counter, clock)
    seen = []
    for _ in range(4):
        seen.append((await guard.reach_human("telegram", 9)).admission)
        clock.advance(minutes=10)
    assert seen == [Admission.PASS] * 3 + [Admission.DROP]
    verdict = await guard.reach_human("telegram", 9)
    assert verdict.admission is Admission.DROP and verdict.seconds_left(clock.now) == 20 * 60
    clock.advance(minutes=20)
    assert (await guard.reach_human("telegram", 9)).admission is Admission.PASS


@pytest.mark.redis
async def test_processes_on_one_redis_share_the_counts(redis_url: str) -> None:
    clock = Clock()
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    try:
        one = FloodGuard(RedisWindowCounter(first), clock)
        two = FloodGuard(RedisWindowCounter(second), clock)
        for _ in range(10):
            assert (await one.admit("telegram", 7)).admission is Admission.PASS
            assert (await two.admit("telegram", 7)).admission is Admission.PASS
        assert (await one.admit("telegram", 7)).admission is Admission.WARN
        assert (await two.admit("telegram", 7)).admission is Admission.DROP
        # Idle keys expire by themselves.
        keys = [key async for key in first.scan_iter("eblagh:window:*")]
        ttls = [await first.pttl(key) for key in keys]
        assert ttls and all(0 < ttl <= 120_000 for ttl in ttls)
    finally:
        await first.aclose()
        await second.aclose()


async def test_memory_counter_forgets_ended_windows_as_it_grows() -> None:
    clock = Clock()
    counter = MemoryWindowCounter(prune_at=100)
    for chat in range(100):
        await counter.hit(f"c{chat}", clock.now, MINUTE)
    clock.advance(minutes=2)
    await counter.hit("new", clock.now, MINUTE)
    assert len(counter._windows) == 1  # noqa: SLF001 - the size is the point
