"""The embedded default in one process: `eblagh run` on SQLite, no worker, against the loopback Bot API,
delivers notices, a broadcast created from the CLI while it runs, the reminder before deemed service,
and records deemed service at its time (an injected clock); a restart sends nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.messengers import aiogram_adapter  # noqa: F401 - imported before the first run (slow on a busy machine)
from handlers import staff_texts
from services.law.service_dates import deemed_service_at
from storage.database import Database
from storage.models import Notice
from tests.bot.run_kit import Person, running, settings_for
from tests.bot.test_run_contract import CITIZEN, MOBILE, NID, OTHER, OTHER_MOBILE, OTHER_NID, log_in, seed
from tests.botapi import FakeBotAPI

EBLAGH = str(Path(sys.executable).with_name("eblagh"))
REMINDER_HEAD = "یادآوری ابلاغیه"
assert REMINDER_HEAD in staff_texts.REMINDER


class MovingClock:
    """The real time, moved forward by the test (days pass in a second)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


async def _broadcast_from_the_cli(db: Database, secret: bytes, text: str) -> dict[str, object]:
    env = {**os.environ, "DATABASE_URL": db.url, "SECRET_KEY": secret.decode()}
    env.pop("REDIS_URL", None)
    process = await asyncio.create_subprocess_exec(EBLAGH, "broadcast", "create", "--text", text, "--json", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return dict(json.loads(out))


async def _notice(db: Database, notice_id: int) -> Notice:
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
    assert notice is not None
    return notice


async def test_one_eblagh_run_delivers_notices_broadcasts_reminders_and_deemed_service(
        sqlite_db: Database, secret: bytes) -> None:
    ids = await seed(sqlite_db, secret)
    clock = MovingClock()  # the CLI in another process queues on the real clock
    async with FakeBotAPI() as api:
        settings = settings_for(api, secret, framework="aiogram", mode="polling", REMINDER_DAYS_BEFORE_DEEMED=2)
        person, other = Person(api, CITIZEN), Person(api, OTHER)
        async with running(settings, sqlite_db, secret, clock=clock):
            await log_in(person, NID, MOBILE)
            await log_in(other, OTHER_NID, OTHER_MOBILE)
            await person.expect("ابلاغیه رأی")  # the notice card
            await other.expect("ابلاغیه رأی")

            created = await _broadcast_from_the_cli(sqlite_db, secret, "جلسه عمومی کمیسیون")
            assert created["recipients"] == 2
            await person.expect("جلسه عمومی کمیسیون", timeout=15)
            await other.expect("جلسه عمومی کمیسیون", timeout=15)

            # Nobody opened the notice: within two days of deemed service, one reminder each. When that
            # is depends on the day and hour the test runs (a Tehran day's end, a Friday), so it is
            # computed from the delivery, never a fixed number of days.
            delivered = (await _notice(sqlite_db, ids["citizen"])).first_delivered_at
            assert delivered is not None
            deemed = deemed_service_at(delivered, settings.deemed_service_days)
            clock.advance(seconds=(deemed - timedelta(days=1) - clock()).total_seconds())
            await person.expect(REMINDER_HEAD, timeout=15)
            await other.expect(REMINDER_HEAD, timeout=15)
            assert (await _notice(sqlite_db, ids["citizen"])).deemed_recorded_at is None

            clock.advance(days=1, hours=1)
            for _ in range(150):
                if (await _notice(sqlite_db, ids["citizen"])).deemed_recorded_at is not None:
                    break
                await asyncio.sleep(0.1)
            for key in ("citizen", "other"):
                deemed = (await _notice(sqlite_db, ids[key])).deemed_recorded_at
                assert deemed is not None and deemed - clock.offset > datetime.now(UTC) - timedelta(seconds=20)
        before = {chat: len(api.messages(chat)) for chat in (CITIZEN, OTHER)}

        # Started again: every message was recorded as sent, so nothing goes out a second time.
        async with running(settings, sqlite_db, secret, clock=clock):
            await asyncio.sleep(2.5)
        assert {chat: len(api.messages(chat)) for chat in (CITIZEN, OTHER)} == before
        for chat in (CITIZEN, OTHER):
            texts = Counter(m.text or "" for m in api.messages(chat))
            pushed = {t: n for t, n in texts.items()
                      if "جلسه عمومی" in t or REMINDER_HEAD in t or "ابلاغیه رأی" in t}
            assert pushed and all(n == 1 for n in pushed.values()), pushed
