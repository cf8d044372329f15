"""DATA_DIR: created 0700; an existing one open to others is tightened only when it is plainly eblagh's."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def embedded(data_dir: Path) -> Settings:
    return Settings(_env_file=None, DATA_DIR=str(data_dir))  # type: ignore[call-arg]


def open_and_close(settings: Settings) -> None:
    runtime = open_runtime(settings, announce=False)  # upgrades the schema: before any event loop
    asyncio.run(runtime.database.close())


def test_a_new_data_dir_is_0700_with_its_key_and_database_0600(tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "deep" / "data"
    open_and_close(embedded(data))
    assert mode(tmp_path / "deep") == mode(data) == 0o700
    assert mode(data / "secret.key") == mode(data / "eblagh.db") == 0o600
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_an_old_eblagh_folder_is_tightened_and_says_so(tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data"
    open_and_close(embedded(data))
    data.chmod(0o755)  # as an older eblagh left it
    (data / "secret.key").chmod(0o644)
    (data / "eblagh.db").chmod(0o644)
    open_and_close(embedded(data))
    assert mode(data) == 0o700 and mode(data / "secret.key") == mode(data / "eblagh.db") == 0o600
    assert any("tightened to 0o700" in r.getMessage() for r in caplog.records)


def test_a_folder_that_is_not_only_eblaghs_is_left_with_a_warning(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "home"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "notes.txt").write_text("someone else's")
    open_and_close(embedded(data))
    assert mode(data) == 0o755, "not ours to chmod"
    assert mode(data / "eblagh.db") == mode(data / "secret.key") == 0o600
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and f"chmod 700 {data}" in warnings[0] and "0o755" in warnings[0]
