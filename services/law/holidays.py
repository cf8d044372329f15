"""Iran's official holidays: the `holidays` package (country IR, Persian names) plus an override file.

The package follows Iran's official calendar: the fixed solar holidays, the lunar ones on the dates
of the official calendar where it knows them (for Iran: every Gregorian year it lists as confirmed,
2001-2026 in version 0.108), and one-off official closures it has recorded (e.g. 10-16 Esfand 1404).
Lunar dates it has not confirmed are computed (Umm al-Qura plus one day, Iran's usual offset) and
may be a day off the calendar later published by the University of Tehran Institute of Geophysics:
those holidays are `estimated`, and a deadline that depends on one says so.

Closures the government announces after a release go in services/data/holiday_overrides.json
(date, Persian title, source), read and validated when the calendar is loaded.

Covered years: Jalali 1359-1455 (1980 to March 2077). The package starts in 1980, and version 0.108
carries the lunar tables only into 2077 (later versions go further). A date outside these years is
not known to be a holiday: only Fridays move a deadline there, and it is flagged as uncertain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import holidays as holidays_package

from nlp.digits import to_persian_digits
from services.law.calendar import parse_date, to_jalali

DEFAULT_OVERRIDES = Path(__file__).parents[1] / "data" / "holiday_overrides.json"
FIRST_YEAR = 1359  # Jalali; starts in March 1980, the package's first year for Iran
LAST_YEAR = 1455  # Jalali; ends in March 2077, before the lunar tables of version 0.108 run out
_LANGUAGE = "fa_IR"
_FRIDAY = 4
_PERSIAN_LETTER = re.compile(r"[\u0600-\u06FF]")
_OVERRIDE_KEYS = frozenset({"date", "title", "source"})


class HolidayOverridesError(ValueError):
    """The override file is unreadable or malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Holiday:
    day: date
    title: str  # Persian, with Persian digits
    # True for a lunar date the package computed rather than took from the official calendar.
    estimated: bool = False
    # Where an override comes from (URL or decree); empty for the package's own holidays.
    source: str = ""


class HolidayCalendar:
    """Holidays by day, built per Gregorian year on first use (the package is slow per year, not per day)."""

    def __init__(self, overrides: Iterable[Holiday] = ()) -> None:
        extra: dict[date, tuple[Holiday, ...]] = {}
        for h in overrides:
            extra[h.day] = (*extra.get(h.day, ()), h)
        self._overrides: Mapping[date, tuple[Holiday, ...]] = extra
        self._years: dict[int, dict[date, tuple[Holiday, ...]]] = {}
        # Gregorian bounds of the covered years: `covers` runs for every day of every deadline.
        self._first_day = parse_date(f"{FIRST_YEAR}/01/01")
        self._last_day = parse_date(f"{LAST_YEAR + 1}/01/01") - timedelta(days=1)

    @classmethod
    def load(cls, overrides_path: Path | None = None) -> HolidayCalendar:
        """The package's holidays plus the override file; a bad file raises HolidayOverridesError."""
        return cls(load_overrides(overrides_path or DEFAULT_OVERRIDES))

    @property
    def package_version(self) -> str:
        return str(holidays_package.__version__)

    def covers(self, d: date) -> bool:
        """Whether the holidays of `d`'s Jalali year are known (FIRST_YEAR..LAST_YEAR)."""
        return self._first_day <= d <= self._last_day

    def on(self, d: date) -> tuple[Holiday, ...]:
        if not self.covers(d):
            return ()
        return self._gregorian_year(d.year).get(d, ())

    def is_holiday(self, d: date) -> bool:
        return bool(self.on(d))

    def holiday_name(self, d: date) -> str | None:
        found = self.on(d)
        return "؛ ".join(h.title for h in found) if found else None

    def is_working_day(self, d: date) -> bool:
        """Friday is never a working day; Thursday is, since it is no official holiday (even where offices close)."""
        return d.weekday() != _FRIDAY and not self.is_holiday(d)

    def between(self, first: date, last: date) -> tuple[Holiday, ...]:
        """Every holiday from `first` to `last`, both included, in date order."""
        found: list[Holiday] = []
        d = first
        while d <= last:
            found.extend(self.on(d))
            d += timedelta(days=1)
        return tuple(found)

    def year(self, jalali_year: int) -> tuple[Holiday, ...]:
        """The holidays of one Jalali year, in date order; empty outside the covered years."""
        if not FIRST_YEAR <= jalali_year <= LAST_YEAR:
            return ()
        start = parse_date(f"{jalali_year}/01/01")
        end = parse_date(f"{jalali_year + 1}/01/01") - timedelta(days=1)
        return self.between(start, end)

    def _gregorian_year(self, year: int) -> dict[date, tuple[Holiday, ...]]:
        if year not in self._years:
            by_day = _package_year(year)
            for day, extra in self._overrides.items():
                if day.year == year:
                    by_day[day] = (*by_day.get(day, ()), *extra)
            self._years[year] = by_day
        return self._years[year]


def _package_year(year: int) -> dict[date, tuple[Holiday, ...]]:
    # How "estimated" is known: the package has no per-date flag in its public API. For each lunar
    # holiday its Iran calendar (holidays.countries.iran.IranIslamicHolidays, a
    # _CustomIslamicHolidays) yields (date, is_estimated); is_estimated is False for the dates it
    # lists per year and for every year in <HOLIDAY>_DATES_CONFIRMED_YEARS (2001-2026 in 0.108), True
    # otherwise. With islamic_show_estimated=True (also the default) an estimated date's name is
    # written through the class's `estimated_label`, "%s (تخمینی)" in fa_IR. So a name that matches
    # that label, read from the instance as translated, is an estimated date; the label is stripped
    # from the title we show.
    calendar = holidays_package.country_holidays(
        "IR", years=year, language=_LANGUAGE, islamic_show_estimated=True
    )
    prefix, _, suffix = calendar.tr(calendar.estimated_label).partition("%s")
    by_day: dict[date, tuple[Holiday, ...]] = {}
    for day in sorted(calendar):
        found = []
        for name in calendar.get_list(day):
            estimated = bool(suffix) and name.startswith(prefix) and name.endswith(suffix)
            if estimated:
                name = name[len(prefix):len(name) - len(suffix)]
            found.append(Holiday(day, to_persian_digits(name.strip()), estimated))
        by_day[day] = tuple(found)
    return by_day


def load_overrides(path: Path) -> list[Holiday]:
    """Read the override file: {"closures": [{"date", "title", "source"}, ...]}.

    `date` is Jalali (1405/04/10, Persian digits accepted) or ISO. Every problem raises
    HolidayOverridesError naming the file and the entry, so a bad edit stops the bot at start.
    """
    def fail(message: str) -> HolidayOverridesError:
        return HolidayOverridesError(f"{path}: {message}")

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise fail(f"cannot read: {error.strerror or error}") from error
    except json.JSONDecodeError as error:
        raise fail(f"not valid JSON: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("closures"), list):
        raise fail('expected an object with a "closures" list')
    closures: list[Holiday] = []
    seen: set[date] = set()
    for number, entry in enumerate(raw["closures"], start=1):
        where = f"closure {number}"
        if not isinstance(entry, dict):
            raise fail(f"{where}: expected an object with date, title, source")
        keys = set(entry)
        if keys != _OVERRIDE_KEYS:
            missing, unknown = sorted(_OVERRIDE_KEYS - keys), sorted(keys - _OVERRIDE_KEYS)
            raise fail(f"{where}: " + "; ".join(
                part for part in (f"missing {', '.join(missing)}" if missing else "",
                                  f"unknown {', '.join(unknown)}" if unknown else "") if part))
        if not all(isinstance(entry[key], str) and entry[key].strip() for key in _OVERRIDE_KEYS):
            raise fail(f"{where}: date, title and source must be non-empty text")
        try:
            day = parse_date(entry["date"])
        except ValueError as error:
            raise fail(f"{where}: bad date {entry['date']!r}: {error}") from error
        if not FIRST_YEAR <= to_jalali(day).year <= LAST_YEAR:
            raise fail(f"{where}: {entry['date']} is outside the covered years {FIRST_YEAR}-{LAST_YEAR}")
        if not _PERSIAN_LETTER.search(entry["title"]):
            raise fail(f"{where}: the title must be in Persian, got {entry['title']!r}")
        if day in seen:
            raise fail(f"{where}: {entry['date']} is listed twice")
        seen.add(day)
        closures.append(Holiday(day, to_persian_digits(entry["title"].strip()), False, entry["source"].strip()))
    return closures
