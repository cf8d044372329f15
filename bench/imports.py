"""Import benchmark: seeded citizens, cases and rulings through the real importers; one JSON object.

    python bench/imports.py [--rulings 100000] [--database-url postgresql://...] [--seed 1403]

Without --database-url a temporary SQLite database is used; a given database must be empty (it is
upgraded to the newest schema first). Then the same three files are imported again: the idempotent
path, which must change nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The project root first: run as `python bench/imports.py`, bench/ itself leads the path, and
# bench/nlp.py would shadow the nlp package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.imports.importer import ImportReport, import_cases, import_citizens, import_rulings  # noqa: E402
from services.privacy import Hasher  # noqa: E402
from storage.database import Database, upgrade  # noqa: E402

STATUSES = ("registered", "awaiting_defense", "hearing_scheduled", "ruling_issued", "under_appeal", "final")
KINDS = ("fine", "demolition", "restoration", "other")
TEXT = ("رأی کمیسیون ماده ۱۰۰ قانون شهرداری‌ها: نظر به گزارش شهرداری منطقه، دفاعیات مالک و بازدید کارشناس، "
        "تخلف ساختمانی محرز است و به استناد تبصرهٔ ۲ ماده ۱۰۰ حکم زیر صادر می‌شود. ")


def national_id(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        r = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        candidate = "".join(map(str, digits)) + str(r if r < 2 else 11 - r)
        if len(set(candidate)) > 1:
            return candidate


def generate(folder: Path, citizens: int, cases: int, rulings: int, seed: int) -> dict[str, Path]:
    rng = random.Random(seed)
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < citizens:
        nid = national_id(rng)
        if nid not in seen:
            seen.add(nid)
            ids.append(nid)
    paths = {name: folder / f"{name}.{ext}" for name, ext in
             (("citizens", "csv"), ("cases", "jsonl"), ("rulings", "jsonl"))}
    with paths["citizens"].open("w", encoding="utf-8") as f:
        f.write("national_id,mobile,full_name,district\n")
        for i, nid in enumerate(ids):
            f.write(f"{nid},0912{rng.randrange(10**7):07d},شهروند {i},{rng.randint(1, 22)}\n")
    owners: list[str] = []
    with paths["cases"].open("w", encoding="utf-8") as f:
        for i in range(cases):
            owner = ids[i % citizens]
            owners.append(owner)
            f.write(json.dumps({"case_number": f"1403{i:07d}", "national_id": owner,
                                "status": rng.choice(STATUSES), "district": rng.randint(1, 22),
                                "address": f"خیابان {i}، پلاک {rng.randint(1, 300)}",
                                "violation": "اضافه اشکوب", "hearing_at": "2025-02-10T09:30:00+03:30"},
                               ensure_ascii=False) + "\n")
    with paths["rulings"].open("w", encoding="utf-8") as f:
        for i in range(rulings):
            case = i % cases
            kind = rng.choice(KINDS)
            f.write(json.dumps({"ruling_id": f"R-1403-{i:07d}", "case_number": f"1403{case:07d}",
                                "national_id": owners[case], "commission": rng.choice(("first", "appeal")),
                                "kind": kind, "issued_at": f"1403/11/{rng.randint(1, 30):02d}",
                                "fine_amount_rials": rng.randrange(10**6, 10**10) if kind == "fine" else None,
                                "summary": f"رأی شمارهٔ {i}", "text": TEXT + f"(رأی {i})"},
                               ensure_ascii=False) + "\n")
    return paths


def lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        yield from file


def figures(report: ImportReport, rows: int, seconds: float) -> dict[str, Any]:
    return {"rows": rows, "seconds": round(seconds, 3), "rows_per_second": round(rows / seconds),
            "inserted": report.inserted, "updated": report.updated, "unchanged": report.unchanged,
            "bad": report.bad}


async def run(url: str, paths: dict[str, Path], counts: dict[str, int]) -> dict[str, Any]:
    db = Database(url)
    hasher = Hasher(b"bench-secret-key")
    importers = (("citizens", import_citizens), ("cases", import_cases), ("rulings", import_rulings))
    out: dict[str, Any] = {}
    try:
        for label in ("first", "again"):
            started_all = time.perf_counter()
            for name, importer in importers:
                started = time.perf_counter()
                report = await importer(db, hasher, lines(paths[name]), total=counts[name])
                seconds = time.perf_counter() - started
                out[name if label == "first" else f"{name}_reimport"] = figures(report, counts[name], seconds)
            out["total_seconds" if label == "first" else "reimport_seconds"] = round(
                time.perf_counter() - started_all, 3)
    finally:
        await db.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rulings", type=int, default=100_000)
    parser.add_argument("--cases", type=int, help="default: rulings / 2")
    parser.add_argument("--citizens", type=int, help="default: rulings / 4")
    parser.add_argument("--database-url", help="an empty database (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=1403)
    args = parser.parse_args()
    counts = {"rulings": args.rulings, "cases": args.cases or max(args.rulings // 2, 1),
              "citizens": args.citizens or max(args.rulings // 4, 1)}
    with tempfile.TemporaryDirectory(prefix="eblagh-bench-") as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
        paths = generate(folder, counts["citizens"], counts["cases"], counts["rulings"], args.seed)
        upgrade(url)
        result = asyncio.run(run(url, paths, counts))
    result = {"benchmark": "imports", "database": url.split(":", 1)[0], **result,
              "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
