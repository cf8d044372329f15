"""`eblagh staff add USERNAME --role admin|operator|viewer`, `list`, `disable USERNAME`, `reset USERNAME`:
accounts of the staff dashboard (/staff on `eblagh web`).

`add` and `reset` print a one-time password (changed at first login) and a TOTP enrolment: the
`otpauth://` URI for an authenticator app and its base32 secret. They are shown once.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import UTC, datetime
from typing import Any

from bot.runtime import open_runtime
from services.clock import system_clock
from services.staff_accounts import Enrolment, Role, StaffAccounts, StaffError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("staff", help="accounts of the staff dashboard")
    actions = parser.add_subparsers(dest="staff_action", required=True)
    add = actions.add_parser("add", help="create an account; prints a one-time password and TOTP enrolment")
    add.add_argument("username")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.set_defaults(func=_add)
    listing = actions.add_parser("list", help="every account, its role and state")
    listing.set_defaults(func=_list)
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    disable.set_defaults(func=_disable)
    reset = actions.add_parser("reset", help="new one-time password and TOTP secret; ends its sessions")
    reset.add_argument("username")
    reset.set_defaults(func=_reset)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in a container: still an audit entry
        return "cli"


def _print_enrolment(enrolment: Enrolment, what: str) -> None:
    print(f"{what} {enrolment.username}")
    print(f"one-time password: {enrolment.password}   (to be changed at first login)")
    print(f"TOTP secret:       {enrolment.totp_secret}")
    print(f"TOTP enrolment:    {enrolment.otpauth_uri}")


def _with_accounts(job: Any) -> int:
    runtime = open_runtime()  # before the loop: the embedded default upgrades its schema here
    return asyncio.run(_run(runtime, job))


async def _run(runtime: Any, job: Any) -> int:
    try:
        return int(await job(StaffAccounts(runtime.database, system_clock)))
    except StaffError as error:
        print(f"eblagh staff: {error}", file=sys.stderr)
        return 1
    finally:
        await runtime.database.close()


def _add(args: argparse.Namespace) -> int:
    async def job(accounts: StaffAccounts) -> int:
        _print_enrolment(await accounts.add(args.username, Role(args.role), by=_actor()), f"added ({args.role})")
        return 0
    return _with_accounts(job)


def _reset(args: argparse.Namespace) -> int:
    async def job(accounts: StaffAccounts) -> int:
        _print_enrolment(await accounts.reset(args.username, by=_actor()), "reset")
        return 0
    return _with_accounts(job)


def _disable(args: argparse.Namespace) -> int:
    async def job(accounts: StaffAccounts) -> int:
        await accounts.disable(args.username, by=_actor())
        print(f"disabled {args.username.strip().lower()}")
        return 0
    return _with_accounts(job)


def _list(args: argparse.Namespace) -> int:
    async def job(accounts: StaffAccounts) -> int:
        for line in await accounts.list():
            locked = line.locked_until is not None and line.locked_until > datetime.now(UTC)
            state = "disabled" if line.disabled else "locked" if locked else "active"
            last = line.last_login_at.isoformat(timespec="seconds") if line.last_login_at else "-"
            print(f"{line.username}\t{line.role}\t{state}\tlast login {last}")
        return 0
    return _with_accounts(job)
