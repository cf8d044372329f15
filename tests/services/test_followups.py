"""The follow-up context in the conversation state store: apart from the chat's step, in memory and on Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import redis.asyncio as redis

from services.conversation.followups import CaseContext, FollowUps
from services.conversation.state import ChatState, MemoryStateStore, StateStore, Step
from storage.redis_state import RedisStateStore
from tests.journey import Clock

STEP = ChatState(Step.AWAITING_CONTACT, {"nid_hash": "h", "nid_masked": "001****679"})


@pytest.fixture(params=["memory", "redis"])
def state_redis_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.fixture
async def client(state_redis_url: str | None) -> AsyncIterator[redis.Redis | None]:
    if state_redis_url is None:
        yield None
        return
    connection = redis.Redis.from_url(state_redis_url)
    yield connection
    await connection.aclose()


@pytest.fixture
def store(client: redis.Redis | None) -> StateStore:
    if client is None:
        return MemoryStateStore()
    return RedisStateStore[ChatState](client, decode=ChatState.from_mapping, encode=ChatState.to_mapping)


async def test_the_context_and_the_step_never_touch_each_other(store: StateStore, client: redis.Redis | None) -> None:
    clock = Clock()
    followups = FollowUps(store, clock)
    await store.save("telegram", 7, STEP)
    await followups.remember("telegram", 7, 3, case_number="1403051234", intent="fine_amount")
    assert await store.load("telegram", 7) == STEP
    # Saving another step (a login moving on) and clearing it (a login done) leave the context.
    await store.save("telegram", 7, ChatState(Step.AWAITING_NATIONAL_ID))
    await store.clear("telegram", 7)
    assert await followups.recall("telegram", 7, 3) == CaseContext(3, "1403051234", "fine_amount", clock.now)
    # Forgetting the context leaves a step alone.
    await store.save("telegram", 7, STEP)
    await followups.forget("telegram", 7)
    assert await followups.recall("telegram", 7, 3) is None
    assert await store.load("telegram", 7) == STEP
    if client is not None:
        await followups.remember("telegram", 7, 3, case_number="1403051234", intent="ruling")
        # Its own key, expiring with the follow-up window (the step keeps its own, longer expiry).
        assert 1700 < await client.ttl("eblagh:context:telegram:7") <= 1800
        assert await client.hgetall("eblagh:state:telegram:7") == {k.encode(): v.encode()
                                                                   for k, v in STEP.to_mapping().items()}


async def test_the_context_is_the_chats_citizens_and_lasts_thirty_minutes(store: StateStore) -> None:
    clock = Clock()
    followups = FollowUps(store, clock)
    await followups.remember("bale", 9, 3, case_number="1403051234", intent="payment")
    assert await followups.recall("bale", 9, None) is None  # the chat is no longer bound
    assert await followups.recall("bale", 9, 4) is None  # bound to someone else now
    assert await followups.recall("bale", 10, 3) is None  # another chat
    clock.advance(minutes=30)
    assert await followups.recall("bale", 9, 3) is not None
    clock.advance(seconds=1)
    assert await followups.recall("bale", 9, 3) is None


async def test_a_damaged_entry_is_forgotten(store: StateStore) -> None:
    for mapping in ({"citizen": "x", "at": "2025-01-25T08:00:00+00:00"}, {"citizen": "3", "at": "yesterday"},
                    {"citizen": "3", "at": "2025-01-25T08:00:00"}, {"case": "1403051234"}):
        await store.save_context("telegram", 1, mapping)
        assert await FollowUps(store, Clock()).recall("telegram", 1, 3) is None


def test_a_context_round_trips() -> None:
    at = datetime(2025, 1, 25, 8, 0, tzinfo=UTC) + timedelta(microseconds=5)
    for context in (CaseContext(3, "1403051234", "fine_amount", at), CaseContext(3, None, "hearing_date", at),
                    CaseContext(3, "1403051234", None, at)):
        assert CaseContext.from_mapping(context.to_mapping()) == context


async def test_a_free_text_message_reads_the_step_and_the_context_together(store: StateStore) -> None:
    clock = Clock()
    followups = FollowUps(store, clock)
    assert await store.load_with_context("telegram", 7) == (ChatState(), {})
    await store.save("telegram", 7, STEP)
    await followups.remember("telegram", 7, 3, case_number="1403051234", intent="fine_amount")
    state, context = await store.load_with_context("telegram", 7)
    assert state == STEP
    assert context == await store.load_context("telegram", 7)
    assert followups.recent(context, 3) == CaseContext(3, "1403051234", "fine_amount", clock.now)
    assert followups.recent(context, 4) is None  # the same checks as recall: another citizen's context
    await followups.forget("telegram", 7)
    assert await store.load_with_context("telegram", 7) == (STEP, {})


async def test_a_context_an_older_version_kept_as_a_hash_reads_as_none_until_written_again(
        store: StateStore, client: redis.Redis | None) -> None:
    if client is None:
        pytest.skip("a Redis layout")
    clock = Clock()
    followups = FollowUps(store, clock)
    old_layout = CaseContext(3, "1403051234", "ruling", clock.now).to_mapping()
    await client.hset("eblagh:context:telegram:8", mapping=old_layout)  # type: ignore[arg-type,misc]
    assert await followups.recall("telegram", 8, 3) is None
    assert await store.load_with_context("telegram", 8) == (ChatState(), {})
    await followups.remember("telegram", 8, 3, case_number="1403051234", intent="fine_amount")
    assert await followups.recall("telegram", 8, 3) == CaseContext(3, "1403051234", "fine_amount", clock.now)
