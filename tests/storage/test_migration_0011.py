"""Migration 0011 on SQLite and PostgreSQL: `deliveries` and `outbox` become `messages`, every row with its
status, attempts, error and times; a notice's rows keep their ids (the proof chain names them), so the
chain backfilled from the old rows still verifies; a (notice, chat) pair nobody had queued yet is queued
(never a test notice of the integration API); an answer written in the dashboard (0013) becomes a
staff_reply message named by its reply's id negated; and new rows get ids after every old one."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from services.proof import verify_proof
from storage import messages
from storage.database import Database, upgrade
from storage.models import MessageKind
from storage.types import UTCDateTime
from tests.conftest import PG_HOST, SECRET, _pg_admin, _require

T0 = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
# (id, notice, chat, status, attempts, last_error, message_id, sent_at)
DELIVERIES = [(4, 1, 101, "sent", 1, None, 55, T0), (7, 1, 102, "queued", 2, "502 Bad Gateway", None, None),
              (9, 2, 101, "sending", 1, None, None, None), (12, 2, 102, "blocked", 1, "403 blocked", None, None),
              (13, 3, 101, "failed", 6, "transient, gave up: timeout", None, None)]
# (id, kind, ref, chat, status, attempts, sent_at)
OUTBOX = [(1, "broadcast", 1, 101, "sent", 1, T0), (2, "broadcast", 1, 102, "cancelled", 0, None),
          (3, "broadcast", 1, 103, "queued", 0, None), (4, "reminder", 1, 101, "failed", 6, None)]


def _t(name: str) -> sa.BindParameter[datetime]:
    return sa.bindparam(name, type_=UTCDateTime())


async def _seed(db: Database) -> None:
    """Rows as revision 0005 has them (raw SQL: the models describe the newest schema)."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO citizens (id, nid_hash, nid_masked, mobile_hash, mobile_masked, full_name, created_at, "
            "updated_at) VALUES (1, 'h', '001****679', 'm', '0912****567', 'x', :t, :t)").bindparams(_t("t")), {"t": T0})
        for chat in (101, 102, 103):
            await conn.execute(sa.text(
                "INSERT INTO chat_bindings (citizen_id, platform, chat_id, user_id, active, bound_at) "
                "VALUES (1, 'telegram', :chat, :chat, :active, :t)").bindparams(_t("t")),
                {"chat": chat, "active": chat != 103, "t": T0})
        await conn.execute(sa.text(
            "INSERT INTO cases (id, case_number, citizen_id, status, address, violation, created_at, updated_at) "
            "VALUES (1, '1403051234', 1, 'ruling_issued', '', '', :t, :t)").bindparams(_t("t")), {"t": T0})
        for notice in (1, 2, 3, 4):
            await conn.execute(sa.text(
                "INSERT INTO rulings (id, ruling_id, case_id, citizen_id, commission, kind, issued_on, summary, text, "
                "created_at) VALUES (:n, :r, 1, 1, 'first', 'fine', '2025-01-20', '', '', :t)").bindparams(_t("t")),
                {"n": notice, "r": f"R-{notice}", "t": T0})
            delivered = T0 if notice == 1 else None
            await conn.execute(sa.text(
                "INSERT INTO notices (id, ruling_pk, citizen_id, created_at, first_delivered_at) "
                "VALUES (:n, :n, 1, :t, :d)").bindparams(_t("t"), _t("d")), {"n": notice, "t": T0, "d": delivered})
        for row_id, notice, chat, status, attempts, error, message_id, sent_at in DELIVERIES:
            await conn.execute(sa.text(
                "INSERT INTO deliveries (id, notice_id, platform, chat_id, status, attempts, last_error, message_id, "
                "created_at, claimed_at, sent_at) VALUES (:id, :n, 'telegram', :chat, :status, :attempts, :error, :mid, "
                ":t, :claimed, :sent)").bindparams(_t("t"), _t("claimed"), _t("sent")),
                {"id": row_id, "n": notice, "chat": chat, "status": status, "attempts": attempts, "error": error,
                 "mid": message_id, "t": T0, "claimed": T0 if status == "sending" else None, "sent": sent_at})
        for row_id, kind, ref, chat, status, attempts, sent_at in OUTBOX:
            await conn.execute(sa.text(
                "INSERT INTO outbox (id, kind, ref_id, platform, chat_id, status, attempts, created_at, sent_at) "
                "VALUES (:id, :kind, :ref, 'telegram', :chat, :status, :attempts, :t, :sent)")
                .bindparams(_t("t"), _t("sent")),
                {"id": row_id, "kind": kind, "ref": ref, "chat": chat, "status": status, "attempts": attempts,
                 "t": T0, "sent": sent_at})


async def _seed_dashboard(db: Database) -> None:
    """At 0013: a test ruling of the integration API (never sent) and a dashboard answer still queued."""
    async with db.engine.begin() as conn:
        await conn.execute(sa.text(
            "INSERT INTO rulings (id, ruling_id, case_id, citizen_id, commission, kind, issued_on, summary, text, "
            "created_at, test) VALUES (5, 'R-5', 1, 1, 'first', 'fine', '2025-01-20', '', '', :t, :yes)")
            .bindparams(_t("t")), {"t": T0, "yes": True})
        await conn.execute(sa.text(
            "INSERT INTO notices (id, ruling_pk, citizen_id, created_at, test) VALUES (5, 5, 1, :t, :yes)")
            .bindparams(_t("t")), {"t": T0, "yes": True})
        await conn.execute(sa.text(
            "INSERT INTO handoffs (id, platform, chat_id, question, created_at, answered_at, answer) "
            "VALUES (8, 'telegram', 101, 'q', :t, :t, 'a')").bindparams(_t("t")), {"t": T0})
        await conn.execute(sa.text(
            "INSERT INTO staff_replies (id, handoff_id, author, text, created_at) VALUES (3, 8, 'ali', 'a', :t)")
            .bindparams(_t("t")), {"t": T0})
        await conn.execute(sa.text(
            "INSERT INTO outbox (id, kind, ref_id, platform, chat_id, status, attempts, created_at) "
            "VALUES (5, 'staff_reply', 3, 'telegram', 101, 'queued', 0, :t)").bindparams(_t("t")), {"t": T0})


async def _check(db: Database) -> None:
    async with db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT id, kind, ref_id, chat_id, status, attempts, last_error, message_id, lane, claimed_by "
            "FROM messages ORDER BY id"))).all()
    notices = {r.id: r for r in rows if r.kind == "notice"}
    for row_id, notice, chat, status, attempts, error, message_id, _sent in DELIVERIES:
        found = notices.pop(row_id)  # the same id: the proof chain's source_id still points at it
        assert (found.ref_id, found.chat_id, found.status, found.attempts, found.last_error, found.message_id) == (
            notice, chat, status, attempts, error, message_id)
        assert found.lane == "messenger" and found.claimed_by is None
    # Notice 3 had nothing for chat 102, notice 4 nothing at all: queued now, for the active chats only.
    assert sorted((r.ref_id, r.chat_id, r.status) for r in notices.values()) == [
        (3, 102, "queued"), (4, 101, "queued"), (4, 102, "queued")]
    others = [(r.kind, r.ref_id, r.chat_id, r.status, r.attempts) for r in rows if r.kind != "notice"]
    assert others.pop() == ("staff_reply", -3, 101, "queued", 0)
    async with db.engine.connect() as conn:
        assert (await conn.execute(sa.text("SELECT origin_id FROM messages WHERE kind = 'staff_reply'"))).scalar() == 8
    assert others == [(kind, ref, chat, status, attempts) for _i, kind, ref, chat, status, attempts, _s in OUTBOX]
    assert min(r.id for r in rows if r.kind != "notice") > max(d[0] for d in DELIVERIES)
    report = await verify_proof(db, SECRET)
    assert report.ok and report.records == 1, [p.describe() for p in report.problems]
    async with db.session() as session:
        # Everything was fanned out by the migration; new rows are numbered after the old ones.
        assert await messages.fan_out(session, datetime.now(UTC)) == 0
        new_id = await messages.queue(session, kind=MessageKind.NOTE, ref_id=1, platform="telegram",
                                      chat_id=101, body="x", now=datetime.now(UTC))
    assert new_id is not None and new_id > max(r.id for r in rows)
    async with db.engine.connect() as conn:
        tables = set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    assert "messages" in tables and not {"deliveries", "outbox"} & tables


async def _migrate(url: str) -> None:
    await asyncio.to_thread(upgrade, url, "0005")
    db = Database(url, proof_key=SECRET)
    try:
        await _seed(db)
        await asyncio.to_thread(upgrade, url, "0013", proof_key=SECRET)  # 0006 backfills the chain
        await _seed_dashboard(db)
        await asyncio.to_thread(upgrade, url, "head", proof_key=SECRET)  # 0011 moves rows
        await _check(db)
    finally:
        await db.close()


async def test_both_tables_become_messages_on_sqlite(tmp_path: Path) -> None:
    await _migrate(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    _require(PG_HOST, 5432, "PostgreSQL")
    name = f"eblagh_m11_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:5432/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
async def test_both_tables_become_messages_on_postgresql(pg_url: str) -> None:
    await _migrate(pg_url)
