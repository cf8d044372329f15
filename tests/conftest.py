"""Shared fixtures: a real database per test (SQLite, and PostgreSQL on 127.0.0.1), real Redis.

`db` runs a test on both backends; `sqlite_db` on SQLite alone. Each PostgreSQL test gets a fresh
database created from a migrated template, so tests never see each other's rows.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from storage.database import Database, upgrade

pytest_plugins = ["tests.botapi.fixtures"]

PG_HOST = os.environ.get("EBLAGH_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN_URL = f"postgresql://postgres@{PG_HOST}:5432/postgres"
REDIS_TEST_URL = os.environ.get("EBLAGH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SECRET = b"test-secret-key-not-for-production"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _require(host: str, port: int, what: str) -> None:
    if not _port_open(host, port):
        # CI starts both services (.ci/run); a missing one is a failure, not a skip.
        pytest.fail(f"{what} is not running on {host}:{port}; start it (see DESIGN.md)")


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """Run blocking setup off the event loop: session fixtures may be first requested from async ones."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database, created once per test session."""
    _require(PG_HOST, 5432, "PostgreSQL")
    name = f"eblagh_tpl_{uuid.uuid4().hex[:8]}"
    _in_thread(asyncio.run, _pg_admin(f'CREATE DATABASE "{name}"'))
    _in_thread(upgrade, f"postgresql://postgres@{PG_HOST}:5432/{name}")
    yield name
    _in_thread(asyncio.run, _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    _in_thread(upgrade, f"sqlite:///{path}")
    return path


async def _sqlite_database(template: Path, tmp_path: Path) -> Database:
    target = tmp_path / "eblagh.db"
    target.write_bytes(template.read_bytes())
    return Database(f"sqlite:///{target}", proof_key=SECRET)


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    database = await _sqlite_database(sqlite_template, tmp_path)
    yield database
    await database.close()


@asynccontextmanager
async def _pg_database(template: str) -> AsyncIterator[Database]:
    """A fresh PostgreSQL database copied from the migrated template, dropped afterwards."""
    name = f"eblagh_t_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    database = Database(f"postgresql://postgres@{PG_HOST}:5432/{name}", proof_key=SECRET)
    try:
        yield database
    finally:
        await database.close()
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_db(pg_template: str) -> AsyncIterator[Database]:
    async with _pg_database(pg_template) as database:
        yield database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        database = await _sqlite_database(sqlite_template, tmp_path)
        yield database
        await database.close()
        return
    async with _pg_database(request.getfixturevalue("pg_template")) as database:
        yield database


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A real Redis (database 15), flushed before and after the test."""
    import redis.asyncio as redis

    _require("127.0.0.1", 6379, "Redis")
    client = redis.Redis.from_url(REDIS_TEST_URL)
    await client.flushdb()
    yield REDIS_TEST_URL
    await client.flushdb()
    await client.aclose()


@pytest.fixture
def secret() -> bytes:
    return SECRET


@pytest.fixture(scope="session")
def intent_model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The real hazm-based intent model, trained once per test session."""
    from nlp import IntentModel

    return IntentModel.load(cache_dir=tmp_path_factory.mktemp("model-cache"))
