from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.calendar import parse_date, to_jalali
from services.holidays import DEFAULT_PATH, Holiday, HolidayCalendar

YEARS = (1404, 1405)
SOLAR = ["01/01", "01/02", "01/03", "01/04", "01/12", "01/13", "03/14", "03/15", "11/22", "12/29"]
LUNAR_TITLES = [
    "تاسوعا",
    "عاشورا",
    "اربعین",
    "امام حسن مجتبی",
    "امام رضا",
    "امام حسن عسکری",
    "میلاد حضرت رسول",
    "فاطمه زهرا",
    "ولادت امام علی",
    "مبعث",
    "نیمه شعبان",
    "شهادت حضرت علی",
    "^عید سعید فطر",
    "تعطیل به مناسبت عید سعید فطر",
    "شهادت امام جعفر صادق",
    "عید سعید قربان",
    "غدیر",
]


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return HolidayCalendar.load()


def _matches(title: str, fragment: str) -> bool:
    # "^x" means the title starts with x (Eid al-Fitr's second day also names Eid al-Fitr).
    return title.startswith(fragment[1:]) if fragment.startswith("^") else fragment in title


def _day_of(cal: HolidayCalendar, year: int, fragment: str) -> list[date]:
    return sorted(
        d
        for d, hs in cal.by_day.items()
        if to_jalali(d).year == year and any(_matches(h.title, fragment) for h in hs)
    )


def _j(text: str) -> date:
    return parse_date(text)


def test_covers_exactly_the_table_years(cal: HolidayCalendar) -> None:
    assert cal.years == frozenset(YEARS)
    assert cal.covers(_j("1404/01/01")) and cal.covers(_j("1405/12/29"))
    assert not cal.covers(_j("1403/12/30")) and not cal.covers(_j("1406/01/01"))


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("month_day", SOLAR)
def test_solar_holidays(cal: HolidayCalendar, year: int, month_day: str) -> None:
    d = _j(f"{year}/{month_day}")
    assert cal.is_holiday(d)
    assert not cal.is_working_day(d)
    assert any(not h.lunar and h.basis == "official" for h in cal.by_day[d])


@pytest.mark.parametrize("year", YEARS)
def test_no_other_solar_holidays(cal: HolidayCalendar, year: int) -> None:
    solar = Counter(
        d for d, hs in cal.by_day.items() for h in hs if not h.lunar and to_jalali(d).year == year
    )
    assert sorted(solar) == sorted(_j(f"{year}/{md}") for md in SOLAR)
    assert set(solar.values()) == {1}


def test_esfand_29_not_30_in_common_years(cal: HolidayCalendar) -> None:
    # Neither 1404 nor 1405 is a leap year, so 29 Esfand is the last day, and the holiday.
    for year in YEARS:
        last = _j(f"{year + 1}/01/01") - timedelta(days=1)
        assert to_jalali(last).day == 29
        assert "نفت" in (cal.holiday_name(last) or "")


@pytest.mark.parametrize(
    ("jalali", "fragment"),
    [
        ("1404/01/01", "شهادت حضرت علی"),  # 21 Ramadan 1446 on Nowruz
        ("1404/01/11", "عید سعید فطر"),
        ("1404/02/04", "امام جعفر صادق"),
        ("1404/03/16", "قربان"),
        ("1404/03/24", "غدیر"),
        ("1404/04/14", "تاسوعا"),
        ("1404/04/15", "عاشورا"),
        ("1404/05/23", "اربعین"),
        ("1404/06/18", "میلاد حضرت رسول"),
        ("1404/09/03", "فاطمه زهرا"),
        ("1404/10/13", "ولادت امام علی"),
        ("1404/10/27", "مبعث"),
        ("1404/11/15", "نیمه شعبان"),
        ("1404/12/20", "شهادت حضرت علی"),
    ],
)
def test_official_1404_lunar_dates(cal: HolidayCalendar, jalali: str, fragment: str) -> None:
    d = _j(jalali)
    assert fragment in (cal.holiday_name(d) or "")
    assert any(h.lunar and h.basis == "official" for h in cal.by_day[d])


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("fragment", LUNAR_TITLES)
def test_every_lunar_holiday_falls_in_every_year(cal: HolidayCalendar, year: int, fragment: str) -> None:
    # A Hijri year is ~11 days shorter, so each lunar holiday occurs once or twice a Jalali year.
    assert 1 <= len(_day_of(cal, year, fragment)) <= 2


def _pairs(cal: HolidayCalendar, first: str, second: str) -> list[int]:
    """Days from each `first` to the next `second` within the table."""
    seconds = [d for y in YEARS for d in _day_of(cal, y, second)]
    gaps = []
    for a in (d for y in YEARS for d in _day_of(cal, y, first)):
        later = [b for b in seconds if b >= a]
        if later:
            gaps.append((later[0] - a).days)
    return gaps


@pytest.mark.parametrize(
    ("first", "second", "allowed"),
    [
        ("تاسوعا", "عاشورا", {1}),
        ("عاشورا", "اربعین", {39, 40}),  # Muharram has 29 or 30 days
        ("اربعین", "امام حسن مجتبی", {8}),
        ("امام حسن مجتبی", "امام رضا", {1, 2}),
        ("امام رضا", "امام حسن عسکری", {8}),
        ("امام حسن عسکری", "میلاد حضرت رسول", {9}),
        ("ولادت امام علی", "مبعث", {14}),
        ("^عید سعید فطر", "تعطیل به مناسبت عید سعید فطر", {1}),
        ("تعطیل به مناسبت عید سعید فطر", "امام جعفر صادق", {23}),
        ("قربان", "غدیر", {8}),
    ],
)
def test_lunar_holidays_are_consistent_with_each_other(
    cal: HolidayCalendar, first: str, second: str, allowed: set[int]
) -> None:
    gaps = _pairs(cal, first, second)
    assert gaps
    assert set(gaps) <= allowed


def test_data_file_says_where_lunar_dates_come_from() -> None:
    raw = json.loads(DEFAULT_PATH.read_text(encoding="utf-8"))
    assert "Institute of Geophysics" in raw["note"]
    assert "differ by a day" in raw["note"]
    assert raw["source"]
    for entry in raw["holidays"]:
        assert entry["basis"] in {"official", "derived", "computed"}
        assert entry["basis"] != "computed" or entry["lunar"]


def test_holiday_name_joins_coinciding_holidays(cal: HolidayCalendar) -> None:
    name = cal.holiday_name(_j("1404/01/12")) or ""
    assert "جمهوری اسلامی" in name and "فطر" in name
    assert cal.holiday_name(_j("1404/01/05")) is None


def test_working_days(cal: HolidayCalendar) -> None:
    assert not cal.is_working_day(date(2025, 1, 31))  # a Friday
    assert cal.is_working_day(date(2025, 1, 30))  # a Thursday
    assert cal.is_working_day(date(2025, 2, 1))  # an ordinary Saturday
    assert not cal.is_working_day(_j("1404/04/14"))  # Tasua, a Saturday
    assert not cal.is_working_day(date(2030, 1, 4))  # outside the table, still a Friday
    assert cal.is_working_day(date(2030, 1, 5))


def _write(tmp_path: Path, holidays: list[dict[str, object]], years: list[int]) -> Path:
    path = tmp_path / "holidays.json"
    path.write_text(
        json.dumps({"source": "t", "note": "n", "years": years, "holidays": holidays}), encoding="utf-8"
    )
    return path


def test_load_from_a_path(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"jalali": "۱۴۱۰/۰۱/۰۱", "title": "عید نوروز", "lunar": False}], [1410])
    cal = HolidayCalendar.load(path)
    assert cal.holiday_name(_j("1410/01/01")) == "عید نوروز"
    assert cal.covers(_j("1410/06/01")) and not cal.covers(_j("1404/06/01"))


def test_load_rejects_mismatched_gregorian(tmp_path: Path) -> None:
    entry = {"jalali": "1404/01/01", "gregorian": "2025-03-22", "title": "x", "lunar": False}
    with pytest.raises(ValueError, match="does not match"):
        HolidayCalendar.load(_write(tmp_path, [entry], [1404]))


def test_load_rejects_holidays_outside_the_years(tmp_path: Path) -> None:
    entry = {"jalali": "1406/01/01", "title": "x", "lunar": False}
    with pytest.raises(ValueError, match="outside"):
        HolidayCalendar.load(_write(tmp_path, [entry], [1404]))


def test_from_holidays() -> None:
    cal = HolidayCalendar.from_holidays([Holiday(date(2025, 1, 1), "x", lunar=False)], [1403])
    assert cal.is_holiday(date(2025, 1, 1)) and not cal.is_working_day(date(2025, 1, 1))
    assert cal.is_working_day(date(2025, 1, 2))
