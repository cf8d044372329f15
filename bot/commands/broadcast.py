"""`eblagh broadcast create|status|cancel`: staff announcements to a segment of subscribers.

    eblagh broadcast create --text TEXT [--segment all|district:N|status:S] [--at ISO-TIME] [--dry-run] [--json]
    eblagh broadcast status ID [--json] [--follow]
    eblagh broadcast cancel ID

Recipients are the active, reachable chats of the citizens in the segment (district N: own district
or a case in it; status S: a case in that status). The text goes as plain text (no HTML), at most
4096 characters; `--at` without a zone is Tehran time. `eblagh worker` does the sending.
Exit status: 0 done, 1 unknown or finished broadcast, 2 bad input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bot.runtime import open_runtime
from bot.settings import MissingSecretKey
from handlers.staff import problem_text
from services.broadcasts import (
    BroadcastError,
    BroadcastProgress,
    BroadcastService,
    Segment,
    check_text,
    parse_time,
)
from services.clock import system_clock

T = TypeVar("T")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("broadcast", help="staff announcements: create, status, cancel",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="queue an announcement")
    create.add_argument("--text", required=True)
    create.add_argument("--segment", default="all", help="all | district:N | status:S (default all)")
    create.add_argument("--at", help="send at this time (ISO 8601 or Jalali; Tehran time without a zone)")
    create.add_argument("--dry-run", action="store_true", help="count the recipients, queue nothing")
    create.add_argument("--json", action="store_true")
    create.set_defaults(func=run_create)
    status = actions.add_parser("status", help="progress of a broadcast")
    status.add_argument("id", type=int)
    status.add_argument("--json", action="store_true")
    status.add_argument("--follow", action="store_true", help="print progress until it is finished")
    status.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    status.set_defaults(func=run_status)
    cancel = actions.add_parser("cancel", help="stop what is not yet sent")
    cancel.add_argument("id", type=int)
    cancel.set_defaults(func=run_cancel)


def _with_service(work: Callable[[BroadcastService], Awaitable[T]]) -> T:
    runtime = open_runtime()

    async def main() -> T:
        try:
            return await work(BroadcastService(runtime.database, system_clock))
        finally:
            await runtime.database.close()

    return asyncio.run(main())


def _fail(message: str, status: int = 2) -> int:
    print(f"eblagh broadcast: {message}", file=sys.stderr)
    return status


def run_create(args: argparse.Namespace) -> int:
    try:
        segment = Segment.parse(args.segment)
        text = check_text(args.text)
        at = parse_time(args.at) if args.at else None
    except BroadcastError as error:
        return _fail(problem_text(error))
    try:
        if args.dry_run:
            count = _with_service(lambda service: service.count_recipients(segment))
            result: dict[str, object] = {"id": None, "recipients": count, "dry_run": True}
        else:
            async def create(service: BroadcastService) -> BroadcastProgress | None:
                if at is None and await service.count_recipients(segment) == 0:
                    return None
                return await service.create(text=text, segment=segment, at=at, created_by="cli")

            progress = _with_service(create)
            if progress is None:
                # Almost always a mistyped segment; a broadcast to nobody is not worth a record.
                return _fail(f"no active chat in segment {segment}; nothing queued", status=1)
            result = {"id": progress.id, "recipients": progress.recipients}
            if progress.scheduled_at is not None:
                result["scheduled_at"] = progress.scheduled_at.isoformat()
    except MissingSecretKey as error:
        return _fail(str(error))
    if args.json:
        print(json.dumps(result))
    elif args.dry_run:
        print(f"dry run: {result['recipients']} recipients ({segment}); nothing queued")
    else:
        when = f", scheduled for {result['scheduled_at']}" if "scheduled_at" in result else ""
        print(f"broadcast {result['id']} queued for {result['recipients']} recipients ({segment}){when}")
    return 0


def _line(progress: BroadcastProgress) -> str:
    return (f"broadcast {progress.id}: {progress.state} - recipients {progress.recipients}, sent {progress.sent}, "
            f"blocked {progress.blocked}, failed {progress.failed}, pending {progress.pending}"
            + (f", cancelled {progress.cancelled}" if progress.cancelled else ""))


def run_status(args: argparse.Namespace) -> int:
    async def follow(service: BroadcastService) -> int:
        last = None
        while True:
            progress = await service.status(args.id)
            if progress is None:
                return _fail(f"no broadcast {args.id}", 1)
            shown = json.dumps(progress.as_json()) if args.json else _line(progress)
            if shown != last:
                print(shown, flush=True)
                last = shown
            if not args.follow or progress.finished:
                return 0
            await asyncio.sleep(args.interval)

    return _with_service(follow)


def run_cancel(args: argparse.Namespace) -> int:
    withdrawn = _with_service(lambda service: service.cancel(args.id, by="cli"))
    if withdrawn is None:
        return _fail(f"broadcast {args.id} is unknown, finished or already cancelled", 1)
    print(f"broadcast {args.id} cancelled: {withdrawn} messages withdrawn")
    return 0

