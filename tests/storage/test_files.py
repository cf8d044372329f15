"""The SQLite database and its -wal/-shm are 0600 and the folders eblagh makes 0700, whatever the umask."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import Database, upgrade
from storage.files import make_private_dir, tighten, write_private_file


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    """The usual 022: what SQLite and mkdir would give the world without care."""
    old = os.umask(0o022)
    yield
    os.umask(old)


async def test_a_new_database_and_its_wal_and_shm_are_0600_after_a_write(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "eblagh.db"
    db = Database(f"sqlite:///{path}")
    try:
        async with db.session() as session:
            await session.exec(text("CREATE TABLE t (x TEXT)"))  # type: ignore[call-overload]
            await session.exec(text("INSERT INTO t VALUES ('personal')"))  # type: ignore[call-overload]
        wal, shm = path.with_name("eblagh.db-wal"), path.with_name("eblagh.db-shm")
        assert wal.exists() and wal.stat().st_size > 0 and shm.exists(), "WAL files exist while the engine is open"
        assert {p.name: oct(mode(p)) for p in (path, wal, shm)} == dict.fromkeys(
            ("eblagh.db", "eblagh.db-wal", "eblagh.db-shm"), "0o600")
        assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    finally:
        await db.close()


def test_the_schema_upgrade_creates_the_file_0600_too(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    upgrade(f"sqlite:///{path}")
    assert path.stat().st_size > 0 and mode(path) == 0o600


def test_files_left_wider_by_an_older_version_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "eblagh.db"
    upgrade(f"sqlite:///{path}")
    for p in (path, path.with_name("eblagh.db-wal")):
        p.touch()
        p.chmod(0o644)
    db = Database(f"sqlite:///{path}")  # before the first connection (which would fold the WAL away)
    assert mode(path) == mode(path.with_name("eblagh.db-wal")) == 0o600
    asyncio.run(db.close())


def test_helpers_never_widen_and_leave_existing_folders(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    make_private_dir(shared / "x" / "y")
    assert mode(shared) == 0o755 and mode(shared / "x") == mode(shared / "x" / "y") == 0o700
    key = shared / "key"
    write_private_file(key, "k")
    assert mode(key) == 0o600 and key.read_text() == "k"
    with pytest.raises(FileExistsError):
        write_private_file(key, "other")
    key.chmod(0o400)
    assert not tighten(key) and mode(key) == 0o400, "narrower than 0600 is left alone"
    assert not tighten(shared / "absent")
