"""What every `eblagh … export` shares: the `--format jsonl|csv` and `--output` options, and the writer.

JSON lines keep values as they are; CSV writes None as an empty cell and booleans as in the JSON lines
(true/false). The count goes to standard error, so standard output stays the data alone.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TextIO

from bot.runtime import Runtime, open_runtime

Rows = Callable[[Runtime], AsyncIterator[dict[str, Any]]]


def add_export(actions: Any, help: str, fields: Sequence[str], rows: Rows) -> argparse.ArgumentParser:
    export: argparse.ArgumentParser = actions.add_parser("export", help=help)
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--output", "-o", help="write to this file instead of standard output")
    export.set_defaults(func=lambda args: run_export(args, fields, rows))
    return export


def run_export(args: argparse.Namespace, fields: Sequence[str], rows: Rows) -> int:
    runtime = open_runtime()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = asyncio.run(write_rows(runtime, rows, args.format, fields, out))
    else:
        count = asyncio.run(write_rows(runtime, rows, args.format, fields, sys.stdout))
    print(f"{count} records", file=sys.stderr)
    return 0


def csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def write_rows(runtime: Runtime, rows: Rows, fmt: str, fields: Sequence[str], out: TextIO) -> int:
    count = 0
    writer = csv.DictWriter(out, fieldnames=list(fields)) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    try:
        async for row in rows(runtime):
            if writer is not None:
                writer.writerow({k: csv_value(v) for k, v in row.items()})
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        await runtime.database.close()
    return count
