"""`eblagh holidays [YEAR] [--json]`: the official holidays of a Jalali year, as deadlines use them.

    eblagh holidays            # the current Jalali year in Tehran
    eblagh holidays 1405 --json
    eblagh holidays 1405 --overrides new_overrides.json   # check an edited override file first

One line a holiday (two holidays on one day are two lines): Jalali date, Gregorian date, weekday,
title, and «(تخمینی)» for a lunar date that is computed, not yet official. With --json, one object
a line: {"jalali", "date", "weekday", "title", "estimated", "source"} (source: an override's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from nlp.digits import to_ascii_digits
from services.clock import system_clock
from services.law.calendar import WEEKDAYS, jalali_date, tehran_date, to_jalali
from services.law.holidays import FIRST_YEAR, LAST_YEAR, Holiday, HolidayCalendar

ESTIMATED_MARK = "(تخمینی)"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("holidays", help="official holidays of a Jalali year")
    parser.add_argument("year", nargs="?", help="Jalali year, e.g. 1405 (default: the current one in Tehran)")
    parser.add_argument("--json", action="store_true", help="one JSON object a line")
    parser.add_argument("--overrides", type=Path, default=None,
                        help="check and use this override file instead of the shipped one")
    parser.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    if args.year is None:
        year = to_jalali(tehran_date(system_clock())).year
    else:
        text = to_ascii_digits(args.year).strip()
        if not text.isdigit():
            print(f"eblagh holidays: not a Jalali year: {args.year!r}", file=sys.stderr)
            return 2
        year = int(text)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        print(f"eblagh holidays: {year} is outside the covered years {FIRST_YEAR}-{LAST_YEAR}", file=sys.stderr)
        return 2
    calendar = HolidayCalendar.load(args.overrides)  # a bad file: HolidayOverridesError, exit 2 in bot.cli
    found = calendar.year(year)
    try:
        for h in found:
            sys.stdout.write(_json_line(h) if args.json else _text_line(h))
    except BrokenPipeError:  # the reader (e.g. `head`) has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    estimated = sum(h.estimated for h in found)
    print(f"{len(found)} holidays in {year}, {estimated} estimated (holidays {calendar.package_version})",
          file=sys.stderr)
    return 0


def _text_line(h: Holiday) -> str:
    mark = f" {ESTIMATED_MARK}" if h.estimated else ""
    return f"{jalali_date(h.day)}  {h.day.isoformat()}  {WEEKDAYS[h.day.weekday()]}  {h.title}{mark}\n"


def _json_line(h: Holiday) -> str:
    record = {"jalali": to_ascii_digits(jalali_date(h.day)), "date": h.day.isoformat(),
              "weekday": WEEKDAYS[h.day.weekday()], "title": h.title, "estimated": h.estimated,
              "source": h.source or None}
    return json.dumps(record, ensure_ascii=False) + "\n"
