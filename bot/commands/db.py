"""`eblagh db upgrade`: bring the schema to the newest revision."""

from __future__ import annotations

import argparse
from typing import Any

from bot.settings import load_settings, resolve_secret_key
from storage.database import upgrade


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database schema")
    actions = parser.add_subparsers(dest="db_action", required=True)
    up = actions.add_parser("upgrade", help="apply every migration not yet applied")
    up.add_argument("--revision", default="head")
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()
    key, _notice = resolve_secret_key(settings)  # a PostgreSQL deployment without SECRET_KEY stops here
    upgrade(settings.resolved_database_url(), args.revision, proof_key=key)  # seals a backfilled proof chain
    print(f"schema is at {args.revision}")
    return 0
