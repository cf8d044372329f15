"""`eblagh broadcast create|status|cancel`: the command-line contract of DESIGN.md."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.cli import main
from storage.database import Database, upgrade
from tests.delivery_kit import SECRET, seed_subscribers


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "REDIS_URL", "BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", SECRET.decode())
    url = f"sqlite:///{tmp_path / 'data' / 'eblagh.db'}"
    upgrade(url)

    async def seed() -> None:
        db = Database(url)
        await seed_subscribers(db, [90_001, 90_002, 90_003], district=5)
        await seed_subscribers(db, [90_011], district=8)
        await db.close()

    asyncio.run(seed())
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["broadcast", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_create_dry_run_create_status_cancel(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "create", "--text", "سلام", "--segment", "district:5", "--dry-run", "--json")
    assert status == 0 and json.loads(out) == {"id": None, "recipients": 3, "dry_run": True}

    status, out, _ = run(capsys, "create", "--text", "سلام همه", "--json")
    assert status == 0 and json.loads(out) == {"id": 1, "recipients": 4}

    status, out, _ = run(capsys, "status", "1", "--json")
    assert status == 0 and json.loads(out) == {"id": 1, "state": "queued", "recipients": 4, "sent": 0,
                                               "failed": 0, "blocked": 0, "pending": 4}

    status, out, _ = run(capsys, "cancel", "1")
    assert status == 0 and "4" in out
    status, out, _ = run(capsys, "status", "1", "--json", "--follow")
    assert status == 0 and json.loads(out)["state"] == "cancelled"
    status, _, err = run(capsys, "cancel", "1")
    assert status == 1 and err


def test_a_later_broadcast_is_scheduled(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "create", "--text", "بعداً", "--segment", "status:hearing_scheduled",
                         "--at", "2099-01-01T09:00", "--json")
    created = json.loads(out)
    assert status == 0 and created["recipients"] == 0 and created["scheduled_at"] == "2099-01-01T05:30:00+00:00"
    status, out, _ = run(capsys, "status", str(created["id"]))
    assert status == 0 and "scheduled" in out


@pytest.mark.parametrize(("argv", "says"), [
    (["--text", "  "], "خالی"),
    (["--text", "x" * 4097], "۴۰۹۶"),
    (["--text", "x", "--segment", "city:1"], "گروه گیرندگان"),
    (["--text", "x", "--segment", "district:0"], "منطقه"),
    (["--text", "x", "--segment", "status:lost"], "وضعیت پرونده"),
    (["--text", "x", "--at", "tomorrow"], "زمان ارسال"),
])
def test_bad_input_is_refused_with_a_reason(cli_env: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                                            says: str) -> None:
    status, out, err = run(capsys, "create", *argv)
    assert status == 2 and not out and says in err


def test_status_of_an_unknown_broadcast(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "status", "99")
    assert status == 1 and "99" in err



def test_a_broadcast_to_nobody_is_refused_not_queued(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "create", "--text", "اطلاعیه", "--segment", "district:21", "--json")
    assert status == 1 and out == "" and "nothing queued" in err
    status, _, err = run(capsys, "status", "1", "--json")
    assert status == 1 and err  # no broadcast was recorded
