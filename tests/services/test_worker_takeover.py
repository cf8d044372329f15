"""A worker killed -9 mid-broadcast: once its heartbeat is gone (seconds, not the minute-long claim timeout),
another worker takes its messages over; every reachable chat gets the broadcast, and a copy is repeated
only if the killed worker had it in flight."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.messengers import build_messenger
from bot.runtime import Runtime
from services.privacy import Hasher
from storage.database import Database
from storage.models import Message
from tests.botapi import FakeBotAPI, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import (
    FAST,
    SECRET,
    broadcast,
    fleet,
    seed_subscribers,
    wait_finished,
    worker_settings,
)

EBLAGH = str(Path(sys.executable).with_name("eblagh"))
CHATS = list(range(90_001, 90_241))  # 240 chats at 40/s: about six seconds of sending
HEARTBEAT = 2.0


async def _held_by(db: Database, name: str) -> int:
    async with db.session() as session:
        result = await session.execute(select(func.count()).where(  # type: ignore[deprecated]
            Message.status == "sending", Message.claimed_by == name))  # type: ignore[arg-type]
        return int(result.scalar() or 0)


async def _sent(db: Database) -> int:
    async with db.session() as session:
        result = await session.execute(select(func.count()).where(Message.status == "sent"))  # type: ignore[deprecated, arg-type]
        return int(result.scalar() or 0)


@pytest.mark.redis
async def test_a_killed_workers_messages_move_on_within_seconds(db: Database, redis_url: str, tmp_path: Path) -> None:
    await seed_subscribers(db, CHATS)
    async with FakeBotAPI(users=CHATS, limits=Limits(global_per_second=40, chat_per_second=1)) as api:
        settings = {"BOT_TOKEN": api.token, "BOT_API_BASE": api.base_url, "REDIS_URL": redis_url, "DELIVERY_RATE": 40}
        env = {**os.environ, "DATABASE_URL": db.url, "SECRET_KEY": SECRET.decode(), "PLATFORM": "telegram",
               "DELIVERY_CHAT_RATE": "1", **{k: str(v) for k, v in settings.items()}}
        log = (tmp_path / "victim.log").open("wb")
        victim = await asyncio.create_subprocess_exec(
            EBLAGH, "worker", "--name", "victim", "--heartbeat-ttl", str(HEARTBEAT), "--claim-timeout", "120",
            "--sweep-interval", "0.2", cwd=tmp_path, env=env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while " started on " not in (tmp_path / "victim.log").read_text(errors="replace"):
                assert time.monotonic() < deadline and victim.returncode is None, (tmp_path / "victim.log").read_text()
                await asyncio.sleep(0.2)
            runtime = Runtime(worker_settings(db, **settings), db, Hasher(SECRET))
            sender = build_messenger(runtime.settings)
            options = type(FAST)(**{**vars(FAST), "heartbeat_ttl": HEARTBEAT, "claim_timeout": 120.0})
            service, broadcast_id = await broadcast(db, "پس از توقف ناگهانی")
            async with fleet(runtime, sender, ["survivor"], options) as running:
                # Kill it while it holds claims, a quarter of the way in.
                while not (await _sent(db) >= len(CHATS) // 4 and await _held_by(db, "victim") > 0):
                    assert victim.returncode is None
                    await asyncio.sleep(0.02)
                in_flight = await _held_by(db, "victim")
                victim.send_signal(signal.SIGKILL)
                await victim.wait()
                killed_at = time.monotonic()
                progress = await wait_finished(service, broadcast_id, within=40)
                finished_after = time.monotonic() - killed_at
                await running.halt()
            await sender.close()
        finally:
            if victim.returncode is None:
                victim.kill()
                await victim.wait()
    assert (progress.sent, progress.failed, progress.pending) == (len(CHATS), 0, 0)
    copies = Counter({chat: sum(1 for m in api.messages(chat) if m.text == "پس از توقف ناگهانی") for chat in CHATS})
    assert all(copies[chat] >= 1 for chat in CHATS)  # nothing lost
    assert sum(n - 1 for n in copies.values()) <= in_flight  # repeated: at most what the victim had in flight
    # Three quarters left at 40/s is about 4.5 s; the victim's claims came back after its heartbeat, not the
    # 120 s claim timeout.
    assert finished_after < 20, finished_after
    assert api.stats()["rate_limited"] == 0
