"""`eblagh receipts export --format jsonl|csv [--output FILE]`: proof of service for every notice.
`eblagh receipts verify [--all]`: check the proof chain against the tables; exit 1 naming the first broken
record."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from typing import Any, TextIO

from bot.app import law_policy
from bot.runtime import Runtime, open_runtime
from services.clock import system_clock
from services.proof import ProofReport, verify_proof
from services.receipts import RECEIPT_FIELDS, export_receipts


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("receipts", help="proof of service")
    actions = parser.add_subparsers(dest="receipts_action", required=True)
    export = actions.add_parser("export", help="one record per notice and chat")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="write to this file instead of standard output")
    export.set_defaults(func=_export)
    verify = actions.add_parser("verify", help="check the tamper-evident proof chain against the tables")
    verify.add_argument("--all", action="store_true", help="list every problem, not only the first")
    verify.set_defaults(func=_verify)


def _export(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = asyncio.run(_write(runtime, args.format, out))
    else:
        count = asyncio.run(_write(runtime, args.format, sys.stdout))
    print(f"{count} records", file=sys.stderr)
    return 0


def _csv_value(value: object) -> object:
    """None as an empty cell; booleans as in the JSON lines (true/false), not Python's True/False."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def _write(runtime: Runtime, fmt: str, out: TextIO) -> int:
    count = 0
    writer = csv.DictWriter(out, fieldnames=RECEIPT_FIELDS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    try:
        async for record in export_receipts(runtime.database, law_policy(runtime), system_clock):
            row = record.as_dict()
            if writer is not None:
                writer.writerow({k: _csv_value(v) for k, v in row.items()})
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        await runtime.database.close()
    return count


def _verify(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    report = asyncio.run(_check(runtime))
    head = f"head seq {report.head_seq}, hash {report.head_hash[:16]}…"
    if report.ok:
        print(f"proof chain OK: {report.records} records verified; {head}")
        return 0
    first, *rest = report.problems
    print(f"proof chain BROKEN at {first.describe()}")
    for problem in rest if args.all else []:
        print(f"  also {problem.describe()}")
    print(f"{report.problem_count} problem(s) in {report.records} records; {head}")
    return 1


async def _check(runtime: Runtime) -> ProofReport:
    try:
        return await verify_proof(runtime.database, runtime.database.proof_key)
    finally:
        await runtime.database.close()
