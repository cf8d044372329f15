"""`eblagh import citizens|cases|rulings|subscribers FILE`: staff files into the database.

Bad rows go to stderr as «خط N: reason», good rows are applied, the summary goes to stdout. Exit
status: 0 all applied, 1 some rows bad (the others applied), 2 the file itself could not be used
(nothing applied), 3 the database failed mid-import (the batch in hand rolled back whole; stderr
says up to which line rows were applied). An import that failed or was interrupted can simply be
run again: every batch is its own transaction and imports are idempotent. Each run is recorded in
the audit trail as `cli:<OS user>`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.runtime import open_runtime
from services.imports import messages as msg
from services.imports.importer import BATCH_SIZE, CSV_KINDS, IMPORTERS, ImportFileError, ImportReport

HELP = {
    "citizens": "CSV with header national_id,mobile,full_name,district (upsert by national ID)",
    "cases": "JSONL, one case a line (upsert by case_number; citizens first)",
    "rulings": "JSONL, one ruling a line (new rulings become notices; cases first)",
    "subscribers": "CSV with header national_id,platform,chat_id[,user_id]: chats moved from another bot",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("import", help="import staff files (citizens, cases, rulings, subscribers)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = parser.add_subparsers(dest="kind", required=True)
    for kind, text in HELP.items():
        sub = kinds.add_parser(kind, help=text, description=text)
        sub.add_argument("file", type=Path, help="UTF-8 file (BOM and CRLF are fine)")
        sub.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per transaction")
        sub.add_argument("--json", action="store_true", help="print the report as one JSON object")
        sub.set_defaults(func=run)


class FileCheckError(Exception):
    pass


def count_rows(path: Path, header: bool) -> int:
    """Non-blank rows, checking on the way that the file is UTF-8 (Excel often saves Windows-1256)."""
    rows = 0
    try:
        with path.open("rb") as raw:
            for number, line in enumerate(raw, start=1):
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError:
                    raise FileCheckError(msg.not_utf8(number)) from None
                rows += bool(text.strip())
    except OSError as error:
        raise FileCheckError(msg.unreadable(str(path), error.strerror or str(error))) from None
    return max(rows - header, 0)


def read_lines(path: Path) -> Iterator[str]:
    # newline="" hands CRLF and quoted line breaks to the csv module untouched
    with path.open(encoding="utf-8-sig", newline="") as file:
        yield from file


class ProgressLine:
    """count/total and rows per second on one redrawn terminal line."""

    def __init__(self, kind: str, stream: TextIO) -> None:
        self.kind = kind
        self.stream = stream
        self.started = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        rate = done / max(time.monotonic() - self.started, 1e-6)
        self.stream.write("\r\x1b[K" + msg.progress_line(self.kind, done, total, rate))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


EXIT_DATABASE_FAILED = 3


def cli_actor() -> str:
    """Who ran the import, for the audit trail: the OS user, or plain "cli" when it has no name."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's uid with no passwd entry and no $USER
        return "cli"
    return f"cli:{user}"


def report_json(report: ImportReport, seconds: float) -> str:
    return json.dumps({"kind": report.kind, "inserted": report.inserted, "updated": report.updated,
                       "unchanged": report.unchanged, "bad": report.bad, "seconds": round(seconds, 3),
                       "completed": report.completed, "applied_through_line": report.applied_through,
                       "not_applied_from_line": report.failed_from, "error": report.failure,
                       "problems": [{"line": p.line, "reason": p.reason} for p in report.problems]},
                      ensure_ascii=False)


def run(args: argparse.Namespace) -> int:
    kind: str = args.kind
    path: Path = args.file
    try:
        total = count_rows(path, header=kind in CSV_KINDS)
    except FileCheckError as error:
        print(error, file=sys.stderr)
        return 2
    runtime = open_runtime()
    progress = ProgressLine(kind, sys.stderr) if sys.stderr.isatty() else None

    async def main() -> ImportReport:
        try:
            return await IMPORTERS[kind](runtime.database, runtime.hasher, read_lines(path), total=total,
                                         progress=progress, batch_size=args.batch_size, actor=cli_actor(),
                                         source=path.name)
        finally:
            await runtime.database.close()

    started = time.monotonic()
    try:
        report = asyncio.run(main())
    except ImportFileError as error:
        print(msg.problem_line(1, str(error)), file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.close()
    seconds = time.monotonic() - started
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if not report.completed:
        print(msg.database_failed(report.failure or "", report.applied_through, report.failed_from), file=sys.stderr)
    if not report.audited:
        print(msg.AUDIT_NOT_RECORDED, file=sys.stderr)
    if args.json:
        print(report_json(report, seconds))
    else:
        print(msg.summary(kind, report.inserted, report.updated, report.unchanged, report.bad, seconds))
    if not report.completed:
        return EXIT_DATABASE_FAILED
    return 1 if report.problems else 0
