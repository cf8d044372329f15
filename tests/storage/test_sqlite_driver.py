"""storage/sqlite_driver.py: one hop to the connection's thread per statement, and no empty COMMIT or
ROLLBACK, with everything a DB-API cursor owes SQLAlchemy still right (rows, rowcount, lastrowid,
errors, transactions, streamed results)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from services.privacy import Hasher
from storage import citizens as citizen_store
from storage.database import Database
from tests.factories import create_citizen

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def sqlite(sqlite_db: Database) -> AsyncIterator[Database]:
    yield sqlite_db


@contextmanager
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The calls made on aiosqlite connections' threads meanwhile (what each one ran)."""
    made: list[str] = []
    execute = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        made.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(aiosqlite.Connection, "_execute", counted)
        yield made


async def test_a_read_is_one_hop_and_a_write_two(sqlite: Database, secret: bytes,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    async with sqlite.session() as session:
        citizen = await create_citizen(session, Hasher(secret))
        await citizen_store.bind_chat(session, citizen.id or 0, "bale", 42, 42, NOW)
    async with sqlite.session() as warm:  # the pool has a connection; the statement is compiled
        await citizen_store.find_active_binding(warm, "bale", 42)

    with hops(monkeypatch) as made:
        async with sqlite.session() as session:
            found = await citizen_store.find_active_binding(session, "bale", 42)
    assert found is not None and found.citizen_id == citizen.id
    assert len(made) == 1  # the stock adapter: cursor, execute, fetchall, close, commit, pool-return rollback

    with hops(monkeypatch) as made:
        async with sqlite.session() as session:
            await citizen_store.unbind_chat(session, "bale", 42, NOW)
    assert len(made) == 3  # the SELECT, the UPDATE and the COMMIT that ends the write


async def test_rows_rowcount_and_lastrowid_are_the_statements(sqlite: Database) -> None:
    async with sqlite.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))
        inserted = await connection.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        await connection.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}])
        updated = await connection.execute(text("UPDATE t SET name = 'x' WHERE id > 1"))
        assert updated.rowcount == 2
        rows = (await connection.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert [tuple(row) for row in rows] == [(1, "a"), (2, "x"), (3, "x")]
        first = (await connection.execute(text("SELECT name FROM t ORDER BY id"))).first()
        assert first is not None and first[0] == "a"
        streamed = await connection.stream(text("SELECT id FROM t ORDER BY id"))
        assert [row[0] async for row in streamed] == [1, 2, 3]


async def test_errors_are_sqlalchemys_and_the_session_goes_on(sqlite: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    with pytest.raises(IntegrityError):
        async with sqlite.session() as session:
            await create_citizen(session, hasher, national_id="0012345679")
            await create_citizen(session, hasher, national_id="0012345679")
    with pytest.raises(OperationalError):
        async with sqlite.engine.connect() as connection:
            await connection.execute(text("SELECT * FROM no_such_table"))
    async with sqlite.session() as session:  # the failed writes left nothing behind, and nothing locked
        await create_citizen(session, hasher, national_id="0012345679")


async def test_a_rolled_back_write_is_gone_and_a_read_holds_no_lock(sqlite: Database, secret: bytes,
                                                                    tmp_path: Path) -> None:
    hasher = Hasher(secret)
    with pytest.raises(RuntimeError):
        async with sqlite.session() as session:
            await create_citizen(session, hasher, national_id="0012345679")
            await session.flush()
            raise RuntimeError("the unit of work fails after its write")
    async with sqlite.session() as session:
        found = await session.exec(text("SELECT count(*) FROM citizens"))  # type: ignore[call-overload]
        assert found.one()[0] == 0
        # The read's session is still open here; another process's writer must not wait for it.
        path = Path(str(sqlite.engine.url.database))
        other = sqlite3.connect(path, timeout=0.2)
        try:
            other.execute("CREATE TABLE other_writer (id INTEGER)")
            other.commit()
        finally:
            other.close()
    async with sqlite.session() as session:
        await create_citizen(session, hasher, national_id="0012345679")
    async with sqlite.session() as session:
        found = await session.exec(text("SELECT count(*) FROM citizens"))  # type: ignore[call-overload]
        assert found.one()[0] == 1
