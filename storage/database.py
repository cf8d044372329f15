"""Engines and sessions for SQLite (embedded) and PostgreSQL, and the schema upgrade.

`DATABASE_URL` is a plain URL; the async driver is chosen here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.util.concurrency import await_
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import sqlite_driver
from storage.files import private_sqlite_file

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    """sqlite:///x.db -> sqlite+eblagh_aiosqlite:///x.db (storage/sqlite_driver.py: aiosqlite, one thread hop a
    statement); postgresql://... -> postgresql+asyncpg://..."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+{sqlite_driver.DRIVER}://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database: {base} (use sqlite or postgresql)")


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the shell read while an import writes; the busy timeout makes writers queue.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for an in-memory one."""
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def create_engine(url: str) -> AsyncEngine:
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            # personal data: 0600 before SQLite opens it, so its -wal and -shm are born 0600 too
            private_sqlite_file(path)
        engine = create_async_engine(async_url(url), connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(async_url(url), pool_size=10, max_overflow=10)
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "checkout", _ping_postgresql)
    return engine


# A connection given back to the pool less than this long ago is taken without a ping (HikariCP's
# aliveBypassWindowMs, 500 ms by default): under load that is every checkout, one round trip less per
# update. A server that went away meanwhile is still caught when asyncpg saw the socket close.
PING_BYPASS_SECONDS = 0.5


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    if record is not None:
        record.info["checked_in_at"] = time.monotonic()


def _ping_postgresql(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection is alive before use, else the pool replaces it (PostgreSQL restarted, say).

    SQLAlchemy's pool_pre_ping does this inside BEGIN ... ROLLBACK, for pgbouncer's transaction mode
    (which asyncpg's prepared statements do not suit anyway): three round trips on every checkout,
    that is on every update. Here: none when asyncpg already saw the socket close or the connection was
    in use a moment ago, else one.
    """
    driver = proxy.driver_connection
    if driver.is_closed():
        raise DisconnectionError("connection closed")
    returned = record.info.get("checked_in_at")
    if returned is not None and time.monotonic() - returned < PING_BYPASS_SECONDS:
        return
    try:
        await_(driver.fetchrow(";"))
    except Exception as error:
        raise DisconnectionError(str(error)) from error


@dataclass
class _Unit:
    connection: AsyncConnection
    task: asyncio.Task[object] | None
    autocommit: bool = False  # its connection is switched to autocommit for reads (PostgreSQL)


class Database:
    """One engine and its session factory; created by the composition root, passed in."""

    def __init__(self, url: str, *, proof_key: bytes | None = None) -> None:
        self.url = url
        self.engine = create_engine(url)
        # SECRET_KEY rides with every session: the proof chain's head is sealed with it (storage/proof.py).
        self.proof_key = proof_key
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False,
                                            info={"proof_key": proof_key} if proof_key else None)
        # The unit of work in progress (see `unit`): its connection and the task that opened it.
        self._unit: ContextVar[_Unit | None] = ContextVar(f"eblagh_unit_{id(self)}", default=None)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[None]:
        """One pooled connection for every `session()` opened inside (e.g. all that one update reads and writes).

        Each session block still commits (or rolls back) on its own, exactly as outside a unit; what is
        shared is the connection: one checkout, one PostgreSQL pre-ping and one reset instead of one per
        block (bench/conversation.py: these round trips were about a quarter of a PostgreSQL answer's CPU). Keep a
        unit short: the connection is held until it ends (never across a send to the messenger). A nested
        unit joins the outer one; a task started inside uses the pool as usual, never the unit's connection.
        """
        if self._held() is not None:
            yield
            return
        async with self.engine.connect() as connection:  # (returned to the pool at its own isolation level)
            token = self._unit.set(_Unit(connection, asyncio.current_task()))
            try:
                yield
            finally:
                self._unit.reset(token)

    def _held(self) -> _Unit | None:
        held = self._unit.get()
        if held is None or held.task is not asyncio.current_task():
            return None
        return held

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (never a write, never SELECT ... FOR UPDATE).

        On PostgreSQL its statements run without BEGIN and COMMIT: each SELECT is atomic on its own,
        and at READ COMMITTED each statement of a transaction takes its own snapshot anyway, so what
        a read sees is the same; what is saved is two round trips per session. On SQLite this is
        `session()`: its reads open no transaction there (storage/sqlite_driver.py).
        """
        unit = self._held()
        if self.dialect != "postgresql" or (unit is not None and unit.connection.in_transaction()):
            async with self.session() as session:  # (inside another session's transaction: join it)
                yield session
            return
        if unit is None:
            async with self.engine.connect() as own:
                await own.execution_options(isolation_level="AUTOCOMMIT")  # reset when pooled again
                async with self._sessions(bind=own) as session:
                    yield session
            return
        # A unit's reads in a row share one switch to autocommit; its next `session()` switches back.
        if not unit.autocommit:
            await unit.connection.execution_options(isolation_level="AUTOCOMMIT")
            unit.autocommit = True
        async with self._sessions(bind=unit.connection) as session:
            yield session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends normally, rolled back otherwise."""
        unit = self._held()
        if unit is not None and unit.autocommit:
            await unit.connection.execution_options(isolation_level=unit.connection.default_isolation_level)
            unit.autocommit = False
        factory = self._sessions if unit is None else partial(self._sessions, bind=unit.connection)
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def close(self) -> None:
        await self.engine.dispose()


async def schema_is_current(db: Database) -> bool:
    """True when the database answers and its schema is at the newest migration."""
    import sqlalchemy
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    heads = set(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sqlalchemy.inspect(sync).has_table("alembic_version"))
        if not tables:
            return False  # never migrated
        rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    return {row[0] for row in rows} == heads


def upgrade(url: str, revision: str = "head", *, proof_key: bytes | None = None) -> None:
    """Bring the schema to `revision` (synchronous: call it before the loop or in a thread).

    `proof_key` (SECRET_KEY) seals the proof chain that migration 0006 backfills from existing rows.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    config.attributes["proof_key"] = proof_key
    command.upgrade(config, revision)
