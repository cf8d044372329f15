"""Imports against real SQLite and PostgreSQL: rows applied, bad rows reported, re-imports inert."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, col, select

from nlp.identifiers import NationalIdProblem
from services import import_messages as msg
from services.import_rows import (
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
from services.imports import import_cases, import_citizens, import_rulings, import_subscribers
from services.privacy import Hasher
from storage import citizens as citizen_store
from storage.database import Database
from storage.models import Case, ChatBinding, Citizen, Notice, Ruling
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
