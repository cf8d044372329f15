"""`eblagh receipts export --format jsonl|csv [--output FILE]`: proof of service for every notice.
`eblagh receipts verify [--all]`: check the proof chain against the tables; exit 1 naming the first broken
record."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

from bot.app import law_policy
from bot.commands.exporting import add_export
from bot.runtime import Runtime, open_runtime
from services.clock import system_clock
from services.proof import ProofReport, verify_proof
from services.receipts import RECEIPT_FIELDS, export_receipts


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("receipts", help="proof of service")
    actions = parser.add_subparsers(dest="receipts_action", required=True)
    add_export(actions, "one record per notice and chat", RECEIPT_FIELDS, _receipt_rows)
    verify = actions.add_parser("verify", help="check the tamper-evident proof chain against the tables")
    verify.add_argument("--all", action="store_true", help="list every problem, not only the first")
    verify.set_defaults(func=_verify)


async def _receipt_rows(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
    async for record in export_receipts(runtime.database, law_policy(runtime), system_clock):
        yield record.as_dict()


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
