from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nlp.digits import to_ascii_digits
from services.law.calendar import (
    TEHRAN,
    add_jalali_months,
    format_rials,
    jalali_date,
    jalali_date_long,
    jalali_datetime,
    parse_date,
    parse_datetime,
    tehran_date,
    to_tehran,
)


@pytest.mark.parametrize(
    ("gregorian", "jalali"),
    [
        (date(2025, 3, 21), "۱۴۰۴/۰۱/۰۱"),
        (date(2025, 1, 20), "۱۴۰۳/۱۱/۰۱"),
        (date(2025, 3, 20), "۱۴۰۳/۱۲/۳۰"),  # 1403 is a leap year
        (date(2026, 3, 20), "۱۴۰۴/۱۲/۲۹"),  # 1404 is not
        (date(2025, 9, 22), "۱۴۰۴/۰۶/۳۱"),
    ],
)
def test_jalali_date(gregorian: date, jalali: str) -> None:
    assert jalali_date(gregorian) == jalali


def test_jalali_date_long_names_weekday_and_month() -> None:
    assert jalali_date_long(date(2025, 1, 20)) == "دوشنبه ۱ بهمن ۱۴۰۳"
    assert jalali_date_long(date(2025, 3, 21)) == "جمعه ۱ فروردین ۱۴۰۴"
    assert jalali_date_long(date(2025, 12, 27)) == "شنبه ۶ دی ۱۴۰۴"
    assert jalali_date_long(date(2026, 3, 19)) == "پنجشنبه ۲۸ اسفند ۱۴۰۴"


def test_tehran_is_three_and_a_half_hours_ahead() -> None:
    local = to_tehran(datetime(2025, 2, 10, 6, 0, tzinfo=UTC))
    assert local.utcoffset() == timedelta(hours=3, minutes=30)
    assert (local.hour, local.minute) == (9, 30)


def test_tehran_midnight_boundary() -> None:
    assert tehran_date(datetime(2025, 1, 20, 20, 29, 59, tzinfo=UTC)) == date(2025, 1, 20)
    assert tehran_date(datetime(2025, 1, 20, 20, 30, tzinfo=UTC)) == date(2025, 1, 21)
    assert jalali_date(tehran_date(datetime(2025, 1, 20, 21, 0, tzinfo=UTC))) == "۱۴۰۳/۱۱/۰۲"


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert tehran_date(datetime(2025, 1, 20, 21, 0)) == date(2025, 1, 21)


def test_other_offsets_are_converted() -> None:
    dt = datetime(2025, 1, 21, 0, 30, tzinfo=timezone(timedelta(hours=3, minutes=30)))
    assert to_tehran(dt).date() == date(2025, 1, 21)
    assert tehran_date(dt) == date(2025, 1, 21)


def test_jalali_datetime_in_tehran_time() -> None:
    assert jalali_datetime(datetime(2025, 2, 10, 6, 0, tzinfo=UTC)) == "۱۴۰۳/۱۱/۲۲ ساعت ۰۹:۳۰"
    assert jalali_datetime(datetime(2025, 1, 20, 21, 5, tzinfo=UTC)) == "۱۴۰۳/۱۱/۰۲ ساعت ۰۰:۳۵"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-20", date(2025, 1, 20)),
        ("1403/11/01", date(2025, 1, 20)),
        ("1403-11-01", date(2025, 1, 20)),
        ("1403/11/1", date(2025, 1, 20)),
        ("۱۴۰۳/۱۱/۰۱", date(2025, 1, 20)),
        ("١٤٠٣/١١/٠١", date(2025, 1, 20)),
        ("۲۰۲۵-۰۱-۲۰", date(2025, 1, 20)),
        ("  1404/01/01 ", date(2025, 3, 21)),
        ("1403/12/30", date(2025, 3, 20)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tomorrow",
        "1403/11",
        "20250120",
        "1403/13/01",
        "1403/12/31",
        "1404/12/30",
        "2025-02-29",
        "2025-13-01",
    ],
)
def test_parse_date_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(text)


def test_parse_date_says_which_calendar() -> None:
    with pytest.raises(ValueError, match="Jalali"):
        parse_date("1404/12/30")
    with pytest.raises(ValueError, match="Gregorian"):
        parse_date("2025-02-30")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-02-10T09:30:00+03:30", datetime(2025, 2, 10, 6, 0, tzinfo=UTC)),
        ("2025-02-10T06:00:00Z", datetime(2025, 2, 10, 6, 0, tzinfo=UTC)),
        ("2025-02-10T09:30:00", datetime(2025, 2, 10, 6, 0, tzinfo=UTC)),  # naive: Tehran
        ("2025-02-10 09:30", datetime(2025, 2, 10, 6, 0, tzinfo=UTC)),
        ("2025-01-21", datetime(2025, 1, 20, 20, 30, tzinfo=UTC)),  # start of the Tehran day
        ("1403/11/22 09:30", datetime(2025, 2, 10, 6, 0, tzinfo=UTC)),
        ("۱۴۰۳/۱۱/۲۲ ۰۹:۳۰", datetime(2025, 2, 10, 6, 0, tzinfo=UTC)),
        ("1403/11/02", datetime(2025, 1, 20, 20, 30, tzinfo=UTC)),
    ],
)
def test_parse_datetime(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["", "soon", "1403/11/22 25:00", "1403/11/22 09:61", "2025-02-10T09:30:00+99:00"]
)
def test_parse_datetime_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)


@pytest.mark.parametrize(
    ("rials", "shown"),
    [
        (1250000000, "۱۲۵٬۰۰۰٬۰۰۰ تومان (۱٬۲۵۰٬۰۰۰٬۰۰۰ ریال)"),
        (0, "۰ تومان (۰ ریال)"),
        (10, "۱ تومان (۱۰ ریال)"),
        (9990, "۹۹۹ تومان (۹٬۹۹۰ ریال)"),
        (10000, "۱٬۰۰۰ تومان (۱۰٬۰۰۰ ریال)"),
        (15, "۱٫۵ تومان (۱۵ ریال)"),
    ],
)
def test_format_rials(rials: int, shown: str) -> None:
    assert format_rials(rials) == shown


@given(st.integers(min_value=0, max_value=10**15))
def test_format_rials_keeps_every_rial(rials: int) -> None:
    shown = format_rials(rials)
    rial_part = shown[shown.index("(") + 1 : shown.index(" ریال")]
    assert int(to_ascii_digits(rial_part).replace("٬", "")) == rials
    assert not any(c.isascii() and c.isdigit() for c in shown)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("1403/11/01", 3, "1404/02/01"),
        ("1404/06/31", 3, "1404/09/30"),  # clamped: Azar has 30 days
        ("1404/11/30", 1, "1404/12/29"),  # 1404 is not a leap year
        ("1403/11/30", 1, "1403/12/30"),  # 1403 is
        ("1404/10/15", 3, "1405/01/15"),
    ],
)
def test_add_jalali_months(start: str, months: int, expected: str) -> None:
    assert add_jalali_months(parse_date(start), months) == parse_date(expected)


@given(st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31)))
def test_jalali_round_trip(d: date) -> None:
    assert parse_date(jalali_date(d)) == d


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)))
def test_tehran_date_agrees_with_zoneinfo(dt: datetime) -> None:
    assert tehran_date(dt) == dt.astimezone(TEHRAN).date()
    assert parse_datetime(dt.isoformat()) == dt
