"""`eblagh shell` as a program: the contract in DESIGN.md, driven through standard input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EBLAGH = [sys.executable, "-m", "bot.cli"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL")}
    env["DATA_DIR"] = str(tmp_path / "data")
    return env


def _run(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(EBLAGH + args, input=stdin, capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path), timeout=120)


def _button(output: str, label: str, index: int = -1) -> int:
    numbers = re.findall(r"^  \[(\d+)\] " + re.escape(label), output, flags=re.M)
    assert numbers, f"no button {label!r} in:\n{output}"
    return int(numbers[index])


@pytest.fixture
def demo_dir(tmp_path: Path) -> Path:
    return tmp_path


def test_demo_journey_binds_pushes_and_records_service(demo_dir: Path) -> None:
    login = "/start\n0012345679\n:contact 09121234567 4242\n:contact 09121234567\n"
    first = _run(["shell", "--demo"], demo_dir, login)
    assert first.returncode == 0, first.stderr
    out = first.stdout
    assert "0012345679" in out and "09121234567" in out  # the demo credentials are printed
    assert "bot> " in out
    assert "این شماره متعلق به حساب خود شما نیست" in out
    assert "هویت شما تأیید شد" in out
    # Both demo rulings were pushed without another command, each with its open button.
    assert out.count("📖 مشاهده متن کامل رأی") == 2
    assert "secret.key" in first.stderr  # the embedded default says it made a key

    # Scripted taps can name any button seen so far; numbering is stable for the same script.
    button = _button(out, "📖 مشاهده متن کامل رأی", 0)  # the first-instance fine
    script = login + f":tap {button}\n:tap {button}\n/notices\n"
    second = _run(["shell", "--demo"], demo_dir, script)
    assert second.returncode == 0, second.stderr
    assert "ابلاغ این رأی به شما در" in second.stdout  # the first opening records service...
    assert second.stdout.count("ابلاغ ثبت شد") == 1  # ...and only the first
    assert "&lt;" not in second.stdout and "&amp;" not in second.stdout  # rendered, not HTML source
    assert "✅ باز شده" in second.stdout

    export = subprocess.run(EBLAGH + ["receipts", "export", "--format", "jsonl"], capture_output=True, text=True,
                            cwd=demo_dir, env={**_env(demo_dir), "DATA_DIR": str(demo_dir / "data" / "demo")},
                            timeout=120)
    assert export.returncode == 0, export.stderr
    records = [json.loads(line) for line in export.stdout.splitlines()]
    assert len(records) == 2
    viewed = [r for r in records if r["service_kind"] == "viewed"]
    assert len(viewed) == 1 and viewed[0]["appeal_deadline"] is not None
    assert all(r["national_id_masked"] == "001****679" for r in records)


def test_directives_and_other_users(tmp_path: Path) -> None:
    script = "/start\n0012345679\n:contact 09121234567\n:user 1002\n:tap 5\n:tap 99\n:bogus\n:quit\n/start\n"
    result = _run(["shell", "--demo"], tmp_path, script)
    assert result.returncode == 0
    assert "دکمه [99] وجود ندارد" in result.stdout
    assert "دستور نامعتبر" in result.stdout
    # After :quit nothing more is answered: the last /start got no welcome for user 1002.
    assert result.stdout.count("خوش آمدید") == 1


def test_a_notice_button_seen_by_one_citizen_cannot_be_used_by_another(tmp_path: Path) -> None:
    login = "/start\n0012345679\n:contact 09121234567\n"
    first = _run(["shell", "--demo"], tmp_path, login)
    button = _button(first.stdout, "📖 مشاهده متن کامل رأی")
    script = login + ":user 1002\n/start\n0499370899\n:contact 09351112233\n" + f":tap {button}\n"
    result = _run(["shell", "--demo"], tmp_path, script)
    assert "این ابلاغیه متعلق به حساب شما نیست" in result.stdout
    assert "ابلاغ ثبت شد" not in result.stdout


def test_a_follow_up_question_is_about_the_case_named_before(tmp_path: Path) -> None:
    # The demo citizen has two cases with a ruling each: «رأی کمیسیون چی شد؟» alone asks which one.
    script = ("/start\n0012345679\n:contact 09121234567\n"
              "رأی کمیسیون چی شد؟\n"
              "جلسه رسیدگی پرونده ۱۴۰۲۰۵۰۹۸۷ کی بود؟\n"
              "رأی کمیسیون چی شد؟\n"
              "اون یکی چی؟\n")
    result = _run(["shell", "--demo"], tmp_path, script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("درباره کدام می‌پرسید؟") == 1  # only the question asked before any case was named
    answers = out[out.index("جلسه رسیدگی پرونده ۱۴۰۲۰۵۰۹۸۷"):]
    # The follow-up answers the named case's ruling, then «اون یکی» the other case's, in that order.
    ruling = answers.index("خلاصه: اعاده پیلوت به وضع سابق")
    other = answers.index("خلاصه: ابقای بنا با پرداخت جریمه")
    assert ruling < other
