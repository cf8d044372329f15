"""The delivery worker end to end: real Redis, SQLite and PostgreSQL, aiogram against the fake Bot API
with Telegram's limits enforced."""

from __future__ import annotations

from collections import Counter

import pytest
import redis.asyncio as redis

from bot.messengers import build_messenger
from bot.runtime import Runtime
from services.privacy import Hasher
from storage.database import Database
from tests.botapi import FakeBotAPI, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import SECRET, broadcast, fleet, seed_subscribers, wait_finished, worker_settings

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
        assert await service.count_recipients(__import__("services.broadcasts").broadcasts.Segment.parse("all")) == 112
