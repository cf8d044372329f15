import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import MissingSecretKey, Settings, resolve_secret_key


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type,call-arg]


def test_the_embedded_default_makes_a_key_once_and_keeps_it(tmp_path: Path) -> None:
    settings = _settings(DATA_DIR=tmp_path)
    key, notice = resolve_secret_key(settings)
    assert notice is not None and "secret.key" in notice
    assert stat.S_IMODE((tmp_path / "secret.key").stat().st_mode) == 0o600
    again, second_notice = resolve_secret_key(settings)
    assert again == key and second_notice is None


def test_postgresql_without_a_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretKey):
        resolve_secret_key(_settings(DATA_DIR=tmp_path, DATABASE_URL="postgresql://u@127.0.0.1/db"))
    assert not (tmp_path / "secret.key").exists()


def test_the_cli_says_so_instead_of_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DATABASE_URL"] = "postgresql://postgres@127.0.0.1:5432/test"
    result = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_blank_values_count_as_unset() -> None:
    settings = _settings(DATABASE_URL="  ", STAFF_CHAT_ID="", STAFF_USER_IDS="12, 34")
    assert settings.database_url is None and settings.embedded
    assert settings.staff_chat_id is None and settings.staff_ids == frozenset({12, 34})
