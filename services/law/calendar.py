"""Times and amounts as citizens read them: Asia/Tehran, Jalali calendar, Persian digits.

Everything inside eblagh is an aware UTC datetime; this module is the only place that turns one
into Tehran local time or a Jalali date, and the only place that parses dates typed by staff or
found in import files. A naive datetime given to a presentation function is taken as UTC (it can
only have come from storage, which keeps UTC); a naive time *parsed from text* is Tehran local
time, because that is what people write.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from nlp.digits import to_ascii_digits, to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")

# Data, not conversation text: index 1..12 for Jalali months, Monday=0 for weekdays.
JALALI_MONTHS = (
    "",
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)
WEEKDAYS = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")

# Years below this are Jalali (the Jalali calendar is ~621 years behind the Gregorian one).
_JALALI_YEAR_LIMIT = 1700
_DATE_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DATE_TIME_RE = re.compile(_DATE_RE.pattern + r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_THOUSANDS = "٬"  # U+066C ARABIC THOUSANDS SEPARATOR, the Persian one
_DECIMAL = "٫"  # U+066B ARABIC DECIMAL SEPARATOR


def as_utc(dt: datetime) -> datetime:
    """The same instant as an aware UTC datetime; naive values are taken as UTC (storage)."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_tehran(dt_utc: datetime) -> datetime:
    return as_utc(dt_utc).astimezone(TEHRAN)


def tehran_date(dt_utc: datetime) -> date:
    """The civil date in Tehran at that instant (21:00Z is already the next day there)."""
    return to_tehran(dt_utc).date()


def to_jalali(d: date) -> jdatetime.date:
    return jdatetime.date.fromgregorian(date=d)


def jalali_date(d: date) -> str:
    """«۱۴۰۳/۱۱/۰۱»."""
    j = to_jalali(d)
    return to_persian_digits(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")


def jalali_date_long(d: date) -> str:
    """«دوشنبه ۱ بهمن ۱۴۰۳»."""
    j = to_jalali(d)
    return to_persian_digits(f"{WEEKDAYS[d.weekday()]} {j.day} {JALALI_MONTHS[j.month]} {j.year}")


def jalali_datetime(dt_utc: datetime) -> str:
    """«۱۴۰۳/۱۱/۲۲ ساعت ۰۹:۳۰» in Tehran local time."""
    local = to_tehran(dt_utc)
    return f"{jalali_date(local.date())} ساعت {to_persian_digits(local.strftime('%H:%M'))}"


def _build_date(year: int, month: int, day: int, text: str) -> date:
    try:
        if year < _JALALI_YEAR_LIMIT:
            return jdatetime.date(year, month, day).togregorian()
        return date(year, month, day)
    except ValueError:
        kind = "Jalali" if year < _JALALI_YEAR_LIMIT else "Gregorian"
        raise ValueError(f"not a valid {kind} date: {text!r}") from None


def parse_date(text: str) -> date:
    """A date written `2025-01-20` or Jalali `1403/11/01` / `1403-11-01`, in any digits.

    A year below 1700 means Jalali. Raises ValueError saying what was wrong.
    """
    folded = to_ascii_digits(text).strip()
    m = _DATE_RE.fullmatch(folded)
    if m is None:
        raise ValueError(f"not a date (expected YYYY-MM-DD or Jalali YYYY/MM/DD): {text!r}")
    return _build_date(int(m[1]), int(m[2]), int(m[3]), text)


def parse_datetime(text: str) -> datetime:
    """An aware UTC datetime from what staff and import files write.

    Accepted: ISO 8601 with an offset (`2025-02-10T09:30:00+03:30`, `...Z`); naive ISO, taken as
    Tehran local time; a bare date, taken as the start of that day in Tehran; a Jalali date with an
    optional ` HH:MM` (Tehran local time). Any digits. Raises ValueError otherwise.
    """
    folded = to_ascii_digits(text).strip()
    m = _DATE_TIME_RE.fullmatch(folded)
    if m is not None:
        d = _build_date(int(m[1]), int(m[2]), int(m[3]), text)
        hour, minute, second = (int(g) if g else 0 for g in (m[4], m[5], m[6]))
        try:
            local_time = time(hour, minute, second)
        except ValueError:
            raise ValueError(f"not a valid time of day: {text!r}") from None
        return datetime.combine(d, local_time, TEHRAN).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(folded)
    except ValueError:
        raise ValueError(
            f"not a date and time (expected ISO 8601 or Jalali YYYY/MM/DD HH:MM): {text!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=TEHRAN)
    return parsed.astimezone(UTC)


def start_of_tehran_day(d: date) -> datetime:
    """Midnight in Tehran at the start of `d`, as UTC."""
    return datetime.combine(d, time(), TEHRAN).astimezone(UTC)


def end_of_tehran_day(d: date) -> datetime:
    """The last representable instant of `d` in Tehran, as UTC."""
    return datetime.combine(d, time.max, TEHRAN).astimezone(UTC)


def add_jalali_months(d: date, months: int) -> date:
    """Same day-of-month `months` Jalali months later, clamped to the month's length.

    31 Shahrivar + 3 months is 30 Azar, as a person counting on a Jalali calendar would say.
    """
    j = to_jalali(d)
    index = j.year * 12 + (j.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    next_first = jdatetime.date(year + (month == 12), month % 12 + 1, 1)
    month_length = (next_first - timedelta(days=1)).day
    return jdatetime.date(year, month, min(j.day, month_length)).togregorian()


def _group(digits: str) -> str:
    return f"{int(digits):,}".replace(",", _THOUSANDS)


def format_rials(amount_rials: int) -> str:
    """«۱۲۵٬۰۰۰٬۰۰۰ تومان (۱٬۲۵۰٬۰۰۰٬۰۰۰ ریال)»; a Toman is ten Rials."""
    sign = "-" if amount_rials < 0 else ""
    rials = abs(amount_rials)
    tomans, rest = divmod(rials, 10)
    toman_text = _group(str(tomans)) + (f"{_DECIMAL}{rest}" if rest else "")
    return to_persian_digits(f"{sign}{toman_text} تومان ({sign}{_group(str(rials))} ریال)")
