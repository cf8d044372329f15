"""`eblagh holidays [YEAR] [--json]` and the receipts export's new column, through the CLI entry point."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from services.law.calendar import tehran_date, to_jalali
from services.law.holidays import LAST_YEAR

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_lists_a_year_with_persian_digits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["holidays", "1405"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "۱۴۰۵/۰۱/۰۱  2026-03-21  شنبه  جشن نوروز"
    assert "۱۴۰۵/۰۱/۱۳  2026-04-02  پنجشنبه  روز طبیعت" in lines
    assert "۱۴۰۵/۰۳/۱۵  2026-06-05  جمعه  قیام ۱۵ خرداد" in lines
    assert "۱۴۰۵/۱۱/۲۲  2027-02-11  پنجشنبه  پیروزی انقلاب اسلامی" in lines
    assert lines[-1] == "۱۴۰۵/۱۲/۲۹  2027-03-20  شنبه  روز ملی شدن صنعت نفت ایران"
    assert f"{len(lines)} holidays in 1405" in err


def test_estimated_dates_are_marked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["holidays", "۱۴۱۵"]) == 0  # Persian digits are fine
    out, _ = capsys.readouterr()
    assert "۱۴۱۵/۰۹/۲۴  2036-12-14  یکشنبه  شهادت امام جعفر صادق علیه السلام (تخمینی)" in out.splitlines()
    assert "۱۴۱۵/۰۱/۰۱  2036-03-20  پنجشنبه  جشن نوروز" in out.splitlines()  # solar: never estimated


def test_json_lines_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["holidays", "1415", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0] == {"jalali": "1415/01/01", "date": "2036-03-20", "weekday": "پنجشنبه",
                          "title": "جشن نوروز", "estimated": False, "source": None}
    sadiq = [r for r in records if r["date"] == "2036-12-14"]
    assert sadiq == [{"jalali": "1415/09/24", "date": "2036-12-14", "weekday": "یکشنبه",
                      "title": "شهادت امام جعفر صادق علیه السلام", "estimated": True, "source": None}]
    assert [r["date"] for r in records] == sorted(r["date"] for r in records)


def test_defaults_to_the_current_jalali_year_in_tehran(capsys: pytest.CaptureFixture[str]) -> None:
    before = to_jalali(tehran_date(datetime.now(UTC))).year
    assert main(["holidays", "--json"]) == 0
    after = to_jalali(tehran_date(datetime.now(UTC))).year
    years = {int(json.loads(line)["jalali"][:4]) for line in capsys.readouterr().out.splitlines()}
    assert years in ({before}, {after})


@pytest.mark.parametrize(("year", "message"), [(str(LAST_YEAR + 1), "outside the covered years"),
                                               ("next", "not a Jalali year")])
def test_a_bad_year_is_refused(capsys: pytest.CaptureFixture[str], year: str, message: str) -> None:
    assert main(["holidays", year]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_receipts_csv_has_the_estimated_column(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret")
    for kind, name in (("citizens", "citizens.csv"), ("cases", "cases.jsonl"), ("rulings", "rulings.jsonl")):
        main(["import", kind, str(EXAMPLES / name)])
    capsys.readouterr()
    assert main(["receipts", "export", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    header = rows[0]
    assert header[header.index("appeal_deadline_jalali") + 1] == "appeal_deadline_estimated"
    assert header[-3:] == ["proof_seq", "proof_hash", "auth_proof"]
    assert len(rows) > 1
    # Nothing was delivered, so no deadline yet, and a boolean is written as in the JSON lines.
    column = header.index("appeal_deadline_estimated")
    assert {row[column] for row in rows[1:]} == {"false"}


def test_an_override_file_is_checked_and_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"closures": [{"date": "1405/04/10", "title": "تعطیلی به‌دلیل گرمای هوا",
                                              "source": "https://example.ir/decree"}]}), encoding="utf-8")
    assert main(["holidays", "1405", "--json", "--overrides", str(good)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {"jalali": "1405/04/10", "date": "2026-07-01", "weekday": "چهارشنبه", "title": "تعطیلی به‌دلیل گرمای هوا",
            "estimated": False, "source": "https://example.ir/decree"} in records

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"closures": [{"date": "1405/04/10", "title": "x"}]}), encoding="utf-8")
    assert main(["holidays", "1405", "--overrides", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("eblagh: ") and str(bad) in err and "missing source" in err
