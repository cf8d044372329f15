"""`eblagh apikey create NAME --role ingest|read|broadcast [--test]`, `eblagh apikey list`,
`eblagh apikey revoke NAME`: keys of the integration API (the key is printed once; only a hash is kept)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from typing import Any

from bot.runtime import open_runtime
from services.api_keys import ApiKeyService, ApiRole, KeyProblem
from services.clock import system_clock


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("apikey", help="keys of the integration API (create, list, revoke)",
                                   description=__doc__)
    commands = parser.add_subparsers(dest="apikey_command", required=True)
    create = commands.add_parser("create", help="make a key; it is printed once")
    create.add_argument("name")
    create.add_argument("--role", required=True, choices=[r.value for r in ApiRole])
    create.add_argument("--test", action="store_true", help="its rulings are stored but never sent (status test)")
    create.set_defaults(func=_create)
    listing = commands.add_parser("list", help="the keys, their roles and last use")
    listing.set_defaults(func=_list)
    revoke = commands.add_parser("revoke", help="stop a key from working")
    revoke.add_argument("name")
    revoke.set_defaults(func=_revoke)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _run(job: Any) -> int:
    runtime = open_runtime()

    async def main() -> int:
        try:
            return int(await job(ApiKeyService(runtime.database, system_clock)))
        finally:
            await runtime.database.close()

    return asyncio.run(main())


def _create(args: argparse.Namespace) -> int:
    async def job(keys: ApiKeyService) -> int:
        try:
            text, info = await keys.create(args.name, ApiRole(args.role), test=args.test, actor=_actor())
        except KeyProblem as error:
            print(f"eblagh apikey: {error}", file=sys.stderr)
            return 1
        print(text)
        print(f"key {info.name!r} ({info.role.value}{', test' if info.test else ''}) created; it is shown only now",
              file=sys.stderr)
        return 0

    return _run(job)


def _list(args: argparse.Namespace) -> int:
    async def job(keys: ApiKeyService) -> int:
        for key in await keys.list():
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never"
            print(f"{key.name}\t{key.role.value}{' test' if key.test else ''}\t{key.prefix}…\t{state}\tlast used {used}")
        return 0

    return _run(job)


def _revoke(args: argparse.Namespace) -> int:
    async def job(keys: ApiKeyService) -> int:
        if not await keys.revoke(args.name, actor=_actor()):
            print(f"eblagh apikey: no active key named {args.name!r}", file=sys.stderr)
            return 1
        print(f"key {args.name!r} revoked", file=sys.stderr)
        return 0

    return _run(job)
