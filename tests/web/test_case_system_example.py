"""Done-when of the integration API: examples/case_system.py plays the case system end to end
(eblagh web + eblagh run against the loopback Bot API, signed callbacks verified) and exits 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_case_system_example_receives_signed_delivered_and_viewed_callbacks() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "examples" / "case_system.py")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["pushed"] == ["inserted", "inserted", "inserted"]
    assert summary["callbacks"] == ["notice.delivered", "notice.viewed"] and summary["signatures_verified"] == 2
    assert summary["notice"]["status"] == "viewed" and summary["notice"]["service_kind"] == "viewed"
