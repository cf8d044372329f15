"""Migration 0009 on SQLite and PostgreSQL: bindings made inside a group are unbound and audited,
what was still queued for them is failed, and a citizen's private chats are left alone."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.database import Database, upgrade
from storage.types import UTCDateTime
from tests.conftest import PG_HOST, _pg_admin, _require

PRIVATE, IMPORTED, GROUP_BY_USER, GROUP_IMPORTED, GROUP_LOGGED_OUT = 1001, 1002, -100_1, -100_2, -100_3


NOW = datetime(2025, 1, 25, 8, 0, tzinfo=UTC)


async def _seed(db: Database) -> None:
    now = NOW
    async with db.engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO citizens (id, nid_hash, nid_masked, mobile_hash, mobile_masked, full_name, "
                    "created_at, updated_at) VALUES (1, 'h', '001****679', 'm', '0912****567', 'x', :now, :now)")
            .bindparams(sa.bindparam("now", type_=UTCDateTime())), {"now": now})
        rows = [(1, PRIVATE, PRIVATE, True), (2, IMPORTED, None, True), (3, GROUP_BY_USER, 1001, True),
                (4, GROUP_IMPORTED, None, True), (5, GROUP_LOGGED_OUT, 1001, False)]
        for binding_id, chat_id, user_id, active in rows:
            await conn.execute(
                sa.text("INSERT INTO chat_bindings (id, citizen_id, platform, chat_id, user_id, active, bound_at) "
                        "VALUES (:id, 1, 'telegram', :chat, :user, :active, :now)")
                .bindparams(sa.bindparam("now", type_=UTCDateTime()), sa.bindparam("user", type_=sa.BigInteger())),
                {"id": binding_id, "chat": chat_id, "user": user_id, "active": active, "now": now})
        for chat_id in (PRIVATE, GROUP_BY_USER):
            await conn.execute(
                sa.text("INSERT INTO outbox (kind, ref_id, platform, chat_id, status, attempts, created_at) "
                        "VALUES ('broadcast', 1, 'telegram', :chat, 'queued', 0, :now)")
                .bindparams(sa.bindparam("now", type_=UTCDateTime())), {"chat": chat_id, "now": now})


async def _check(db: Database) -> None:
    async with db.engine.connect() as conn:
        active = dict((await conn.execute(sa.text("SELECT chat_id, active FROM chat_bindings"))).all())
        assert {chat: bool(flag) for chat, flag in active.items()} == {
            PRIVATE: True, IMPORTED: True, GROUP_BY_USER: False, GROUP_IMPORTED: False, GROUP_LOGGED_OUT: False}
        unbound = (await conn.execute(sa.text("SELECT chat_id FROM chat_bindings WHERE unbound_at IS NOT NULL"))).scalars()
        assert sorted(unbound) == sorted([GROUP_BY_USER, GROUP_IMPORTED])
        events = (await conn.execute(sa.text("SELECT detail FROM audit_events WHERE actor = 'migration:0009'"))).scalars()
        assert sorted(str(GROUP_BY_USER) in d or str(GROUP_IMPORTED) in d for d in events) == [True, True]
        outbox = dict((await conn.execute(sa.text("SELECT chat_id, status FROM outbox"))).all())
        assert outbox == {PRIVATE: "queued", GROUP_BY_USER: "failed"}


async def _migrate(url: str) -> None:
    await asyncio.to_thread(upgrade, url, "0005")
    db = Database(url)
    try:
        await _seed(db)
        await asyncio.to_thread(upgrade, url, "0009")
        await _check(db)
    finally:
        await db.close()


async def test_group_bindings_are_unbound_on_sqlite(tmp_path: Path) -> None:
    await _migrate(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.postgres
async def test_group_bindings_are_unbound_on_postgresql() -> None:
    _require(PG_HOST, 5432, "PostgreSQL")
    name = f"eblagh_m9_{uuid.uuid4().hex[:8]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        await _migrate(f"postgresql://postgres@{PG_HOST}:5432/{name}")
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
