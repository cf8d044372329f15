"""PostgreSQL restarted while workers deliver: they wait it out, and nothing is lost or sent twice.

Restarts the server for real (`pg_ctlcluster ... restart`); runs after every other test (conftest).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.messengers import build_messenger
from bot.worker import WorkerOptions
from storage.database import Database
from tests.botapi import FakeBotAPI, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import FAST, broadcast, fleet, seed_subscribers, wait_finished
from tests.services.test_worker_delivery import assert_once_each, runtime_for


def _restart_postgres() -> None:
    version = next(Path("/etc/postgresql").iterdir()).name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True,
                   capture_output=True, timeout=120)
    for _ in range(60):
        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-q"]).returncode == 0:
            return
        subprocess.run(["sleep", "0.5"])
    raise RuntimeError("PostgreSQL did not come back")


@pytest.mark.restarts_postgres
@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir(),
                    reason="needs a local PostgreSQL cluster managed by pg_ctlcluster")
async def test_workers_recover_when_postgresql_restarts(pg_db: Database, redis_url: str) -> None:
    chats = list(range(64_001, 64_301))
    await seed_subscribers(pg_db, chats)
    # Outcomes wait up to claim_timeout for the database: longer than a restart takes (a few seconds). An
    # entry left claimed across the restart is taken over after it, so the test lasts about that much more.
    options = WorkerOptions(**{**vars(FAST), "claim_timeout": 20.0})
    async with FakeBotAPI(users=chats, limits=Limits(global_per_second=100, chat_per_second=1)) as api:
        runtime = runtime_for(pg_db, api, redis_url, DELIVERY_RATE=100)
        sender = build_messenger(runtime.settings)
        service, broadcast_id = await broadcast(pg_db, "پس از راه‌اندازی دوباره")
        async with fleet(runtime, sender, ["w1", "w2"], options) as running:
            await api.wait_for_messages(chats[60], 1, timeout=30)
            await asyncio.to_thread(_restart_postgres)
            progress = await wait_finished(service, broadcast_id, within=120)
            metrics = await running.halt()
        await sender.close()
    assert (progress.sent, progress.failed, progress.pending) == (300, 0, 0)
    assert_once_each(api, chats, "پس از راه‌اندازی دوباره")
    assert sum(m.backend_errors for m in metrics) > 0  # the outage was seen, and waited out
