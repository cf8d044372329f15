"""Demo data for `eblagh shell --demo`, loaded through the real importers (the same contract files)."""

from __future__ import annotations

from pathlib import Path

from services.imports.importer import IMPORTERS, ImportReport
from services.privacy import Hasher
from storage.database import Database

DEMO_DIR = Path(__file__).parent / "demo"
DEMO_FILES = (("citizens", "citizens.csv"), ("cases", "cases.jsonl"), ("rulings", "rulings.jsonl"))

# The demo citizens are invented; their credentials are printed on purpose.
DEMO_NATIONAL_ID = "0012345679"
DEMO_MOBILE = "09121234567"
OTHER_NATIONAL_ID = "0499370899"
OTHER_MOBILE = "09351112233"


async def seed_demo(db: Database, hasher: Hasher) -> list[ImportReport]:
    reports = []
    for kind, name in DEMO_FILES:
        lines = (DEMO_DIR / name).read_text(encoding="utf-8").splitlines(keepends=True)
        report = await IMPORTERS[kind](db, hasher, lines)
        if report.problems:
            raise RuntimeError(f"demo {kind} data is invalid: {report.problems}")
        reports.append(report)
    return reports


DEMO_BANNER = f"""\
— دموی ابلاغ —
شهروند نمونه: کد ملی {DEMO_NATIONAL_ID}، شماره همراه {DEMO_MOBILE}
(شهروند دوم: کد ملی {OTHER_NATIONAL_ID}، شماره همراه {OTHER_MOBILE})
گام‌ها: /start ← کد ملی ← :contact {DEMO_MOBILE} ← :tap N (دکمه مشاهده رأی)
آزمودن خطا: :contact 09120000000 (شماره نادرست) یا :contact {DEMO_MOBILE} 999 (شماره کس دیگر)
"""
