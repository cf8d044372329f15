"""Generate services/data/holidays.json: Iran's official holidays for some Jalali years.

Run it with a throwaway interpreter that has `hijridate` and `jdatetime` (neither `hijridate` nor
this script is a project dependency):

    python3 -m venv /tmp/hgen && /tmp/hgen/bin/pip install hijridate jdatetime
    /tmp/hgen/bin/python tools/holidays_gen.py 1404 1405 > services/data/holidays.json

Solar holidays are fixed Jalali dates and exact. Lunar holidays depend on the sighting of the
crescent in Iran, which no formula reproduces: where this script has no officially known start of
a Hijri month it uses the Umm al-Qura calendar, and those lunar dates can differ by a day from the
official calendar of the University of Tehran Institute of Geophysics (مؤسسه ژئوفیزیک دانشگاه
تهران). They must be checked against that calendar every year, and `OFFICIAL_MONTH_STARTS` updated.

Every entry records its `basis`:
- "official": a fixed solar holiday, or a lunar date read from the official calendar;
- "derived": a lunar date inside a Hijri month whose official start is known (from another official
  date of that month), so it follows from the official calendar but was not read from it;
- "computed": Umm al-Qura; check it.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import jdatetime  # type: ignore[import-untyped]
from hijridate import Gregorian, Hijri  # type: ignore[import-not-found]

NOTE = (
    "Solar holidays are fixed. Lunar holidays with basis 'computed' come from the Umm al-Qura "
    "calendar (hijridate) and can differ by a day from the official calendar of the University of "
    "Tehran Institute of Geophysics; those with basis 'official'/'derived' follow official 1404 "
    "dates. Check every lunar date against the official calendar each year (tools/holidays_gen.py)."
)
SOURCE = "tools/holidays_gen.py: fixed solar dates + official 1404 lunar anchors + Umm al-Qura"

# Jalali (month, day) -> title. 29 Esfand stays 29 Esfand in leap years too: the oil
# nationalisation law fixed that day, and 30 Esfand of a leap year is an ordinary day.
SOLAR = [
    (1, 1, "عید نوروز"),
    (1, 2, "عید نوروز"),
    (1, 3, "عید نوروز"),
    (1, 4, "عید نوروز"),
    (1, 12, "روز جمهوری اسلامی ایران"),
    (1, 13, "روز طبیعت"),
    (3, 14, "رحلت حضرت امام خمینی (ره)"),
    (3, 15, "قیام ۱۵ خرداد"),
    (11, 22, "پیروزی انقلاب اسلامی"),
    (12, 29, "روز ملی شدن صنعت نفت ایران"),
]

# Hijri (month, day) -> title; day 0 means "the last day of the month".
LUNAR = [
    (1, 9, "تاسوعای حسینی"),
    (1, 10, "عاشورای حسینی"),
    (2, 20, "اربعین حسینی"),
    (2, 28, "رحلت حضرت رسول اکرم (ص) و شهادت امام حسن مجتبی (ع)"),
    (2, 0, "شهادت امام رضا (ع)"),
    (3, 8, "شهادت امام حسن عسکری (ع)"),
    (3, 17, "میلاد حضرت رسول اکرم (ص) و امام جعفر صادق (ع)"),
    (6, 3, "شهادت حضرت فاطمه زهرا (س)"),
    (7, 13, "ولادت امام علی (ع) و روز پدر"),
    (7, 27, "مبعث حضرت رسول اکرم (ص)"),
    (8, 15, "ولادت حضرت قائم (عج) و جشن نیمه شعبان"),
    (9, 21, "شهادت حضرت علی (ع)"),
    (10, 1, "عید سعید فطر"),
    (10, 2, "تعطیل به مناسبت عید سعید فطر"),
    (10, 25, "شهادت امام جعفر صادق (ع)"),
    (12, 10, "عید سعید قربان"),
    (12, 18, "عید سعید غدیر خم"),
]

# First day (Gregorian) of Hijri months, as implied by dates of the official 1404 calendar:
# 21 Ramadan 1446 = 1 Farvardin 1404, Eid al-Fitr 11 Farvardin, Imam Sadiq 4 Ordibehesht,
# Eid al-Adha 16 Khordad, Tasua/Ashura 14-15 Tir, Arbaeen 23 Mordad, Prophet's birth 18 Shahrivar,
# Fatima 3 Azar, Imam Ali 13 Dey, Mab'ath 27 Dey, 15 Sha'ban 15 Bahman, 21 Ramadan 20 Esfand.
OFFICIAL_MONTH_STARTS: dict[tuple[int, int], dt.date] = {
    (1446, 9): dt.date(2025, 3, 1),
    (1446, 10): dt.date(2025, 3, 31),
    (1446, 12): dt.date(2025, 5, 28),
    (1447, 1): dt.date(2025, 6, 27),
    (1447, 2): dt.date(2025, 7, 26),
    (1447, 3): dt.date(2025, 8, 24),
    (1447, 6): dt.date(2025, 11, 22),
    (1447, 7): dt.date(2025, 12, 22),
    (1447, 8): dt.date(2026, 1, 21),
    (1447, 9): dt.date(2026, 2, 19),
}
# The (Hijri month, day) read directly from the official calendar; the rest of an officially
# started month is "derived".
OFFICIAL_DAYS = {
    (1446, 9, 21), (1446, 10, 1), (1446, 10, 25), (1446, 12, 10), (1446, 12, 18),
    (1447, 1, 9), (1447, 1, 10), (1447, 2, 20), (1447, 3, 17), (1447, 6, 3),
    (1447, 7, 13), (1447, 7, 27), (1447, 8, 15), (1447, 9, 21),
}  # fmt: skip


def _umm_al_qura_start(year: int, month: int) -> dt.date:
    g = Hijri(year, month, 1).to_gregorian()
    return dt.date(g.year, g.month, g.day)


def month_start(year: int, month: int) -> tuple[dt.date, bool]:
    """First day of a Hijri month and whether it is officially known."""
    if (year, month) in OFFICIAL_MONTH_STARTS:
        return OFFICIAL_MONTH_STARTS[(year, month)], True
    return _umm_al_qura_start(year, month), False


def lunar_day(year: int, month: int, day: int) -> tuple[dt.date, str]:
    start, known = month_start(year, month)
    if day == 0:  # last day: the day before the next month starts
        ny, nm = (year + 1, 1) if month == 12 else (year, month + 1)
        next_start, next_known = month_start(ny, nm)
        basis = "derived" if known and next_known else "computed"
        return next_start - dt.timedelta(days=1), basis
    basis = "official" if (year, month, day) in OFFICIAL_DAYS else "derived" if known else "computed"
    return start + dt.timedelta(days=day - 1), basis


def jalali_str(d: dt.date) -> str:
    j = jdatetime.date.fromgregorian(date=d)
    return f"{j.year:04d}/{j.month:02d}/{j.day:02d}"


def generate(years: list[int]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for jy in years:
        for month, day, title in SOLAR:
            g = jdatetime.date(jy, month, day).togregorian()
            entries.append(_entry(g, title, lunar=False, basis="official"))
        first = jdatetime.date(jy, 1, 1).togregorian()
        last = jdatetime.date(jy + 1, 1, 1).togregorian() - dt.timedelta(days=1)
        h_first = Gregorian(first.year, first.month, first.day).to_hijri().year
        for hy in range(h_first - 1, h_first + 2):
            for month, day, title in LUNAR:
                g, basis = lunar_day(hy, month, day)
                if first <= g <= last:
                    entries.append(_entry(g, title, lunar=True, basis=basis))
    entries.sort(key=lambda e: (e["gregorian"], e["lunar"]))
    return {"source": SOURCE, "note": NOTE, "years": years, "holidays": entries}


def _entry(g: dt.date, title: str, *, lunar: bool, basis: str) -> dict[str, Any]:
    return {
        "jalali": jalali_str(g),
        "gregorian": g.isoformat(),
        "title": title,
        "lunar": lunar,
        "basis": basis,
    }


if __name__ == "__main__":
    years = [int(a) for a in sys.argv[1:]] or [1404, 1405]
    json.dump(generate(years), sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
