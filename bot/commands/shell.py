"""`eblagh shell [--demo]`: the terminal chat on the configured (or a fresh demo) database."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from typing import Any

from bot.app import build_app, load_intent_model
from bot.demo_seed import DEMO_BANNER, seed_demo
from bot.runtime import Runtime, open_runtime
from bot.settings import load_settings
from bot.shell import run_shell
from nlp import IntentModel

DEMO_STAFF_CHAT = 1000


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("shell", help="chat with eblagh in the terminal")
    parser.add_argument("--demo", action="store_true",
                        help="start from a fresh demo database with a demo citizen, case and rulings")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    model_cache = settings.data_dir / "cache"
    if args.demo and settings.database_url is None:
        # A fresh demo every time: the journey starts from an unbound chat and unopened rulings.
        demo_dir = settings.data_dir / "demo"
        shutil.rmtree(demo_dir, ignore_errors=True)
        settings = settings.model_copy(update={"data_dir": demo_dir})
    if args.demo and settings.staff_chat_id is None:
        # Questions for a human show up in the terminal as messages to this staff chat.
        settings = settings.model_copy(update={"staff_chat_id": DEMO_STAFF_CHAT})
    runtime = open_runtime(settings)
    model = load_intent_model(settings, model_cache)
    return asyncio.run(_session(runtime, model, args.demo))


async def _session(runtime: Runtime, model: IntentModel, demo: bool) -> int:
    app = build_app(runtime, model=model)
    try:
        if demo:
            await seed_demo(runtime.database, runtime.hasher)
            print(DEMO_BANNER)
            sys.stdout.flush()
        return await run_shell(app)
    finally:
        await runtime.database.close()
