"""`eblagh worker` as a process: delivers, and stops cleanly on SIGTERM with exit status 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from services.broadcasts import BroadcastService, Segment
from services.clock import system_clock
from storage.database import Database, upgrade
from tests.botapi import FakeBotAPI, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.delivery_kit import SECRET, seed_subscribers

EBLAGH = str(Path(sys.executable).with_name("eblagh"))


async def test_worker_delivers_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'eblagh.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    chats = [95_001, 95_002, 95_003]
    await seed_subscribers(db, chats)
    await BroadcastService(db, system_clock).create(text="از فرایند جدا", segment=Segment.parse("all"), at=None,
                                                    created_by="test")
    async with FakeBotAPI(users=chats, limits=Limits(global_per_second=30, chat_per_second=1)) as api:
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET.decode(), "BOT_TOKEN": api.token,
               "BOT_API_BASE": api.base_url, "DELIVERY_RATE": "30", "DATA_DIR": str(tmp_path)}
        env.pop("REDIS_URL", None)
        metrics = tmp_path / "metrics.json"
        process = await asyncio.create_subprocess_exec(
            EBLAGH, "worker", "--sweep-interval", "0.2", "--metrics-file", str(metrics), env=env, cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE)
        try:
            for chat in chats:
                await api.wait_for_messages(chat, 1, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
    await db.close()
    assert process.returncode == 0, stderr.decode()
    assert json.loads(metrics.read_text())["sent"] == 3
    assert api.token.split(":")[1] not in stderr.decode()  # the token never reaches a log
