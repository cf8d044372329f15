"""`eblagh run --metrics-listen`: GET /metrics moves with what the bot does. A question answered is one
update more handled, one intent counted and one reply latency observed; the notice pushed at login
is a messenger message sent; the queue is empty once all went out. A bad address stops the program
before it starts, with a one-line error."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.messengers import aiogram_adapter  # noqa: F401 - imported before the first run (slow on a busy machine)
from bot.metrics_server import MetricsListenError
from storage.database import Database
from tests.bot.metrics_kit import Samples, scrape, value
from tests.bot.run_kit import FAST, Person, free_port, running, settings_for
from tests.bot.test_run_contract import CITIZEN, MOBILE, NID, log_in, seed
from tests.botapi import FakeBotAPI

EBLAGH = str(Path(sys.executable).with_name("eblagh"))
LANE = {"lane": "messenger", "platform": "telegram"}


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_run_counts_updates_intents_latency_and_messages(sqlite_db: Database, secret: bytes,
                                                               intent_model: object, mode: str) -> None:
    await seed(sqlite_db, secret)
    listen = f"127.0.0.1:{free_port()}"
    async with FakeBotAPI() as api:
        settings = settings_for(api, secret, framework="aiogram", mode=mode)
        person = Person(api, CITIZEN)
        async with running(settings, sqlite_db, secret, model=intent_model,
                           options=replace(FAST, metrics_listen=listen)):
            await log_in(person, NID, MOBILE)
            await person.expect("ابلاغیه رأی")  # the notice card, pushed by the engine in this process

            async def handled(at_least: float) -> Samples | None:
                samples = await scrape(listen)
                return samples if value(samples, "eblagh_updates_total", outcome="handled") >= at_least else None

            before = await _scraped(lambda: handled(3))  # /start, the national ID, the contact
            api.send_text(CITIZEN, "جریمه من چقدره؟")
            await person.expect("جریمه پرونده")
            after = await _scraped(lambda: handled(value(before, "eblagh_updates_total", outcome="handled") + 1))

            def moved(name: str, **labels: str) -> float:
                return value(after, name, **labels) - value(before, name, **labels)

            assert moved("eblagh_updates_total", outcome="accepted") == 1
            assert moved("eblagh_updates_total", outcome="handled") == 1
            assert value(after, "eblagh_updates_total", outcome="failed") == 0
            assert moved("eblagh_intents_total", intent="fine_amount") == 1
            assert sum(v for (name, _), v in after.items() if name == "eblagh_intents_total") == 1
            assert moved("eblagh_reply_latency_seconds_count") == 1
            assert 0 < moved("eblagh_reply_latency_seconds_sum") < 5
            assert value(after, "eblagh_reply_latency_seconds_count") == value(after, "eblagh_updates_total",
                                                                                outcome="handled")
            assert value(after, "eblagh_messages_total", outcome="sent", **LANE) >= 1
            assert value(after, "eblagh_messages_sent_by_kind_total", kind="notice", **LANE) == 1
            assert value(after, "eblagh_queue_depth", **LANE) == 0
            assert ("eblagh_queue_depth", frozenset({"lane": "callback", "platform": "http"}.items())) in after
            assert "process_resident_memory_bytes" in {name for name, _ in after} or sys.platform != "linux"


async def _scraped(check) -> Samples:  # type: ignore[no-untyped-def]
    found = None
    for _ in range(200):
        if (found := await check()) is not None:
            return found  # type: ignore[no-any-return]
        await asyncio.sleep(0.05)
    raise AssertionError("the counts did not move")


async def test_run_refuses_a_taken_metrics_port(sqlite_db: Database, secret: bytes) -> None:
    async with FakeBotAPI() as api:
        settings = settings_for(api, secret, framework="aiogram", mode="polling")
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            listen = f"127.0.0.1:{taken.getsockname()[1]}"
            with pytest.raises(MetricsListenError, match=f"cannot serve metrics on {listen}: .*in use"):
                async with running(settings, sqlite_db, secret, options=replace(FAST, metrics_listen=listen)):
                    pass
        assert api.stats()["requests"] == {}  # nothing started: not even the commands menu


async def test_eblagh_run_refuses_a_bad_metrics_address(tmp_path: Path, secret: bytes) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "SECRET_KEY": secret.decode(), "BOT_TOKEN": "123456:not-used"}
    process = await asyncio.create_subprocess_exec(EBLAGH, "run", "--metrics-listen", "127.0.0.1:port", env=env,
                                                   cwd=tmp_path, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "eblagh run: error: argument --metrics-listen: expected HOST:PORT" in stderr.decode()
    assert "Traceback" not in stderr.decode()

