"""Imports against real SQLite and PostgreSQL: rows applied, bad rows reported, re-imports inert."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import SQLModel, col, select

from nlp.identifiers import NationalIdProblem
from services.imports import messages as msg
from services.imports.importer import (
    ImportReport,
    import_cases,
    import_citizens,
    import_rulings,
    import_subscribers,
)
from services.imports.rows import (
    MAX_ADDRESS,
    MAX_FULL_NAME,
    MAX_RULING_TEXT,
    MAX_SUMMARY,
    MAX_VIOLATION,
    ImportFileError,
    RowError,
    RowProblem,
    parse_case,
    parse_citizen,
    parse_ruling,
    parse_subscriber,
    read_csv,
    read_jsonl,
)
from services.privacy import Hasher
from storage import citizens as citizen_store
from storage.database import Database
from storage.models import AuditEvent, Case, ChatBinding, Citizen, Notice, Ruling
from tests.factories import create_case, create_citizen, create_ruling, national_id_from

NID_A = "0012345679"
NID_B = national_id_from("123456789")  # 1234567891
NID_C = national_id_from("044332211")
NOW = datetime(2025, 1, 25, 8, 0, tzinfo=UTC)
LATER = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def csv_lines(*rows: str, header: str = "national_id,mobile,full_name,district") -> list[str]:
    return [line + "\n" for line in (header, *rows)]


def jsonl(*objects: dict[str, Any]) -> list[str]:
    return [json.dumps(o, ensure_ascii=False) + "\n" for o in objects]


def case(number: str = "1403051234", nid: str = NID_A, **extra: Any) -> dict[str, Any]:
    return {"case_number": number, "national_id": nid, "status": "hearing_scheduled", "district": 5,
            "address": "خیابان ولیعصر", "violation": "اضافه اشکوب", "hearing_at": "2025-02-10T09:30:00+03:30",
            **extra}


def ruling(rid: str = "R-1403-0001", number: str = "1403051234", nid: str = NID_A, **extra: Any) -> dict[str, Any]:
    return {"ruling_id": rid, "case_number": number, "national_id": nid, "commission": "first", "kind": "fine",
            "issued_at": "2025-01-20", "fine_amount_rials": 1250000000, "summary": "خلاصه",
            "text": "متن کامل رأی", **extra}


def reasons(problems: list[RowProblem]) -> dict[int, str]:
    return {p.line: p.reason for p in problems}


async def count(db: Database, model: type[SQLModel]) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def updated_at(db: Database, model: type[Citizen] | type[Case]) -> list[datetime]:
    async with db.session() as session:
        return list((await session.exec(select(model.updated_at).order_by(col(model.id)))).all())


async def seed(db: Database, hasher: Hasher) -> None:
    """Citizens A, B, C with a case each (1403051234 is A's, ...35 B's, ...36 C's)."""
    await import_citizens(db, hasher, csv_lines(f"{NID_A},09121234567,مریم,5", f"{NID_B},09351112233,علی,12",
                                                f"{NID_C},09129876543,زهرا,3"), now=NOW)
    await import_cases(db, hasher, jsonl(case(), case("1403051235", NID_B), case("1403051236", NID_C)), now=NOW)


# ---------------------------------------------------------------- parsing, no database


def test_national_id_reasons_name_the_exact_problem(secret: bytes) -> None:
    hasher = Hasher(secret)
    expected = {"00123456": NationalIdProblem.CHECKSUM, "001234567": NationalIdProblem.CHECKSUM,
                "123": NationalIdProblem.WRONG_LENGTH, "12345678901": NationalIdProblem.WRONG_LENGTH,
                "00123x5679": NationalIdProblem.NOT_DIGITS, "0012345678": NationalIdProblem.CHECKSUM,
                "2222222222": NationalIdProblem.ALL_SAME, "": NationalIdProblem.EMPTY}
    for raw, problem in expected.items():
        with pytest.raises(RowError) as caught:
            parse_citizen(2, {"national_id": raw, "mobile": "09121234567"}, hasher)
        assert msg.NATIONAL_ID_PROBLEMS[problem] in str(caught.value), raw
        assert "national_id" in str(caught.value)
        if len(raw) >= 7:
            assert raw not in str(caught.value), "a reason never shows a whole ID"


def test_persian_digits_are_the_same_citizen(secret: bytes) -> None:
    hasher = Hasher(secret)
    latin = parse_citizen(2, {"national_id": "0012345679", "mobile": "09121234567", "district": "5"}, hasher)
    persian = parse_citizen(2, {"national_id": "۰۰۱۲۳۴۵۶۷۹", "mobile": "۰۰۹۸۹۱۲۱۲۳۴۵۶۷", "district": "۵"}, hasher)
    padded = parse_citizen(2, {"national_id": "12345679", "mobile": "+98 912 123 4567", "district": 5}, hasher)
    assert latin.nid_hash == persian.nid_hash == padded.nid_hash
    assert latin.mobile_hash == persian.mobile_hash == padded.mobile_hash
    assert persian.district == 5 and persian.nid_masked == "001****679" and persian.mobile_masked == "+98912***4567"


@pytest.mark.parametrize(("fields", "fragment"), [
    ({"mobile": "02188776655"}, "mobile"),
    ({"mobile": ""}, "mobile"),
    ({"district": "23"}, "district"),
    ({"district": "0"}, "district"),
    ({"district": "پنج"}, "district"),
    ({"full_name": "x" * 201}, "full_name"),
])
def test_citizen_field_problems(secret: bytes, fields: dict[str, str], fragment: str) -> None:
    row = {"national_id": NID_A, "mobile": "09121234567", "full_name": "مریم", "district": "5", **fields}
    with pytest.raises(RowError, match=fragment):
        parse_citizen(2, row, Hasher(secret))


def test_ruling_amounts_dates_and_enums(secret: bytes) -> None:
    hasher = Hasher(secret)
    row = parse_ruling(1, ruling(ruling_id="R-۱۴۰۳-۰۰۰۱", case_number=1403051234, issued_at="۱۴۰۳/۱۱/۰۱",
                                 fine_amount_rials="۱٬۲۵۰٬۰۰۰٬۰۰۰", kind="FINE"), hasher)
    assert (row.ruling_id, row.case_number, row.kind) == ("R-1403-0001", "1403051234", "fine")
    assert row.issued_on == date(2025, 1, 20) and row.fine_amount_rials == 1_250_000_000
    assert parse_ruling(1, ruling(fine_amount_rials=1.25e9), hasher).fine_amount_rials == 1_250_000_000
    problems: dict[str, list[Any]] = {
        "fine_amount_rials": [-1, "12.5", True, "abc", 2**63],
        "issued_at": ["1403/13/01", "2025-02-30", "yesterday", 20250120, ""],
        "commission": ["second", ""],
        "kind": ["penalty"],
        "text": ["", None, 5, "a\x00b"],
        "ruling_id": ["", "R" * 65],
    }
    for name, values in problems.items():
        for value in values:
            with pytest.raises(RowError, match=name):
                parse_ruling(1, ruling(**{name: value}), hasher)
    with pytest.raises(RowError, match="fine_amount_rials"):
        parse_ruling(1, ruling(fine_amount_rials=None), hasher)
    assert parse_ruling(1, ruling(kind="demolition", fine_amount_rials=None), hasher).fine_amount_rials is None


def test_case_keeps_absent_keys_and_parses_jalali_hearing(secret: bytes) -> None:
    hasher = Hasher(secret)
    row = parse_case(1, {"case_number": "۱۴۰۳۰۵۱۲۳۴", "national_id": NID_A, "status": "Ruling_Issued",
                         "hearing_at": "1403/11/22 09:30"}, hasher)
    assert row.case_number == "1403051234" and row.status == "ruling_issued"
    assert row.changes == {"hearing_at": datetime(2025, 2, 10, 6, 0, tzinfo=UTC)}
    with pytest.raises(RowError, match="status"):
        parse_case(1, case(status="pending"), hasher)
    with pytest.raises(RowError, match="hearing_at"):
        parse_case(1, case(hearing_at="1403/11/22 25:00"), hasher)


def test_subscriber_rows(secret: bytes) -> None:
    hasher = Hasher(secret)
    row = parse_subscriber(2, {"national_id": NID_A, "platform": "Bale", "chat_id": "۵۵۵", "user_id": ""}, hasher)
    assert (row.platform, row.chat_id, row.user_id) == ("bale", 555, None)
    for fields in ({"platform": "whatsapp"}, {"chat_id": "abc"}, {"chat_id": ""}, {"user_id": "x"}):
        with pytest.raises(RowError):
            parse_subscriber(2, {"national_id": NID_A, "platform": "telegram", "chat_id": "1", **fields}, hasher)
    # Only a citizen's own private chat: its id is the user's id; a group's is negative.
    for fields in ({"chat_id": "-1001234"}, {"chat_id": "-5", "user_id": ""}, {"chat_id": "700", "user_id": "701"}):
        with pytest.raises(RowError, match="خصوصی"):
            parse_subscriber(2, {"national_id": NID_A, "platform": "telegram", **fields}, hasher)


def test_echoed_values_never_show_a_whole_id_or_phone(secret: bytes) -> None:
    """A slipped column can put an ID where a status or a platform belongs."""
    hasher = Hasher(secret)
    with pytest.raises(RowError) as caught:
        parse_subscriber(2, {"national_id": NID_A, "platform": "۰۰۱۲۳۴۵۶۷۹", "chat_id": "1"}, hasher)
    problem = RowProblem(2, str(caught.value))
    assert "۰۰۱۲۳۴۵۶۷۹" not in problem.reason and "۰۰۱****۶۷۹" in problem.reason
    assert RowProblem(2, "x 0912-123-4567").reason == "x 091****567"
    assert "2025-01-20" in RowProblem(2, msg.bad_date("issued_at", "2025-01-20")).reason


def test_readers_tolerate_bom_crlf_and_blank_lines() -> None:
    lines = ["\ufeffNational_ID , mobile\r\n", "1,2\r\n", "\r\n", "3\r\n", '"4","5"\r\n']
    assert list(read_csv(lines, (("national_id", "mobile"), ()))) == [
        (2, {"national_id": "1", "mobile": "2"}),
        RowProblem(4, msg.wrong_column_count(2, 1)),
        (5, {"national_id": "4", "mobile": "5"}),
    ]
    with pytest.raises(ImportFileError, match="mobile"):
        list(read_csv(["national_id,phone\n"], (("national_id", "mobile"), ())))
    with pytest.raises(ImportFileError):
        list(read_csv([], (("national_id",), ())))
    records = list(read_jsonl(['\ufeff{"a": 1}\r\n', "\n", "[1]\n", "{oops\n", '{"B": 2}']))
    assert records[0] == (1, {"a": 1}) and records[3] == (5, {"b": 2})
    assert isinstance(records[1], RowProblem) and records[1].line == 3
    assert isinstance(records[2], RowProblem) and records[2].line == 4
    assert str(records[1]).startswith("خط ۳: ")


# ---------------------------------------------------------------- citizens


async def test_citizens_good_rows_applied_bad_rows_reported(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    report = await import_citizens(db, hasher, csv_lines(
        f"{NID_A},09121234567,مریم احمدی,5",
        "۱۲۳۴۵۶۷۸۹۱,۰۹۳۵۱۱۱۲۲۳۳,علی رضایی,۱۲",
        "0012345678,09120000000,بد,3",
        f"{NID_C},02188776655,ثابت,7",
        f"{NID_C},09129876543,,30",
        f"{NID_C},09129876543,زهرا,",
        f"{NID_A},09121234567,تکراری,5",
    ))
    assert (report.inserted, report.updated, report.unchanged, report.bad) == (3, 0, 0, 4)
    bad = reasons(report.problems)
    assert sorted(bad) == [4, 5, 6, 8]
    assert msg.NATIONAL_ID_PROBLEMS[NationalIdProblem.CHECKSUM] in bad[4]
    assert "mobile" in bad[5] and "district" in bad[6] and "خط ۲" in bad[8]
    assert not any("0012345678" in r or "02188776655" in r for r in bad.values())
    async with db.session() as session:
        found = await citizen_store.find_citizen_by_nid_hash(session, hasher.national_id(NID_B))
        assert found is not None and found.full_name == "علی رضایی" and found.district == 12
        assert found.mobile_hash == hasher.mobile("09351112233") and found.nid_masked == "123****891"
        c = await citizen_store.find_citizen_by_nid_hash(session, hasher.national_id(NID_C))
        assert c is not None and c.district is None


async def test_citizens_reimport_changes_nothing_and_later_files_update(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    rows = csv_lines(f"{NID_A},09121234567,مریم,5", f"{NID_B},09351112233,علی,12")
    await import_citizens(db, hasher, rows, now=NOW)
    before = await updated_at(db, Citizen)
    again = await import_citizens(db, hasher, rows, now=LATER)
    assert (again.inserted, again.updated, again.unchanged, again.bad) == (0, 0, 2, 0)
    assert await updated_at(db, Citizen) == before == [NOW, NOW]
    changed = await import_citizens(db, hasher, csv_lines(f"{NID_A},09127654321,مریم,6", f"{NID_B},09351112233,,"),
                                    now=LATER)
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)
    async with db.session() as session:
        a = await citizen_store.find_citizen_by_nid_hash(session, hasher.national_id(NID_A))
        b = await citizen_store.find_citizen_by_nid_hash(session, hasher.national_id(NID_B))
    assert a is not None and a.mobile_hash == hasher.mobile("09127654321") and a.district == 6
    assert a.updated_at == LATER and a.created_at == NOW
    assert b is not None and (b.full_name, b.district, b.updated_at) == ("علی", 12, NOW), "empty cells keep"


# ---------------------------------------------------------------- cases


async def test_cases_upsert_and_report(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await import_citizens(db, hasher, csv_lines(f"{NID_A},09121234567,مریم,5", f"{NID_B},09351112233,علی,12"))
    lines = jsonl(case(), case("۱۴۰۳۰۵۱۲۳۵", "۱۲۳۴۵۶۷۸۹۱", hearing_at="1403/11/22 09:30"),
                  case("1403051236", NID_C), case("1403051237", status="pending"), case("1403051238", district=23))
    report = await import_cases(db, hasher, lines, now=NOW)
    assert (report.inserted, report.bad) == (2, 3)
    assert reasons(report.problems)[3] == msg.UNKNOWN_CITIZEN
    assert sorted(reasons(report.problems)) == [3, 4, 5]
    before = await updated_at(db, Case)
    again = await import_cases(db, hasher, lines, now=LATER)
    assert (again.inserted, again.updated, again.unchanged, again.bad) == (0, 0, 2, 3)
    assert await updated_at(db, Case) == before

    update = await import_cases(db, hasher, jsonl(
        {"case_number": "1403051234", "national_id": NID_A, "status": "ruling_issued"},
        case("1403051235", NID_A),
    ), now=LATER)
    assert (update.updated, update.bad) == (1, 1)
    assert reasons(update.problems)[2] == msg.CASE_OWNER_CHANGE
    async with db.session() as session:
        stored = {c.case_number: c for c in (await session.exec(select(Case))).all()}
    first, second = stored["1403051234"], stored["1403051235"]
    assert first.status == "ruling_issued" and first.updated_at == LATER
    assert first.address == "خیابان ولیعصر" and first.district == 5, "keys left out keep their values"
    assert second.hearing_at == datetime(2025, 2, 10, 6, 0, tzinfo=UTC) and second.updated_at == NOW


# ---------------------------------------------------------------- rulings


async def test_rulings_insert_with_notices_and_reimport_is_inert(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    lines = jsonl(
        ruling(),
        ruling("R-1403-0002", "۱۴۰۳۰۵۱۲۳۵", "۱۲۳۴۵۶۷۸۹۱", commission="appeal", kind="demolition",
               issued_at="۱۴۰۳/۱۱/۰۱", fine_amount_rials=None),
        ruling("R-1403-0003", "1403051236", NID_C, fine_amount_rials="۳۵۰٬۰۰۰٬۰۰۰"),
        ruling("R-1403-0004", "1403051234", NID_B),  # B is not the case's citizen
        ruling("R-1403-0005", "1403999999"),
        ruling("R-1403-0006", nid="0087654326"),  # valid ID, no such citizen
        ruling(text="another text for the same ID"),
    )
    report = await import_rulings(db, hasher, lines, now=NOW)
    assert (report.inserted, report.updated, report.unchanged, report.bad) == (3, 0, 0, 4)
    assert reasons(report.problems) == {4: msg.CASE_OF_OTHER_CITIZEN, 5: msg.UNKNOWN_CASE,
                                        6: msg.UNKNOWN_CITIZEN, 7: msg.duplicate_in_file("ruling_id", 1)}
    async with db.session() as session:
        stored = {r.ruling_id: r for r in (await session.exec(select(Ruling))).all()}
        notices = list((await session.exec(select(Notice))).all())
    assert stored["R-1403-0002"].issued_on == date(2025, 1, 20) and stored["R-1403-0002"].fine_amount_rials is None
    assert stored["R-1403-0003"].fine_amount_rials == 350_000_000
    assert {(n.ruling_pk, n.citizen_id) for n in notices} == {(r.id, r.citizen_id) for r in stored.values()}

    again = await import_rulings(db, hasher, lines, now=LATER)
    assert (again.inserted, again.unchanged, again.bad) == (0, 3, 4)
    assert await count(db, Ruling) == 3 and await count(db, Notice) == 3


async def test_a_changed_ruling_is_reported_not_applied(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    await import_rulings(db, hasher, jsonl(ruling(), ruling("R-1403-0002", "1403051235", NID_B)), now=NOW)
    changed = await import_rulings(db, hasher, jsonl(
        ruling(fine_amount_rials=1),
        ruling("R-1403-0002", "1403051235", NID_B, text="متن دیگر"),
        ruling("R-1403-0003", "1403051236", NID_C),
    ), now=LATER)
    assert (changed.inserted, changed.bad) == (1, 2)
    assert reasons(changed.problems) == {1: msg.RULING_CHANGED, 2: msg.RULING_CHANGED}
    async with db.session() as session:
        first = (await session.exec(select(Ruling).where(Ruling.ruling_id == "R-1403-0001"))).one()
    assert first.fine_amount_rials == 1250000000 and await count(db, Notice) == 3


async def test_rulings_made_elsewhere_compare_by_content(db: Database, secret: bytes) -> None:
    """A ruling without a stored hash (seeded, or from before migration 0002) still compares."""
    hasher = Hasher(secret)
    async with db.session() as session:
        citizen = await create_citizen(session, hasher, national_id=NID_A)
        c = await create_case(session, citizen, case_number="1403051234")
        await create_ruling(session, c, ruling_id="R-1403-0001", issued_on=date(2025, 1, 20),
                            fine_amount_rials=1250000000, text="متن کامل رأی")
    same = ruling(summary="خلاصه رأی")
    report = await import_rulings(db, hasher, jsonl(same, ruling("R-1403-0001", text="x")))
    assert (report.unchanged, report.bad) == (1, 1)
    assert await count(db, Notice) == 1


async def test_many_batches(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    rows = [ruling(f"R-{i:04d}") for i in range(25)] + [ruling("R-0003"), ruling(f"R-{7:04d}", nid=NID_B)]
    seen: list[tuple[int, int]] = []
    report = await import_rulings(db, hasher, jsonl(*rows), batch_size=4,
                                  progress=lambda done, total: seen.append((done, total)))
    assert (report.inserted, report.bad) == (25, 2)
    assert seen[-1] == (27, 27) and len(seen) == 7
    assert await count(db, Notice) == 25


# ---------------------------------------------------------------- subscribers


async def test_subscribers_bind_chats_of_known_citizens(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    async with db.session() as session:
        c = await citizen_store.find_citizen_by_nid_hash(session, hasher.national_id(NID_C))
        assert c is not None and c.id is not None
        await citizen_store.bind_chat(session, c.id, "telegram", 900, 900, NOW)
        await citizen_store.bind_chat(session, c.id, "telegram", 901, 901, NOW)
        await citizen_store.bind_chat(session, c.id, "telegram", 902, 902, NOW)
        await citizen_store.unbind_chat(session, "telegram", 901, NOW)
    header = "national_id,platform,chat_id,user_id"
    lines = csv_lines(f"{NID_A},telegram,100,100", "۰۰۱۲۳۴۵۶۷۹,Bale,۲۰۰,", f"{NID_B},telegram,300,300",
                      "0087654326,telegram,400,", f"{NID_A},telegram,902,", f"{NID_C},telegram,901,",
                      f"{NID_C},telegram,900,", f"{NID_B},telegram,300,", header=header)
    report = await import_subscribers(db, hasher, lines, now=NOW)
    assert reasons(report.problems) == {5: msg.UNKNOWN_CITIZEN, 6: msg.CHAT_OF_OTHER_CITIZEN,
                                        7: msg.CHAT_UNBOUND_BY_CITIZEN,
                                        9: msg.duplicate_in_file("platform+chat_id", 4)}
    assert (report.inserted, report.updated, report.unchanged, report.bad) == (3, 0, 1, 4)
    async with db.session() as session:
        bale = await citizen_store.find_active_binding(session, "bale", 200)
        a = await citizen_store.find_citizen_by_nid_hash(session, hasher.national_id(NID_A))
        assert bale is not None and a is not None and bale.citizen_id == a.id and bale.user_id is None
        assert len(await citizen_store.list_active_bindings(session, a.id or 0)) == 2
        assert await citizen_store.find_active_binding(session, "telegram", 901) is None
    again = await import_subscribers(db, hasher, lines, now=LATER)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    fix = await import_subscribers(db, hasher, csv_lines(f"{NID_A},bale,200,200", header=header), now=LATER)
    assert fix.updated == 1 and await count(db, ChatBinding) == 6


# ---------------------------------------------------------------- hardening: oversized, malformed, future


def test_a_csv_field_past_the_csv_limit_is_a_line_problem_and_reading_goes_on() -> None:
    lines = csv_lines(f"{NID_A},09121234567,مریم,5", f"{NID_B},09351112233,{'x' * 200_000},12",
                      f"{NID_C},09129876543,زهرا,3")
    records = list(read_csv(lines, (("national_id", "mobile"), ())))
    assert [r.line if isinstance(r, RowProblem) else r[0] for r in records] == [2, 3, 4]
    problem = records[1]
    assert isinstance(problem, RowProblem)
    assert problem.reason == msg.csv_field_too_large(csv.field_size_limit())
    assert str(problem).startswith("خط ۳: ") and "۱۳۱٬۰۷۲" in problem.reason


async def test_an_oversized_csv_field_skips_only_its_row(db: Database, secret: bytes) -> None:
    lines = csv_lines(f"{NID_A},09121234567,مریم,5", f"{NID_B},09351112233,\"{'x' * 200_000}\",12",
                      f"{NID_C},09129876543,زهرا,3")
    report = await import_citizens(db, Hasher(secret), lines)
    assert (report.inserted, sorted(reasons(report.problems))) == (2, [3])
    assert await count(db, Citizen) == 2


TEXT_CASES = [  # (field, limit, how a row with that field is parsed)
    ("full_name", MAX_FULL_NAME, lambda h, v: parse_citizen(2, {"national_id": NID_A, "mobile": "09121234567",
                                                                "full_name": v}, h)),
    ("address", MAX_ADDRESS, lambda h, v: parse_case(2, case(address=v), h)),
    ("violation", MAX_VIOLATION, lambda h, v: parse_case(2, case(violation=v), h)),
    ("summary", MAX_SUMMARY, lambda h, v: parse_ruling(2, ruling(summary=v), h)),
    ("text", MAX_RULING_TEXT, lambda h, v: parse_ruling(2, ruling(text=v), h)),
]


@pytest.mark.parametrize(("name", "limit", "parse"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_free_text_limits_name_the_field_and_the_limit(secret: bytes, name: str, limit: int,
                                                       parse: Callable[[Hasher, str], Any]) -> None:
    hasher = Hasher(secret)
    parse(hasher, "ب" * limit)  # exactly the limit is fine (outer blanks do not count)
    parse(hasher, " " + "ب" * limit + " ")
    with pytest.raises(RowError) as caught:
        parse(hasher, "ب" * (limit + 1))
    reason = str(caught.value)
    assert reason == msg.too_long(name, limit, limit + 1)
    assert name in reason and msg.fa_count(limit) in reason and "بیشینه" in reason


async def test_overlong_texts_are_reported_with_their_lines(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    report = await import_rulings(db, hasher, jsonl(ruling(), ruling("R-2", text="ر" * (MAX_RULING_TEXT + 1)),
                                                    ruling("R-3", summary="خ" * (MAX_SUMMARY + 5))), now=NOW)
    assert report.inserted == 1
    assert [str(p) for p in report.problems] == [
        msg.problem_line(2, msg.too_long("text", MAX_RULING_TEXT, MAX_RULING_TEXT + 1)),
        msg.problem_line(3, msg.too_long("summary", MAX_SUMMARY, MAX_SUMMARY + 5))]
    cases = await import_cases(db, hasher, jsonl(case("1403051299", address="آ" * (MAX_ADDRESS + 1)),
                                                 case("1403051298", violation="و" * (MAX_VIOLATION + 1))))
    assert reasons(cases.problems) == {1: msg.too_long("address", MAX_ADDRESS, MAX_ADDRESS + 1),
                                       2: msg.too_long("violation", MAX_VIOLATION, MAX_VIOLATION + 1)}


def test_jsonl_duplicate_keys_deep_nesting_and_huge_numbers_are_line_problems() -> None:
    lines = ['{"ruling_id": "R-1", "text": "a", "text": "b"}\n',
             '{"Text": "a", "text ": "b"}\n',
             '{"ruling_id": "R-1", "extra": {"k": 1, "k": 2}}\n',
             "[" * 100_000 + "]" * 100_000 + "\n",
             '{"fine_amount_rials": ' + "9" * 5000 + "}\n",
             '{"ruling_id": "R-2"}\n']
    records = list(read_jsonl(lines))
    assert records[:3] == [RowProblem(1, msg.duplicate_key("text")), RowProblem(2, msg.duplicate_key("text ")),
                           RowProblem(3, msg.duplicate_key("k"))]
    assert records[3] == RowProblem(4, msg.JSON_TOO_DEEP)
    assert isinstance(records[4], RowProblem) and records[4].line == 5 and "JSON" in records[4].reason
    assert records[5] == (6, {"ruling_id": "R-2"})


async def test_a_ruling_issued_in_the_future_is_refused_by_tehran_date(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    # 21:00 UTC on 25 January is already 26 January (00:30) in Tehran
    evening = datetime(2025, 1, 25, 21, 0, tzinfo=UTC)
    report = await import_rulings(db, hasher, jsonl(
        ruling("R-today", issued_at="2025-01-26"),
        ruling("R-tomorrow", issued_at="2025-01-27"),
        ruling("R-jalali", issued_at="1403/11/08"),  # 2025-01-27
        ruling("R-next-year", issued_at="2026-01-20"),
    ), now=evening)
    assert report.inserted == 1
    assert reasons(report.problems) == {
        2: msg.issued_in_future("issued_at", date(2025, 1, 27), date(2025, 1, 26)),
        3: msg.issued_in_future("issued_at", date(2025, 1, 27), date(2025, 1, 26)),
        4: msg.issued_in_future("issued_at", date(2026, 1, 20), date(2025, 1, 26))}
    assert "issued_at" in reasons(report.problems)[2]


# ---------------------------------------------------------------- hardening: a failing database, the audit trail


async def _execute(db: Database, *statements: str) -> None:
    async with db.session() as session:
        for statement in statements:
            await session.exec(text(statement))  # type: ignore[call-overload]


async def fail_notice_of(db: Database, ruling_id: str, *, action: str = "raise") -> None:
    """A trigger that fails the notice insert of one ruling: after that batch's rulings went in."""
    if db.dialect == "sqlite":
        assert action == "raise"
        await _execute(db, f"""CREATE TRIGGER boom BEFORE INSERT ON notices
            WHEN (SELECT ruling_id FROM rulings WHERE id = NEW.ruling_pk) = '{ruling_id}'
            BEGIN SELECT RAISE(ABORT, 'boom'); END""")
        return
    effect = ("RAISE EXCEPTION 'boom'" if action == "raise"
              else "PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5)")
    await _execute(db, f"""CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN
            IF (SELECT ruling_id FROM rulings WHERE id = NEW.ruling_pk) = '{ruling_id}' THEN {effect}; END IF;
            RETURN NEW; END $$ LANGUAGE plpgsql""",
                   "CREATE TRIGGER boom BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION boom()")


async def audit_events(db: Database) -> list[AuditEvent]:
    async with db.session() as session:
        return list((await session.exec(select(AuditEvent).where(col(AuditEvent.action).like("import.%"))
                                        .order_by(col(AuditEvent.id)))).all())


async def assert_batch_rolled_back_whole(db: Database, report: ImportReport) -> None:
    # rows 1-4 committed; the batch of lines 5-8 failed at R-0006's notice, after R-0004..7 went in
    assert not report.completed and report.failure
    assert (report.applied_through, report.failed_from, report.inserted) == (4, 5, 4)
    async with db.session() as session:
        stored = sorted((await session.exec(select(Ruling.ruling_id))).all())
    assert stored == ["R-0000", "R-0001", "R-0002", "R-0003"]
    assert await count(db, Notice) == 4
    event = (await audit_events(db))[-1]
    detail = json.loads(event.detail)
    assert (event.action, event.actor, event.subject) == ("import.rulings", "tester", "rulings.jsonl")
    assert detail["completed"] is False and detail["inserted"] == 4
    assert (detail["applied_through_line"], detail["failed_from_line"]) == (4, 5)
    assert report.audited


async def test_a_database_failure_rolls_the_batch_back_whole_and_stops(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(db, hasher)
    await fail_notice_of(db, "R-0006")
    rows = jsonl(*(ruling(f"R-{i:04d}") for i in range(10)))
    report = await import_rulings(db, hasher, rows, batch_size=4, now=NOW, actor="tester", source="rulings.jsonl")
    await assert_batch_rolled_back_whole(db, report)

    await _execute(db, "DROP TRIGGER boom" if db.dialect == "sqlite" else "DROP TRIGGER boom ON notices")
    again = await import_rulings(db, hasher, rows, batch_size=4, now=NOW)
    assert (again.completed, again.inserted, again.unchanged) == (True, 6, 4)
    assert await count(db, Notice) == 10


@pytest.mark.postgres
async def test_a_connection_killed_mid_batch_rolls_it_back(pg_db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    await seed(pg_db, hasher)
    await fail_notice_of(pg_db, "R-0006", action="kill")  # the server ends the import's own connection
    rows = jsonl(*(ruling(f"R-{i:04d}") for i in range(10)))
    report = await import_rulings(pg_db, hasher, rows, batch_size=4, now=NOW, actor="tester",
                                  source="rulings.jsonl")
    await assert_batch_rolled_back_whole(pg_db, report)


async def test_every_import_is_audited_with_who_what_and_counts(db: Database, secret: bytes) -> None:
    hasher = Hasher(secret)
    lines = csv_lines(f"{NID_A},09121234567,مریم,5", "0012345678,09121234567,بد,5")
    await import_citizens(db, hasher, lines, now=NOW, actor="cli:maryam", source="citizens.csv")
    await import_citizens(db, hasher, lines, now=LATER, actor="cli:maryam", source="citizens.csv")
    with pytest.raises(ImportFileError):
        await import_citizens(db, hasher, ["national_id,phone\n"], actor="cli:ali", source="bad.csv")
    first, second, broken = await audit_events(db)
    assert (first.actor, first.action, first.subject, first.at) == ("cli:maryam", "import.citizens", "citizens.csv",
                                                                     NOW)
    assert json.loads(first.detail) == {"file": "citizens.csv", "inserted": 1, "updated": 0, "unchanged": 0,
                                        "bad": 1, "completed": True, "applied_through_line": 2}
    assert json.loads(second.detail)["unchanged"] == 1, "an import that changed nothing is recorded too"
    assert (broken.actor, json.loads(broken.detail)["completed"], json.loads(broken.detail)["error"]) == (
        "cli:ali", False, "ImportFileError")
    assert "0012345678" not in first.detail + second.detail
