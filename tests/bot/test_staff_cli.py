"""`eblagh staff add|list|disable|reset` as a subprocess on the embedded default."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pyotp


def eblagh(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATA_DIR": str(data_dir), "DATABASE_URL": "", "REDIS_URL": "", "SECRET_KEY": "cli-test-key"}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])


def test_staff_accounts_from_the_command_line(tmp_path: Path) -> None:
    added = eblagh(tmp_path, "staff", "add", "Maryam", "--role", "operator")
    assert added.returncode == 0, added.stderr
    secret = re.search(r"TOTP secret:\s+([A-Z2-7]+)", added.stdout)
    assert secret and "one-time password: " in added.stdout
    assert f"otpauth://totp/eblagh:maryam?secret={secret.group(1)}&issuer=eblagh" in added.stdout
    assert pyotp.TOTP(secret.group(1)).now().isdigit()
    assert eblagh(tmp_path, "staff", "add", "maryam", "--role", "viewer").returncode == 1  # exists
    listed = eblagh(tmp_path, "staff", "list")
    assert listed.stdout.startswith("maryam\toperator\tactive")
    reset = eblagh(tmp_path, "staff", "reset", "maryam")
    assert reset.returncode == 0 and secret.group(1) not in reset.stdout
    assert eblagh(tmp_path, "staff", "disable", "maryam").returncode == 0
    assert "maryam\toperator\tdisabled" in eblagh(tmp_path, "staff", "list").stdout
    assert eblagh(tmp_path, "staff", "disable", "nobody").returncode == 1
