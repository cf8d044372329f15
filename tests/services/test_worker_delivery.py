"""The delivery worker end to end: real Redis, SQLite and PostgreSQL, aiogram against the fake Bot API
with Telegram's limits enforced."""

from __future__ import annotations

from collections import Counter

import pytest
import redis.asyncio as redis
from sqlalchemy import func, select

from bot.messengers import build_messenger
from bot.runtime import Runtime
from services.broadcasts import Segment
from services.privacy import Hasher
from storage.database import Database
from storage.models import Citizen as CitizenRow
from storage.models import Message, Notice
from tests.botapi import FakeBotAPI, Faults, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import SECRET, broadcast, fleet, seed_subscribers, wait_finished, worker_settings
from tests.factories import create_case, create_ruling

CHATS = list(range(50_001, 50_121))  # 120 chats
BLOCKED = CHATS[::15]  # 8 of them blocked the bot


def runtime_for(db: Database, api: FakeBotAPI, redis_url: str | None, **settings: object) -> Runtime:
    values: dict[str, object] = {"BOT_TOKEN": api.token, "BOT_API_BASE": api.base_url, **settings}
    if redis_url:
        values["REDIS_URL"] = redis_url
    return Runtime(worker_settings(db, **values), db, Hasher(SECRET))


def assert_once_each(api: FakeBotAPI, chats: list[int], text: str) -> None:
    counts = Counter({chat: sum(1 for m in api.messages(chat) if m.text == text) for chat in chats})
    assert all(n == 1 for n in counts.values()), {c: n for c, n in counts.items() if n != 1}


@pytest.mark.redis
async def test_three_workers_deliver_a_broadcast_to_every_reachable_chat_once(db: Database, redis_url: str) -> None:
    await seed_subscribers(db, CHATS)
    limits = Limits(global_per_second=60, chat_per_second=1)
    async with FakeBotAPI(users=CHATS, blocked=BLOCKED, limits=limits) as api:
        runtime = runtime_for(db, api, redis_url, DELIVERY_RATE=60)
        sender = build_messenger(runtime.settings)
        service, broadcast_id = await broadcast(db, "خبر <مهم> & فوری")
        async with fleet(runtime, sender, ["w1", "w2", "w3"]) as running:
            progress = await wait_finished(service, broadcast_id)
            metrics = await running.halt()
        await sender.close()
        assert (progress.recipients, progress.sent, progress.blocked, progress.failed, progress.pending) == (
            120, 112, 8, 0, 0)
        assert api.stats()["rate_limited"] == 0, api.refused[:5]
        assert_once_each(api, [c for c in CHATS if c not in BLOCKED], "خبر <مهم> & فوری")
        assert sum(m.sent for m in metrics) == 112
        assert sum(1 for m in metrics if m.sent) >= 2  # the work was shared
        # The chats that blocked the bot are marked, so the next broadcast skips them.
        assert await service.count_recipients(Segment.parse("all")) == 112


@pytest.mark.redis
async def test_redis_wiped_mid_broadcast_every_reachable_chat_gets_it_once(db: Database, redis_url: str) -> None:
    chats = list(range(60_001, 60_201))
    blocked = chats[::20]
    await seed_subscribers(db, chats)
    async with FakeBotAPI(users=chats, blocked=blocked, limits=Limits(global_per_second=100, chat_per_second=1)) as api:
        runtime = runtime_for(db, api, redis_url, DELIVERY_RATE=100)
        sender = build_messenger(runtime.settings)
        service, broadcast_id = await broadcast(db, "پس از پاک شدن ردیس")
        async with fleet(runtime, sender, ["w1", "w2"]) as running:
            await api.wait_for_messages(chats[70], 1, timeout=20)  # about a third is out
            client = redis.Redis.from_url(redis_url)
            await client.flushdb()  # the queue, the group, the schedule: all gone
            await client.aclose()
            progress = await wait_finished(service, broadcast_id)
            await running.halt()
        await sender.close()
        assert (progress.sent, progress.blocked, progress.failed, progress.pending) == (190, 10, 0, 0)
        assert_once_each(api, [c for c in chats if c not in blocked], "پس از پاک شدن ردیس")
        assert api.stats()["rate_limited"] == 0


@pytest.mark.redis
async def test_bot_api_answering_5_percent_502s_everything_arrives_and_retries_are_recorded(
        db: Database, redis_url: str) -> None:
    chats = list(range(61_001, 61_201))
    await seed_subscribers(db, chats)
    async with FakeBotAPI(users=chats, faults=Faults(ratio=0.05, seed=7),
                          limits=Limits(global_per_second=100, chat_per_second=1)) as api:
        runtime = runtime_for(db, api, redis_url, DELIVERY_RATE=100)
        sender = build_messenger(runtime.settings)
        service, broadcast_id = await broadcast(db, "با خطای ۵۰۲")
        async with fleet(runtime, sender, ["w1", "w2", "w3"]) as running:
            progress = await wait_finished(service, broadcast_id)
            metrics = await running.halt()
        await sender.close()
        faults = api.statuses[502]
        assert faults > 0
        assert (progress.sent, progress.failed, progress.pending) == (200, 0, 0)
        assert_once_each(api, chats, "با خطای ۵۰۲")
        assert sum(m.retried for m in metrics) == faults
        async with db.session() as session:
            attempts = (await session.execute(select(func.sum(Message.attempts)))).scalar()  # type: ignore[deprecated]
        assert attempts == 200 + faults  # every 502 counted as an attempt on its row


@pytest.mark.redis
async def test_a_429_pauses_every_worker_and_costs_no_attempt(db: Database, redis_url: str) -> None:
    chats = list(range(62_001, 62_121))
    await seed_subscribers(db, chats)
    # The workers believe in 200/s; the messenger allows 40/s.
    async with FakeBotAPI(users=chats, limits=Limits(global_per_second=40, chat_per_second=1)) as api:
        runtime = runtime_for(db, api, redis_url, DELIVERY_RATE=200)
        sender = build_messenger(runtime.settings)
        service, broadcast_id = await broadcast(db, "محدودیت")
        async with fleet(runtime, sender, ["w1", "w2", "w3"]) as running:
            progress = await wait_finished(service, broadcast_id, within=90)
            metrics = await running.halt()
        await sender.close()
        assert api.stats()["rate_limited"] > 0
        assert sum(m.rate_limited for m in metrics) == api.stats()["rate_limited"]
        assert (progress.sent, progress.failed, progress.pending) == (120, 0, 0)
        assert_once_each(api, chats, "محدودیت")
        async with db.session() as session:
            attempts = (await session.execute(select(func.max(Message.attempts)))).scalar()  # type: ignore[deprecated]
        assert attempts == 1


async def test_without_redis_the_same_engine_runs_in_process(db: Database) -> None:
    """Notices (rows created by the sweeper from new rulings) and a broadcast, one process, no Redis."""
    chats = [63_001, 63_002]
    citizen_ids = await seed_subscribers(db, chats)
    async with db.session() as session:
        citizen = await session.get(CitizenRow, citizen_ids[0])
        assert citizen is not None
        case = await create_case(session, citizen)
        await create_ruling(session, case)
    async with FakeBotAPI(users=chats, limits=Limits(global_per_second=30, chat_per_second=1)) as api:
        runtime = runtime_for(db, api, None, DELIVERY_RATE=30)
        sender = build_messenger(runtime.settings)
        service, broadcast_id = await broadcast(db, "بی‌ردیس")
        async with fleet(runtime, sender, ["solo"]) as running:
            progress = await wait_finished(service, broadcast_id)
            await api.wait_for_messages(chats[0], 2, timeout=10)
            await running.halt()
        await sender.close()
        assert progress.sent == 2
        texts = [m.text or "" for m in api.messages(chats[0])]
        assert "بی‌ردیس" in texts and any("1403" in t or "۱۴۰۳" in t for t in texts)
        async with db.session() as session:
            notice = (await session.execute(select(Notice))).scalar_one()  # type: ignore[deprecated]
            delivery = (await session.execute(select(Message).where(Message.kind == "notice"))).scalar_one()  # type: ignore[deprecated]
        assert delivery.status == "sent" and notice.first_delivered_at is not None
