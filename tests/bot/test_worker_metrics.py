"""`eblagh worker --metrics-listen` as a process: GET /metrics counts what the worker sent, refused and
was told to wait for (429), the callback attempts, and the queue as the database holds it. A bad
address or a taken port is a one-line error and exit status 2."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.metrics_server import metrics_listen
from services.api_keys import ApiKeyService
from services.broadcasts import BroadcastService, Segment
from services.clock import system_clock
from services.privacy import Hasher
from services.webhooks import WebhookService
from storage import citizens, messages
from storage.api_models import ApiRole
from storage.database import Database, upgrade
from storage.models import MessageKind
from storage.queue_depth import lane_depths
from tests.bot.metrics_kit import scrape, value
from tests.bot.run_kit import free_port, until
from tests.botapi import FakeBotAPI, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import SECRET, seed_subscribers
from tests.factories import create_citizen
from tests.web.test_callbacks import receiver

EBLAGH = str(Path(sys.executable).with_name("eblagh"))
CHATS = [96_001, 96_002, 96_003]
BOUND, BLOCKED = 96_004, 96_005  # bound during the test (a citizen.bound callback); blocked the bot


async def _setup(db: Database, hook_url: str) -> None:
    """Five chats for one broadcast (one has blocked the bot), a callback to send, and a message due tomorrow."""
    await seed_subscribers(db, [*CHATS, BLOCKED])
    _key, key = await ApiKeyService(db, system_clock).create("case-system", ApiRole.READ)
    await WebhookService(db, system_clock).create(key, hook_url, ["citizen.bound"])
    now = datetime.now(UTC)
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(SECRET))
        await citizens.bind_chat(session, citizen.id or 0, "telegram", BOUND, BOUND, now)
        later = await messages.queue(session, kind=MessageKind.NOTE, ref_id=1, platform="telegram", chat_id=CHATS[0],
                                     body="بعدا", now=now - timedelta(hours=1))
        assert later is not None
        await messages.mark_retry(session, later, "not yet", now + timedelta(days=1), False)
    await BroadcastService(db, system_clock).create(text="جلسه عمومی", segment=Segment.parse("all"), at=None,
                                                    created_by="test")


def _env(url: str, api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET.decode(), "BOT_TOKEN": api.token,
           "BOT_API_BASE": api.base_url, "DELIVERY_RATE": "30", "DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    return env


async def test_worker_serves_its_counts_and_the_queue(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'eblagh.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    listen = f"127.0.0.1:{free_port()}"
    # Two a second at the fake, thirty a second from the worker: some sends get 429 first.
    async with receiver([]) as hook, FakeBotAPI(users=[*CHATS, BOUND], limits=Limits(global_per_second=2)) as api:
        api.block(BLOCKED)
        await _setup(db, hook.url)
        process = await asyncio.create_subprocess_exec(
            EBLAGH, "worker", "--sweep-interval", "0.1", "--metrics-listen", listen, env=_env(url, api, tmp_path),
            cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
        try:
            for chat in [*CHATS, BOUND]:
                await api.wait_for_messages(chat, 1, timeout=30)
            await until(lambda: hook.seen, what="the callback")

            async def settled() -> bool:  # every outcome recorded: the queue holds only tomorrow's message
                async with db.session() as session:
                    depths = await lane_depths(session, datetime.now(UTC))
                return [(d.lane, d.queued, d.due, d.sending) for d in depths] == [("messenger", 1, 0, 0)]

            for _ in range(400):
                if await settled():
                    break
                await asyncio.sleep(0.05)
            assert await settled()
            samples = await scrape(listen)  # the first scrape: the queue is read now, not from a cache
            lane = {"lane": "messenger", "platform": "telegram"}
            assert value(samples, "eblagh_messages_total", outcome="sent", **lane) == 4
            assert value(samples, "eblagh_messages_total", outcome="blocked", **lane) == 1
            assert value(samples, "eblagh_messages_total", outcome="failed", **lane) == 0
            assert value(samples, "eblagh_messages_sent_by_kind_total", kind="broadcast", **lane) == 4
            rate_limited = value(samples, "eblagh_messages_total", outcome="rate_limited", **lane)
            assert rate_limited >= 1 and rate_limited == api.stats()["rate_limited"]
            callbacks = {"lane": "callback", "platform": "http"}
            assert value(samples, "eblagh_messages_total", outcome="sent", **callbacks) == 1
            assert value(samples, "eblagh_callback_attempts_total", outcome="ok") == 1
            assert value(samples, "eblagh_queue_depth", **lane) == 1
            assert value(samples, "eblagh_queue_due", **lane) == 0
            assert value(samples, "eblagh_queue_in_flight", **lane) == 0
            assert 3600 <= value(samples, "eblagh_queue_oldest_age_seconds", **lane) < 3700
            # An empty lane is still reported, at 0.
            assert ("eblagh_queue_depth", frozenset(callbacks.items())) in samples
            assert value(samples, "eblagh_queue_oldest_age_seconds", **callbacks) == 0
            assert value(samples, "eblagh_queue_read_failures_total") == 0
            assert not any(name.startswith("eblagh_updates") for name, _ in samples)  # no conversation here
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
    await db.close()
    assert process.returncode == 0, stderr.decode()
    assert api.token.split(":")[1] not in stderr.decode()


async def _worker_fails(tmp_path: Path, *args: str) -> str:
    tmp_path.mkdir()
    url = f"sqlite:///{tmp_path / 'eblagh.db'}"
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET.decode(), "BOT_TOKEN": "123456:not-used",
           "BOT_API_BASE": f"http://127.0.0.1:{free_port()}", "DATA_DIR": str(tmp_path)}
    env.pop("REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(EBLAGH, "worker", *args, env=env, cwd=tmp_path,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2, stderr.decode()
    assert "Traceback" not in stderr.decode()
    return stderr.decode()


async def test_worker_metrics_listen_refuses_a_bad_address_and_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listen = f"127.0.0.1:{taken.getsockname()[1]}"
        bad, busy = await asyncio.gather(_worker_fails(tmp_path / "bad", "--metrics-listen", "127.0.0.1"),
                                         _worker_fails(tmp_path / "busy", "--metrics-listen", listen))
    assert "argument --metrics-listen: expected HOST:PORT" in bad
    assert f"eblagh worker: cannot serve metrics on {listen}: " in busy and "in use" in busy


@pytest.mark.parametrize("text", ["9100", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:0", "127.0.0.1:70000", ""])
def test_a_metrics_address_is_host_and_port(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        metrics_listen(text)


@pytest.mark.parametrize("text", ["127.0.0.1:9100", ":9100", "[::1]:9100", "localhost:9100"])
def test_good_metrics_addresses(text: str) -> None:
    assert metrics_listen(text) == text
