"""Callbacks to a real local HTTP receiver (aiohttp on 127.0.0.1): retries, signatures, restarts, give-up."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from standardwebhooks import Webhook as Verifier

from services.callbacks import CallbackRunner, CallbackSender, RetrySchedule
from services.privacy import Hasher
from storage import callbacks, citizens
from storage.database import Database
from tests.factories import create_citizen
from tests.web.api_kit import api_kit

FAST = RetrySchedule(delays=(0.05, 0.05, 0.05), then_every=0.05, jitter=0.0)


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

        first = CallbackRunner(db, CallbackSender(), lambda: datetime.now(UTC), schedule=FAST)
        assert (await first.run_once()).retried == 1  # attempt 1: 503
        await first.close()
        # A worker dies holding a claim (attempt 2 in flight): nothing comes back from it.
        await asyncio.sleep(0.06)
        async with db.session() as session:
            abandoned = await callbacks.claim_due(session, datetime.now(UTC), 10)
        assert len(abandoned) == 1
        # A new worker: the stale claim returns to the queue; 503 again, then 200.
        second = CallbackRunner(db, CallbackSender(), lambda: datetime.now(UTC), schedule=FAST,
                                stale_claim=timedelta(0))
        stop = asyncio.Event()
        task = asyncio.create_task(second.run_forever(stop, interval=0.05))

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
        runner = CallbackRunner(db, CallbackSender(), lambda: datetime.now(UTC), schedule=FAST)
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
        now[0] = datetime.now(UTC) + timedelta(seconds=1)
        runner = CallbackRunner(db, CallbackSender(), lambda: now[0], schedule=RetrySchedule(jitter=0.0))
        assert (await runner.run_once()).retried == 1
        now[0] += timedelta(days=3, seconds=1)  # past every retry: the next attempt is the last
        stats = await runner.run_once()
        assert stats.failed == 1 and stats.disabled == 1
        hooks = (await kit.client.get("/v1/webhooks", headers=kit.auth("read"))).json()["webhooks"]
        assert hooks[0]["active"] is False and hooks[0]["disabled_at"]
        from sqlmodel import select

        from storage.models import AuditEvent
        async with db.session() as session:
            events = (await session.exec(select(AuditEvent).where(AuditEvent.action == "webhook.disabled"))).all()
        assert [e.subject for e in events] == [str(made["id"])]
        await runner.close()


def test_the_schedule_is_5s_30s_2min_10min_1h_6h_then_daily() -> None:
    import random

    schedule, rng = RetrySchedule(jitter=0.0), random.Random(1)
    assert [schedule.delay(n, rng) for n in range(1, 9)] == [5, 30, 120, 600, 3600, 21600, 86400, 86400]
