from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError

from services.privacy import Hasher
from storage import citizens as citizen_store
from storage.database import Database, async_url
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
