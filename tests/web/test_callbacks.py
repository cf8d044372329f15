"""Callbacks, the delivery engine's callback lane, to a real local HTTP receiver (aiohttp on 127.0.0.1):
retries, signatures, a worker stopping mid-way, give-up, the lane's own schedule."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlmodel import select
from standardwebhooks import Webhook as Verifier

from services.callbacks import RetrySchedule
from services.privacy import Hasher
from storage import citizens, messages
from storage.database import Database
from storage.models import AuditEvent, LaneName, Message
from tests.factories import create_citizen
from tests.web.api_kit import api_kit
from tests.web.callback_kit import CallbackEngine


@dataclass
class Receiver:
    url: str
    answers: list[int]  # status codes to answer, in order; then 200
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@asynccontextmanager
async def receiver(answers: list[int]) -> AsyncIterator[Receiver]:
    box = Receiver("", list(answers))

    async def handle(request: web.Request) -> web.Response:
        box.seen.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
        return web.Response(status=box.answers.pop(0) if box.answers else 200)

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    box.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield box
    finally:
        await runner.cleanup()


async def _bind(db: Database, secret: bytes, chat_id: int = 5001) -> None:
    """A citizen logs in on a chat: a citizen.bound event."""
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret))
        await citizens.bind_chat(session, citizen.id or 0, "telegram", chat_id, chat_id, datetime.now(UTC))


async def _until(check, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_failing_twice_then_ok_signed_and_a_restart_loses_nothing(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit, receiver([503, 503]) as hook:
        made = await kit.client.post("/v1/webhooks", json={"url": hook.url, "events": ["citizen.bound"]},
                                     headers=kit.auth("read"))
        assert made.status_code == 201, made.text
        webhook_secret, webhook_id = made.json()["secret"], made.json()["id"]
        assert webhook_secret.startswith("whsec_")
        assert "secret" not in (await kit.client.get("/v1/webhooks", headers=kit.auth("read"))).json()["webhooks"][0]
        await _bind(db, secret)
        async with db.session() as session:  # queued with its event, a message of the callback lane
            queued = (await session.exec(select(Message).where(Message.lane == LaneName.CALLBACK.value))).all()
        assert [(m.kind, m.platform, m.chat_id, m.status) for m in queued] == [
            ("callback", "http", webhook_id, "queued")]

        slow = RetrySchedule(delays=(1.0,), then_every=0.05, jitter=0.0)
        first = CallbackEngine(db, lambda: datetime.now(UTC), schedule=slow, name="worker-1")
        assert (await first.run_once()).retried == 1  # attempt 1: 503
        await first.close()
        # A worker stops holding a claim (attempt 2 in flight): nothing comes back from it.
        await asyncio.sleep(1.05)
        async with db.session() as session:
            abandoned = await messages.claim(session, [queued[0].id or 0], datetime.now(UTC), "worker-gone")
        assert len(abandoned) == 1
        # Another worker: the stopped one's claim returns to the queue once its heartbeat is missed;
        # 503 again, then 200.
        second = CallbackEngine(db, lambda: datetime.now(UTC), name="worker-2")
        stop = asyncio.Event()
        task = asyncio.create_task(second.engine.run(stop))

        async def listed() -> bool:
            found = (await kit.client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=kit.auth("read"))).json()
            return bool(found["deliveries"]) and found["deliveries"][0]["status"] == "sent"

        await _until(listed)
        stop.set()
        await task
        await second.close()
        deliveries = (await kit.client.get(f"/v1/webhooks/{webhook_id}/deliveries",
                                           headers=kit.auth("read"))).json()["deliveries"]

    assert len(hook.seen) == 3
    assert len(deliveries) == 1 and [a["status_code"] for a in deliveries[0]["attempt_log"]] == [503, 503, 200]
    assert [a["outcome"] for a in deliveries[0]["attempt_log"]] == ["retry", "retry", "ok"]
    assert deliveries[0]["last_status_code"] == 200 and deliveries[0]["attempts"] == 3
    headers, body = hook.seen[-1]
    event = Verifier(webhook_secret).verify(body, headers)  # raises if the signature is wrong
    assert event["type"] == "citizen.bound" and headers["webhook-id"] == f"evt_{event['id']}"
    assert headers["webhook-signature"].startswith("v1,")
    assert len({h["webhook-id"] for h, _ in hook.seen}) == 1  # one message id across retries: receivers dedupe
    assert json.loads(body) == deliveries[0]["event"]


async def test_a_4xx_is_final_and_replay_sends_again(db: Database, secret: bytes) -> None:
    async with api_kit(db, secret) as kit, receiver([410]) as hook:
        made = (await kit.client.post("/v1/webhooks", json={"url": hook.url, "events": ["citizen.bound"]},
                                      headers=kit.auth("read"))).json()
        await _bind(db, secret)
        runner = CallbackEngine(db, lambda: datetime.now(UTC))
        assert (await runner.run_once()).failed == 1
        await asyncio.sleep(0.1)
        assert (await runner.run_once()).sent == 0  # never retried
        listed = (await kit.client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=kit.auth("read"))).json()
        delivery = listed["deliveries"][0]
        assert delivery["status"] == "failed" and delivery["last_status_code"] == 410
        replay = await kit.client.post(f"/v1/webhooks/{made['id']}/deliveries/{delivery['id']}/replay",
                                       headers=kit.auth("read"))
        assert replay.status_code == 202
        assert (await runner.run_once()).sent == 1
        assert len(hook.seen) == 2
        other = await kit.client.post(f"/v1/webhooks/{made['id']}/deliveries/999999/replay", headers=kit.auth("read"))
        assert other.status_code == 404
        # another key sees none of it
        assert (await kit.client.get(f"/v1/webhooks/{made['id']}/deliveries", headers=kit.auth())).status_code == 404
        assert (await kit.client.delete(f"/v1/webhooks/{made['id']}", headers=kit.auth("read"))).status_code == 204
        assert (await kit.client.get("/v1/webhooks", headers=kit.auth("read"))).json() == {"webhooks": []}
        await runner.close()


async def test_an_endpoint_failing_for_3_days_is_disabled_and_reported(db: Database, secret: bytes) -> None:
    now = [datetime.now(UTC)]
    async with api_kit(db, secret) as kit, receiver([500] * 10) as hook:
        made = (await kit.client.post("/v1/webhooks", json={"url": hook.url, "events": ["citizen.bound"]},
                                      headers=kit.auth("read"))).json()
        await _bind(db, secret)
        await _bind(db, secret, chat_id=5002)  # a second callback, still queued when the endpoint is disabled
        now[0] = datetime.now(UTC) + timedelta(seconds=1)
        runner = CallbackEngine(db, lambda: now[0], schedule=RetrySchedule(jitter=0.0))
        assert (await runner.run_once()).retried == 2
        now[0] += timedelta(days=3, seconds=1)  # past every retry: the next attempt is the last
        stats = await runner.run_once()
        assert stats.failed == 2 and len(hook.seen) == 3  # the endpoint is off after the first: the other is not sent
        hooks = (await kit.client.get("/v1/webhooks", headers=kit.auth("read"))).json()["webhooks"]
        assert hooks[0]["active"] is False and hooks[0]["disabled_at"]
        async with db.session() as session:
            events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "webhook.disabled"))).all()
        assert [e.subject for e in events] == [str(made["id"])]
        await runner.close()


def test_the_schedule_is_5s_30s_2min_10min_1h_6h_then_daily_for_3_days() -> None:
    import random

    from storage.messages import Claimed

    schedule, rng = RetrySchedule(jitter=0.0), random.Random(1)
    assert [schedule.delay(n, rng) for n in range(1, 9)] == [5, 30, 120, 600, 3600, 21600, 86400, 86400]
    made = datetime(2025, 3, 1, tzinfo=UTC)
    claimed = Claimed(1, "callback", "callback", 1, "http", 1, 8, created_at=made)
    assert schedule.retry_in(9, claimed, made + timedelta(days=2, hours=23), rng) == 86400
    assert schedule.retry_in(10, claimed, made + timedelta(days=3), rng) is None  # a callback failing 3 days fails


async def test_a_receiver_that_hangs_never_slows_messages_to_citizens(db: Database) -> None:
    """Both lanes in one worker: callbacks to an endpoint that never answers (each waits out the 5 s
    timeout) hold only their own lane; a broadcast to the citizens' chats goes out meanwhile."""
    from bot.messengers import build_messenger
    from services.webhooks import new_secret
    from storage import api_events, api_store
    from storage.api_models import EventType, Webhook
    from tests.botapi import FakeBotAPI, Limits
    from tests.delivery_kit import broadcast, fleet, seed_subscribers, wait_finished
    from tests.services.test_worker_delivery import runtime_for

    chats = list(range(64_001, 64_021))
    await seed_subscribers(db, chats)
    released = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        await released.wait()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    now = datetime.now(UTC)
    async with db.session() as session:
        await api_store.add_webhook(session, Webhook(api_key_id=1, url=f"http://127.0.0.1:{port}/hook",
                                                     events="citizen.bound", secret=new_secret()))
        await api_events.append(session, [api_events.NewEvent(EventType.CITIZEN_BOUND, now) for _ in range(30)])
    try:
        async with FakeBotAPI(users=chats, limits=Limits(global_per_second=30, chat_per_second=1)) as api:
            runtime = runtime_for(db, api, None, DELIVERY_RATE=30)
            sender = build_messenger(runtime.settings)
            service, broadcast_id = await broadcast(db, "اطلاعیه در حالی که گیرنده پاسخ نمی‌دهد")
            async with fleet(runtime, sender, ["both-lanes"]) as running:
                started = asyncio.get_running_loop().time()
                progress = await wait_finished(service, broadcast_id, within=20)
                took = asyncio.get_running_loop().time() - started
                async with db.session() as session:
                    sent = (await session.exec(select(Message).where(
                        Message.lane == LaneName.CALLBACK.value, Message.status == "sent"))).all()
                released.set()
                await running.halt()
            await sender.close()
        assert progress.sent == len(chats) and took < 4.5, took  # not one 5 s timeout waited for
        assert sent == []  # the callbacks were still waiting on their receiver
    finally:
        released.set()
        await runner.cleanup()
