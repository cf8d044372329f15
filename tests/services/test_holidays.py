"""Iran's official holidays from the `holidays` package, plus the override file."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from services.law.calendar import parse_date, to_jalali
from services.law.holidays import (
    DEFAULT_OVERRIDES,
    FIRST_YEAR,
    LAST_YEAR,
    Holiday,
    HolidayCalendar,
    HolidayOverridesError,
    load_overrides,
)

YEARS = (1404, 1405)
# Jalali month/day of the solar holidays: Nowruz, Islamic Republic Day, Nature Day, 14 and 15
# Khordad, 22 Bahman, 29 Esfand.
SOLAR = {
    "01/01": "نوروز", "01/02": "نوروز", "01/03": "نوروز", "01/04": "نوروز", "01/12": "جمهوری اسلامی",
    "01/13": "طبیعت", "03/14": "امام خمینی", "03/15": "۱۵ خرداد", "11/22": "انقلاب اسلامی", "12/29": "نفت",
}
LUNAR_FRAGMENTS = (
    "تاسوعا", "عاشورا", "اربعین", "امام حسن مجتبی", "امام رضا", "امام حسن عسکری", "میلاد رسول اکرم",
    "فاطمه زهرا", "ولادت امام علی", "مبعث", "نیمه شعبان", "شهادت حضرت علی", "^عید سعید فطر",
    "تعطیل به مناسبت عید سعید فطر", "شهادت امام جعفر صادق", "قربان", "غدیر",
)


@pytest.fixture(scope="module")
def cal() -> HolidayCalendar:
    return HolidayCalendar.load()


def _j(text: str) -> date:
    return parse_date(text)


def _matches(title: str, fragment: str) -> bool:
    # "^x": the title starts with x (the second day of Eid al-Fitr names Eid al-Fitr too).
    return title.startswith(fragment[1:]) if fragment.startswith("^") else fragment in title


def _titles(cal: HolidayCalendar, jalali: str) -> list[str]:
    return [h.title for h in cal.on(_j(jalali))]


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize(("month_day", "fragment"), SOLAR.items())
def test_solar_holidays(cal: HolidayCalendar, year: int, month_day: str, fragment: str) -> None:
    d = _j(f"{year}/{month_day}")
    assert any(fragment in t for t in _titles(cal, f"{year}/{month_day}"))
    assert not cal.is_working_day(d)
    assert not any(h.estimated for h in cal.on(d))


@pytest.mark.parametrize(
    ("jalali", "fragment"),
    [
        # 1404, from the official calendar as the package gives it
        ("1404/01/02", "شهادت حضرت علی"),  # 21 Ramadan 1446
        ("1404/01/11", "عید سعید فطر"),
        ("1404/01/12", "تعطیل به مناسبت عید سعید فطر"),
        ("1404/02/04", "امام جعفر صادق"),
        ("1404/03/16", "قربان"),
        ("1404/03/24", "غدیر"),
        ("1404/04/14", "تاسوعا"),
        ("1404/04/15", "عاشورا"),
        ("1404/05/23", "اربعین"),
        ("1404/05/31", "امام حسن مجتبی"),
        ("1404/06/02", "امام رضا"),
        ("1404/06/10", "امام حسن عسکری"),
        ("1404/06/19", "میلاد رسول اکرم"),
        ("1404/09/03", "فاطمه زهرا"),
        ("1404/10/13", "ولادت امام علی"),
        ("1404/10/27", "مبعث"),
        ("1404/11/15", "نیمه شعبان"),
        ("1404/12/20", "شهادت حضرت علی"),
        # 1405 up to the end of 2026, which the package lists as confirmed
        ("1405/01/01", "عید سعید فطر"),
        ("1405/01/02", "تعطیل به مناسبت عید سعید فطر"),
        ("1405/01/25", "امام جعفر صادق"),
        ("1405/03/06", "قربان"),
        ("1405/03/14", "غدیر"),
        ("1405/04/03", "تاسوعا"),
        ("1405/04/04", "عاشورا"),
        ("1405/05/13", "اربعین"),
        ("1405/05/21", "امام حسن مجتبی"),
        ("1405/05/22", "امام رضا"),
        ("1405/05/30", "امام حسن عسکری"),
        ("1405/06/08", "میلاد رسول اکرم"),
        ("1405/08/22", "فاطمه زهرا"),
        ("1405/10/02", "ولادت امام علی"),
    ],
)
def test_official_lunar_dates(cal: HolidayCalendar, jalali: str, fragment: str) -> None:
    found = [h for h in cal.on(_j(jalali)) if fragment in h.title]
    assert found and not any(h.estimated for h in found)


def test_one_off_closures_the_package_knows(cal: HolidayCalendar) -> None:
    # Seven days of public closure, 10-16 Esfand 1404 (1-7 March 2026), a Cabinet decision.
    for day in range(10, 17):
        assert "تعطیلی عمومی" in _titles(cal, f"1404/12/{day}")
    assert not cal.is_holiday(_j("1404/12/17"))


def test_persian_titles_and_digits(cal: HolidayCalendar) -> None:
    assert _titles(cal, "1405/03/15") == ["قیام ۱۵ خرداد"]
    assert cal.holiday_name(_j("1405/01/01")) == "جشن نوروز؛ عید سعید فطر"
    assert cal.holiday_name(_j("1405/01/05")) is None


def test_estimated_lunar_dates_are_marked_and_the_label_is_stripped(cal: HolidayCalendar) -> None:
    # 1415 (2036-37) lies far past the package's confirmed years: every lunar holiday is computed.
    holidays = cal.year(1415)
    lunar = [h for h in holidays if any(_matches(h.title, f) for f in LUNAR_FRAGMENTS)]
    solar = [h for h in holidays if h not in lunar]
    assert lunar and all(h.estimated for h in lunar)
    assert solar and not any(h.estimated for h in solar)
    assert not any("تخمینی" in h.title or "estimated" in h.title for h in holidays)
    assert [h.title for h in cal.on(_j("1415/09/24"))] == ["شهادت امام جعفر صادق علیه السلام"]


def test_a_year_is_listed_in_date_order(cal: HolidayCalendar) -> None:
    holidays = cal.year(1405)
    days = [h.day for h in holidays]
    assert days == sorted(days)
    assert days[0] == _j("1405/01/01") and days[-1] == _j("1405/12/29")
    assert all(to_jalali(d).year == 1405 for d in days)
    assert cal.year(LAST_YEAR + 1) == () and cal.year(FIRST_YEAR - 1) == ()


@pytest.mark.parametrize("year", [1404, 1405, 1430, LAST_YEAR])
@pytest.mark.parametrize("fragment", LUNAR_FRAGMENTS)
def test_every_lunar_holiday_falls_in_every_covered_year(cal: HolidayCalendar, year: int, fragment: str) -> None:
    # A Hijri year is ~11 days shorter, so each lunar holiday occurs once or twice a Jalali year;
    # the last covered year checks that the package's lunar tables reach that far.
    days = {h.day for h in cal.year(year) if _matches(h.title, fragment)}
    assert 1 <= len(days) <= 2


def test_coverage(cal: HolidayCalendar) -> None:
    assert cal.covers(_j(f"{FIRST_YEAR}/01/01")) and cal.covers(_j(f"{LAST_YEAR}/12/29"))
    assert not cal.covers(_j(f"{LAST_YEAR + 1}/01/01"))
    assert not cal.covers(_j(f"{FIRST_YEAR}/01/01") - timedelta(days=1))
    # Outside, nothing is known to be a holiday, but Fridays are still not working days.
    nowruz = _j(f"{LAST_YEAR + 1}/01/01")
    assert not cal.is_holiday(nowruz)
    friday = next(nowruz + timedelta(days=n) for n in range(7) if (nowruz + timedelta(days=n)).weekday() == 4)
    assert not cal.is_working_day(friday)


def test_working_days(cal: HolidayCalendar) -> None:
    assert not cal.is_working_day(date(2025, 1, 31))  # a Friday
    assert cal.is_working_day(date(2025, 1, 30))  # a Thursday
    assert cal.is_working_day(date(2025, 2, 1))  # an ordinary Saturday
    assert not cal.is_working_day(_j("1404/04/14"))  # Tasua, a Saturday


def test_between_includes_both_ends(cal: HolidayCalendar) -> None:
    found = cal.between(_j("1405/01/04"), _j("1405/01/12"))
    assert [h.day for h in found] == [_j("1405/01/04"), _j("1405/01/12")]


# --- the override file -----------------------------------------------------------------------


def _write(tmp_path: Path, closures: object) -> Path:
    path = tmp_path / "holiday_overrides.json"
    path.write_text(json.dumps({"note": "t", "closures": closures}, ensure_ascii=False), encoding="utf-8")
    return path


CLOSURE = {"date": "۱۴۰۵/۰۴/۱۰", "title": "تعطیلی به‌دلیل گرمای هوا", "source": "https://example.ir/decree-1405-123"}


def test_the_shipped_override_file_is_valid() -> None:
    raw = json.loads(DEFAULT_OVERRIDES.read_text(encoding="utf-8"))
    assert isinstance(raw["closures"], list)
    assert load_overrides(DEFAULT_OVERRIDES) is not None


def test_an_override_adds_a_closure(tmp_path: Path) -> None:
    day = _j("1405/04/10")
    assert HolidayCalendar.load().is_working_day(day)  # a Wednesday, no holiday
    cal = HolidayCalendar.load(_write(tmp_path, [CLOSURE]))
    (closure,) = cal.on(day)
    assert closure == Holiday(day, "تعطیلی به‌دلیل گرمای هوا", estimated=False,
                              source="https://example.ir/decree-1405-123")
    assert not cal.is_working_day(day)
    assert closure in cal.year(1405)


def test_an_override_on_a_package_holiday_adds_its_title(tmp_path: Path) -> None:
    cal = HolidayCalendar.load(_write(tmp_path, [{**CLOSURE, "date": "2026-06-05", "title": "تعطیلی ۲"}]))
    assert _titles(cal, "1405/03/15") == ["قیام ۱۵ خرداد", "تعطیلی ۲"]


@pytest.mark.parametrize(
    ("closures", "message"),
    [
        ([{**CLOSURE, "date": "1405/13/01"}], r"closure 1: bad date"),
        ([{**CLOSURE, "date": "tomorrow"}], r"closure 1: bad date"),
        ([{k: v for k, v in CLOSURE.items() if k != "source"}], r"closure 1: missing source"),
        ([{**CLOSURE, "titel": "x"}], r"closure 1: unknown titel"),
        ([{**CLOSURE, "source": "  "}], r"non-empty text"),
        ([{**CLOSURE, "title": "heat closure"}], r"must be in Persian"),
        ([CLOSURE, {**CLOSURE, "title": "دوباره"}], r"closure 2: .* listed twice"),
        ([{**CLOSURE, "date": "1460/01/05"}], r"outside the covered years"),
        (["1405/04/10"], r"closure 1: expected an object"),
        ({"date": "1405/04/10"}, r'"closures" list'),
    ],
)
def test_a_bad_override_file_is_a_clear_error(tmp_path: Path, closures: object, message: str) -> None:
    path = _write(tmp_path, closures)
    with pytest.raises(HolidayOverridesError, match=message) as error:
        HolidayCalendar.load(path)
    assert str(path) in str(error.value)


def test_an_unreadable_override_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "holiday_overrides.json"
    path.write_text('{"closures": [', encoding="utf-8")
    with pytest.raises(HolidayOverridesError, match="not valid JSON"):
        HolidayCalendar.load(path)
    with pytest.raises(HolidayOverridesError, match="cannot read"):
        HolidayCalendar.load(tmp_path / "missing.json")
