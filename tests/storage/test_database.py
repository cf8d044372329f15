import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from services.privacy import Hasher
from storage import citizens as citizen_store
from storage.database import PING_BYPASS_SECONDS, Database, async_url
from tests.factories import create_citizen


def test_async_url_picks_the_driver() -> None:
    assert async_url("sqlite:///x.db") == "sqlite+eblagh_aiosqlite:///x.db"
    assert async_url("postgresql://u@h:5432/d") == "postgresql+asyncpg://u@h:5432/d"
    with pytest.raises(ValueError):
        async_url("mysql://u@h/d")


async def test_times_round_trip_as_aware_utc(db: Database, secret: bytes) -> None:
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret))
        when = datetime(2025, 1, 20, 21, 30, tzinfo=UTC)
        binding = await citizen_store.bind_chat(session, citizen.id or 0, "telegram", 42, 42, when)
        binding_id = binding.id
    async with db.session() as session:
        found = await citizen_store.find_active_binding(session, "telegram", 42)
        assert found is not None and found.id == binding_id
        assert found.bound_at == when and found.bound_at.tzinfo is not None


async def test_national_id_hash_is_unique(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await create_citizen(session, hasher, national_id="0012345679")
            await create_citizen(session, hasher, national_id="0012345679")


async def test_rebinding_a_chat_moves_it_to_the_new_citizen(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    now = datetime.now(UTC)
    async with db.session() as session:
        first = await create_citizen(session, hasher)
        second = await create_citizen(session, hasher)
        await citizen_store.bind_chat(session, first.id or 0, "bale", 7, 7, now)
        await citizen_store.unbind_chat(session, "bale", 7, now)
        assert await citizen_store.find_active_binding(session, "bale", 7) is None
        await citizen_store.bind_chat(session, second.id or 0, "bale", 7, 7, now)
        active = await citizen_store.find_active_binding(session, "bale", 7)
        assert active is not None and active.citizen_id == second.id
        assert await citizen_store.list_active_bindings(session, first.id or 0) == []


async def _in_transaction(session) -> bool:  # type: ignore[no-untyped-def]
    """Whether the server connection under this session is inside BEGIN ... COMMIT right now."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return bool(raw.driver_connection.is_in_transaction())


@pytest.mark.postgres
async def test_reads_take_no_transaction_and_writes_still_do(pg_db: Database, secret: bytes) -> None:
    from sqlalchemy import text

    hasher = Hasher(secret)
    async with pg_db.session() as session:
        citizen = await create_citizen(session, hasher)
        await citizen_store.bind_chat(session, citizen.id or 0, "bale", 9, 9, datetime.now(UTC))
    for unit in (False, True):
        async with pg_db.unit() if unit else _nothing():
            for _ in range(2):  # (in a unit, reads in a row share the connection's switch to autocommit)
                async with pg_db.reading() as session:
                    found = await citizen_store.find_active_binding(session, "bale", 9)
                    assert found is not None and found.citizen_id == citizen.id
                    assert not await _in_transaction(session)  # no BEGIN/COMMIT round trips for a read
            # A write after a read on the same connection is a transaction again: all or nothing.
            with pytest.raises(RuntimeError):
                async with pg_db.session() as session:
                    await create_citizen(session, hasher, national_id="0084575948")
                    await session.flush()
                    assert await _in_transaction(session)
                    raise RuntimeError("fails after its write")
            async with pg_db.session() as session:
                rows = await session.exec(text("SELECT count(*) FROM citizens"))  # type: ignore[call-overload]
                assert rows.one()[0] == 1
                assert await _in_transaction(session)
            async with pg_db.reading() as session:  # and a read after a write takes none again
                assert await citizen_store.find_active_binding(session, "bale", 9) is not None
                assert not await _in_transaction(session)
    # A unit that ended on a read gave its connection back at the pool's own isolation level.
    async with pg_db.unit(), pg_db.reading() as session:
        assert not await _in_transaction(session)
    for _ in range(3):
        async with pg_db.session() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            assert await _in_transaction(session)


@pytest.mark.postgres
async def test_a_connection_the_server_dropped_is_replaced_before_use(pg_db: Database) -> None:
    from sqlalchemy import text

    async with pg_db.engine.connect() as other:
        async with pg_db.engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # Back in the pool, idle, and killed from outside (as a server restart does).
        await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await asyncio.sleep(PING_BYPASS_SECONDS + 0.1)  # (past the window in which a checkout takes it unpinged)
    async with pg_db.session() as session:  # no error: the checkout ping saw it gone and reconnected
        rows = await session.exec(text("SELECT pg_backend_pid()"))  # type: ignore[call-overload]
        assert rows.one()[0] != pid


@pytest.mark.postgres
async def test_a_connection_in_use_a_moment_ago_is_taken_without_a_ping(pg_db: Database) -> None:
    pinged: list[str] = []
    async with pg_db.engine.connect() as connection:  # a new connection (pinged before this listens)
        raw = await connection.get_raw_connection()
        raw.driver_connection.add_query_logger(lambda record: pinged.append(record.query))
    async with pg_db.engine.connect():  # given back just now: taken as it is
        pass
    await asyncio.sleep(0.05)
    assert pinged == []
    await asyncio.sleep(PING_BYPASS_SECONDS)
    async with pg_db.engine.connect():  # idle for longer: one ping
        pass
    await asyncio.sleep(0.05)
    assert pinged == [";"]


@asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield
