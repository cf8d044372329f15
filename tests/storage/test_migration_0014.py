"""Migration 0014 on SQLite: the callbacks in `webhook_deliveries` become messages of the callback lane
with their status, attempts, error and times, their attempt log re-pointed at the messages; and back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from storage.database import MIGRATIONS_DIR, Database, upgrade
from storage.types import UTCDateTime
from tests.conftest import SECRET

T0 = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
# (id, webhook, event, status, attempts, next_attempt_at, last_status_code, last_error, sent_at)
CALLBACKS = [(3, 1, 10, "sent", 2, T0, 200, None, T0), (4, 1, 11, "queued", 1, T0, 503, "HTTP 503", None),
             (5, 2, 10, "failed", 1, None, 410, "HTTP 410", None)]
ATTEMPTS = [(3, 503, "retry"), (3, 200, "ok"), (4, 503, "retry"), (5, 410, "permanent")]


def _t(name: str) -> sa.BindParameter[datetime]:
    return sa.bindparam(name, type_=UTCDateTime())


async def _seed(db: Database) -> None:
    async with db.engine.begin() as conn:
        for hook in (1, 2):
            await conn.execute(sa.text(
                "INSERT INTO webhooks (id, api_key_id, url, events, secret, active, created_at) "
                "VALUES (:id, 1, 'https://x.example/h', 'citizen.bound', 'whsec_x', :yes, :t)").bindparams(_t("t")),
                {"id": hook, "yes": True, "t": T0})
        for event in (10, 11):
            await conn.execute(sa.text(
                "INSERT INTO api_events (id, type, occurred_at, data) VALUES (:id, 'citizen.bound', :t, '{}')")
                .bindparams(_t("t")), {"id": event, "t": T0})
        for row_id, hook, event, status, attempts, due, code, error, sent_at in CALLBACKS:
            await conn.execute(sa.text(
                "INSERT INTO webhook_deliveries (id, webhook_id, event_id, status, attempts, next_attempt_at, "
                "last_status_code, last_error, created_at, sent_at) VALUES (:id, :hook, :event, :status, :attempts, "
                ":due, :code, :error, :t, :sent)").bindparams(_t("due"), _t("t"), _t("sent")),
                {"id": row_id, "hook": hook, "event": event, "status": status, "attempts": attempts, "due": due,
                 "code": code, "error": error, "t": T0, "sent": sent_at})
        for delivery, code, outcome in ATTEMPTS:
            await conn.execute(sa.text(
                "INSERT INTO webhook_attempts (delivery_id, at, status_code, outcome, duration_ms) "
                "VALUES (:d, :t, :code, :outcome, 5)").bindparams(_t("t")),
                {"d": delivery, "t": T0, "code": code, "outcome": outcome})


async def _callbacks(db: Database) -> list[tuple[object, ...]]:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT m.chat_id, m.ref_id, m.status, m.attempts, m.last_error, "
            "(SELECT COUNT(*) FROM webhook_attempts a WHERE a.delivery_id = m.id), m.lane, m.kind, m.platform "
            "FROM messages m WHERE m.lane = 'callback' ORDER BY m.id"))).all()
    return [tuple(r) for r in rows]


async def test_webhook_deliveries_become_messages_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    await asyncio.to_thread(upgrade, url, "0011", proof_key=SECRET)
    db = Database(url, proof_key=SECRET)
    try:
        await _seed(db)
        await asyncio.to_thread(upgrade, url, "head", proof_key=SECRET)
        expected = [(hook, event, status, attempts, error, sum(1 for a in ATTEMPTS if a[0] == row_id),
                     "callback", "callback", "http")
                    for row_id, hook, event, status, attempts, _due, _code, error, _sent in CALLBACKS]
        assert await _callbacks(db) == expected
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
        assert "webhook_deliveries" not in tables

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["database_url"] = url
        await asyncio.to_thread(command.downgrade, config, "0011")
        async with db.engine.connect() as conn:
            back = (await conn.execute(sa.text(
                "SELECT d.webhook_id, d.event_id, d.status, d.attempts, d.last_error, "
                "(SELECT COUNT(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) "
                "FROM webhook_deliveries d ORDER BY d.id"))).all()
            left = (await conn.execute(sa.text("SELECT COUNT(*) FROM messages WHERE lane = 'callback'"))).scalar()
        assert [tuple(r) for r in back] == [e[:6] for e in expected] and left == 0
    finally:
        await db.close()
