"""`eblagh run` as a program: environment pointing at the loopback Bot API, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from handlers import texts
from handlers.callbacks import Action
from storage.database import Database, upgrade
from tests.bot.run_kit import WEBHOOK_SECRET, Person, free_port
from tests.bot.test_run_contract import MOBILE, NID, seed
from tests.botapi import FakeBotAPI

CITIZEN = 1001


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.mark.parametrize(("framework", "mode"), [("aiogram", "polling"), ("ptb", "webhook")])
async def test_eblagh_run_serves_a_citizen_and_stops_on_sigterm(
        api: FakeBotAPI, tmp_path: Path, secret: bytes, framework: str, mode: str) -> None:
    url = f"sqlite:///{tmp_path / 'eblagh.db'}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    await seed(db, secret)
    await db.close()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEBHOOK_URL", "WEBHOOK_SECRET")}
    env.update(DATA_DIR=str(tmp_path / "data"), DATABASE_URL=url, SECRET_KEY=secret.decode(), BOT_TOKEN=api.token,
               BOT_API_BASE=api.base_url, BOT_FRAMEWORK=framework, PLATFORM="telegram")
    if mode == "webhook":
        port = free_port()
        env.update(WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_LISTEN=f"127.0.0.1:{port}",
                   WEBHOOK_SECRET=WEBHOOK_SECRET)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--poll-timeout", "1", "--delivery-interval", "0.1",
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    person = Person(api, CITIZEN)
    try:
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی", timeout=60)  # the program imports both libraries and loads the model
        api.send_text(CITIZEN, NID)
        await person.expect("شماره همراه")
        api.share_contact(CITIZEN, MOBILE)
        await person.expect("هویت شما تأیید شد")
        card = await person.expect("۱۴۰۳")
        assert await person.tap(card, person.button(card, Action.OPEN_NOTICE)) == texts.TAP_SERVICE_RECORDED
        api.send_text(CITIZEN, "جریمه من چقدره؟")
        answer = await person.expect("جریمه پرونده")
        assert "۱۲۵٬۰۰۰٬۰۰۰ تومان" in (answer.text or "")
        # A message arriving with SIGTERM is either answered before the exit or left with the Bot API.
        before = len(person.inbox)
        api.send_text(CITIZEN, "سلام")
        await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(process.communicate(), 30)
    log = err.decode()
    assert process.returncode == 0, log
    assert "Traceback" not in log
    assert (len(person.inbox) > before) != bool(api.pending_updates())
    assert api.token.split(":")[1] not in log and NID not in log and MOBILE not in log
    assert api.unanswered_callbacks == []
    api.assert_nothing_refused()
