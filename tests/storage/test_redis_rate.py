"""The shared send budget on a real Redis: never over the rate, whoever asks, and a 429 pauses all."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as redis

from storage.redis_rate import RedisRateBudget, Reservation

pytestmark = pytest.mark.redis


async def test_several_consumers_never_exceed_the_rate_and_use_it(redis_url: str) -> None:
    rate, seconds = 40.0, 2.5
    clients = [redis.Redis.from_url(redis_url) for _ in range(3)]
    budgets = [RedisRateBudget(c, rate=rate, chat_rate=1000, platform="t", max_lead=0.5) for c in clients]
    slots: list[int] = []
    started = time.monotonic()

    async def consumer(budget: RedisRateBudget, chat_base: int) -> None:
        n = 0
        while time.monotonic() - started < seconds:
            reservation = await budget.reserve(chat_base + n)
            n += 1
            if reservation.reserved:
                slots.append(reservation.slot_us)
                await asyncio.sleep(reservation.delay)
            else:
                await asyncio.sleep(min(reservation.wait, 0.05))

    await asyncio.gather(*(consumer(b, 1_000_000 * (i + 1) + 10_000 * t)
                           for i, b in enumerate(budgets) for t in range(8)))
    for client in clients:
        await client.aclose()
    slots.sort()
    # Any one-second window holds at most `rate` slots (slots are on Redis' clock: exact).
    worst = max(sum(1 for s in slots[i:] if s < start + 1_000_000) for i, start in enumerate(slots))
    assert worst <= rate
    span = (slots[-1] - slots[0]) / 1_000_000
    assert len(slots) - 1 >= 0.95 * rate * span  # and the budget is used


async def _soon(budget: RedisRateBudget, chat_id: int, again: bool = False) -> Reservation:
    """Reserve, waiting while the schedule is full; a busy chat is an answer."""
    while True:
        reservation = await budget.reserve(chat_id, again=again)
        if reservation.reserved or reservation.chat_busy:
            return reservation
        await asyncio.sleep(reservation.wait)


async def test_a_chat_gets_its_own_slower_rate(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    budget = RedisRateBudget(client, rate=100, chat_rate=1, platform="t", max_lead=0.2)
    first = await _soon(budget, 7)
    second = await _soon(budget, 7)
    other = await _soon(budget, 8)
    again = await _soon(budget, 7, again=True)  # the first slot was given up unused
    await client.aclose()
    assert first.reserved and other.reserved and again.reserved
    assert not second.reserved and second.chat_busy
    assert 0.99 <= second.wait - first.delay <= 1.05  # one second after the chat's slot


async def test_a_429_pauses_every_worker(redis_url: str) -> None:
    one, two = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    first = RedisRateBudget(one, rate=100, chat_rate=10, platform="t", max_lead=0.05)
    second = RedisRateBudget(two, rate=100, chat_rate=10, platform="t", max_lead=0.05)
    assert (await first.reserve(1)).reserved
    await first.pause(0.6)
    waiting = await second.reserve(2)
    assert not waiting.reserved and not waiting.chat_busy and 0.4 < waiting.wait <= 0.6
    await asyncio.sleep(waiting.wait)
    after = await second.reserve(2)
    await one.aclose()
    await two.aclose()
    assert after.reserved and after.delay < 0.1


async def test_after_redis_lost_the_schedule_new_slots_start_after_any_outstanding(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    budget = RedisRateBudget(client, rate=100, chat_rate=10, platform="t", max_lead=0.5)
    await budget.reserve(1)
    await client.flushdb()
    fresh = await budget.reserve(2)
    await client.aclose()
    assert fresh.reserved and 0.45 <= fresh.delay <= 0.5
