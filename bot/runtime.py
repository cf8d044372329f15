"""Composition helpers shared by the CLI commands: settings -> database, hasher, policies.

The embedded default (SQLite) upgrades its schema by itself on start; PostgreSQL deployments run
`eblagh db upgrade` as a release step.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bot.data_dir import secure_data_dir
from bot.settings import Settings, load_settings, resolve_secret_key
from services.privacy import Hasher
from storage.database import Database, upgrade


@dataclass
class Runtime:
    settings: Settings
    database: Database
    hasher: Hasher


def open_runtime(settings: Settings | None = None, *, announce: bool = True) -> Runtime:
    """Open the database (upgrading an embedded one) and the hasher. Call before the event loop."""
    settings = settings or load_settings()
    if settings.database_url is None or not settings.secret_key:
        secure_data_dir(settings.data_dir)  # it holds the database or the key
    key, created_notice = resolve_secret_key(settings)
    if created_notice and announce:
        print(created_notice, file=sys.stderr)
    url = settings.resolved_database_url()
    if settings.embedded:
        upgrade(url, proof_key=key)
    return Runtime(settings=settings, database=Database(url, proof_key=key), hasher=Hasher(key))
