"""`eblagh payments export --format jsonl|csv [--output FILE]`: fines paid in the chat (Bale).

One record per payment received (pending, confirmed or failed); invoices never paid are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from typing import Any, TextIO

from bot.runtime import Runtime, open_runtime
from services.payments import PAYMENT_FIELDS, export_payments


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("payments", help="fines paid in the chat (Bale)")
    actions = parser.add_subparsers(dest="payments_action", required=True)
    export = actions.add_parser("export", help="one record per payment")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="write to this file instead of standard output")
    export.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    runtime = open_runtime()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = asyncio.run(write_payments(runtime, args.format, out))
    else:
        count = asyncio.run(write_payments(runtime, args.format, sys.stdout))
    print(f"{count} records", file=sys.stderr)
    return 0


async def write_payments(runtime: Runtime, fmt: str, out: TextIO) -> int:
    count = 0
    writer = csv.DictWriter(out, fieldnames=PAYMENT_FIELDS) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    try:
        async for row in export_payments(runtime.database):
            if writer is not None:
                writer.writerow({k: "" if v is None else v for k, v in row.items()})
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        await runtime.database.close()
    return count
