from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main


def test_classify_writes_one_json_line_per_message(
    model_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("جریمه من چقدره؟\nکد ملی ۰۰۱۲۳۴۵۶۷۹\n"))
    assert main(["nlp", "--cache-dir", str(model_cache), "classify"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["intent"] for line in lines][0] == "fine_amount"
    assert set(lines[0]) == {"text", "intent", "confidence", "entities"}
    assert lines[1]["entities"] == [{"type": "national_id", "value": "0012345679", "start": 7, "end": 17}]


def test_eval_json(model_cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "mini.tsv"
    data.write_text("fine_amount\tجریمه من چقدره\nout_of_scope\tقیمت دلار چنده\n", encoding="utf-8")
    assert main(["nlp", "--cache-dir", str(model_cache), "eval", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == 1.0 and report["total"] == 2
    assert {"macro_f1", "confusions", "latency_ms_p50", "latency_ms_p99"} <= set(report)


def test_eval_reports_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "bad.tsv"
    data.write_text("no tab here\n", encoding="utf-8")
    assert main(["nlp", "--no-cache", "eval", str(data)]) == 2
    assert "expected intent<TAB>text" in capsys.readouterr().err
