"""`eblagh import ...` in-process on the embedded SQLite default: exit statuses, stderr, stdout."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands.imports import EXIT_DATABASE_FAILED, cli_actor
from tests.factories import national_id_from

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FILES = {"citizens": "citizens.csv", "cases": "cases.jsonl", "rulings": "rulings.jsonl",
         "subscribers": "subscribers.csv"}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret")
    return tmp_path / "data"


def query(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "eblagh.db") as conn:
        return conn.execute(sql).fetchall()


def import_examples(capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[int, str, str]]:
    results = {}
    for kind, name in FILES.items():
        status = main(["import", kind, str(EXAMPLES / name)])
        out, err = capsys.readouterr()
        results[kind] = (status, out, err)
    return results


def test_examples_report_bad_rows_and_reimport_changes_nothing(data_dir: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    first = import_examples(capsys)
    assert {kind: r[0] for kind, r in first.items()} == dict.fromkeys(FILES, 1)
    status, out, err = first["citizens"]
    assert "inserted=4 updated=0 unchanged=0 bad=5" in out
    assert [line.split(":")[0] for line in err.splitlines()] == ["خط ۶", "خط ۷", "خط ۸", "خط ۹", "خط ۱۰"]
    assert "رقم کنترل" in err and "همهٔ رقم‌ها یکسان" in err and "mobile" in err and "district" in err
    assert "inserted=4" in first["cases"][1] and "خط ۸: JSON" in first["cases"][2]
    assert "inserted=4" in first["rulings"][1] and "inserted=3" in first["subscribers"][1]

    identifiers = set(re.findall(r"[0-9۰-۹]{10,}", "".join((EXAMPLES / n).read_text() for n in FILES.values())))
    printed = "".join(out + err for _, out, err in first.values())
    assert [i for i in identifiers if i in printed] == [], "a whole national ID or mobile was printed"

    counts = "select (select count(*) from citizens), (select count(*) from cases), " \
             "(select count(*) from rulings), (select count(*) from notices), (select count(*) from chat_bindings)"
    stamps = "select updated_at from citizens union all select updated_at from cases"
    before = (query(data_dir, counts), query(data_dir, stamps))
    assert before[0] == [(4, 4, 4, 4, 3)]

    second = import_examples(capsys)
    assert {kind: r[0] for kind, r in second.items()} == dict.fromkeys(FILES, 1)
    for kind, (_, out, err) in second.items():
        assert "inserted=0 updated=0" in out, kind
        assert err == first[kind][2], "the same bad rows, the same reasons"
    assert (query(data_dir, counts), query(data_dir, stamps)) == before
    # every run is audited, also those that changed nothing: who, kind, file, counts, completed
    events = query(data_dir, "select actor, action, subject, detail from audit_events where action like 'import.%'")
    assert len(events) == 8
    assert {actor for actor, *_ in events} == {cli_actor()} and cli_actor().startswith("cli")
    assert [(action, subject) for _, action, subject, _ in events[:4]] == [
        (f"import.{kind}", name) for kind, name in FILES.items()]
    assert json.loads(events[0][3]) == {"file": "citizens.csv", "inserted": 4, "updated": 0, "unchanged": 0,
                                        "bad": 5, "completed": True, "applied_through_line": 5}


def test_clean_file_exits_zero_with_json(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "citizens.csv"
    path.write_bytes("\ufeffnational_id,mobile,full_name,district\r\n0012345679,۰۹۱۲۱۲۳۴۵۶۷,مریم,۵\r\n".encode())
    assert main(["import", "citizens", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["inserted"], report["bad"], report["problems"]) == (1, 0, [])
    assert query(data_dir, "select nid_masked, mobile_masked, district from citizens") == [
        ("001****679", "+98912***4567", 5)]


def test_unusable_files_exit_two_and_apply_nothing(data_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    header = tmp_path / "no-mobile.csv"
    header.write_text("national_id,phone\n0012345679,09121234567\n")
    assert main(["import", "citizens", str(header)]) == 2
    assert "mobile" in capsys.readouterr().err
    excel = tmp_path / "excel.csv"
    excel.write_bytes("national_id,mobile,full_name,district\n0012345679,09121234567,مريم,5\n".encode("cp1256"))
    assert main(["import", "citizens", str(excel)]) == 2
    assert "UTF-8" in capsys.readouterr().err
    assert main(["import", "rulings", str(tmp_path / "missing.jsonl")]) == 2
    assert query(data_dir, "select count(*) from citizens") == [(0,)]


def test_an_oversized_csv_field_is_a_line_error_not_a_traceback(data_dir: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "citizens.csv"
    path.write_text("national_id,mobile,full_name,district\n"
                    f"0012345679,09121234567,\"{'x' * 300_000}\",5\n"
                    "1234567891,09351112233,علی,12\n")
    assert main(["import", "citizens", str(path)]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("خط ۲: ") and "Traceback" not in err and "inserted=1" in out
    assert query(data_dir, "select nid_masked from citizens") == [("123****891",)]


def test_a_database_failure_mid_import_says_what_was_applied_and_exits_3(
        data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first.csv"
    first.write_text("national_id,mobile,full_name,district\n0012345679,09121234567,مریم,5\n")
    assert main(["import", "citizens", str(first)]) == 0
    with sqlite3.connect(data_dir / "eblagh.db") as conn:
        conn.execute("CREATE TRIGGER boom BEFORE INSERT ON citizens WHEN NEW.full_name = 'boom' "
                     "BEGIN SELECT RAISE(ABORT, 'boom'); END")
    nids = [national_id_from(f"0443322{i:02d}") for i in range(5)]
    names = ["علی", "رضا", "سارا", "boom", "نادر"]
    rows = [f"{nid},0912000000{i},{name},3" for i, (nid, name) in enumerate(zip(nids, names, strict=True))]
    path = tmp_path / "citizens.csv"
    path.write_text("national_id,mobile,full_name,district\n" + "\n".join(rows) + "\n")
    capsys.readouterr()
    assert main(["import", "citizens", str(path), "--batch-size", "2", "--json"]) == EXIT_DATABASE_FAILED
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert "Traceback" not in err and "ورود ناتمام ماند" in err
    assert "applied through line 3, not applied from line 4" in err and "خط ۱ تا ۳" in err and "از خط ۴" in err
    assert (report["completed"], report["not_applied_from_line"], report["inserted"]) == (False, 4, 2)
    # the batch of lines 4-5 failed at line 5: line 4, written first, was rolled back with it; line 6 never ran
    assert query(data_dir, "select full_name from citizens order by id") == [("مریم",), ("علی",), ("رضا",)]
    actor, detail = query(data_dir, "select actor, detail from audit_events order by id desc limit 1")[0]
    assert actor == cli_actor() and json.loads(str(detail))["completed"] is False
