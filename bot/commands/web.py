"""`eblagh web [--demo]`: the HTTP side (integration API, staff dashboard, health) on WEB_LISTEN.

Served by uvicorn in this process; SIGTERM (or Ctrl-C) finishes the requests in hand and exits 0.
`--demo` serves a fresh demo database (like `eblagh shell --demo`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

from bot.demo_activity import seed_activity
from bot.demo_seed import seed_demo
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings, load_settings
from bot.web_app import build_web_app
from services.clock import system_clock


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("web", help="serve the integration API and the staff dashboard")
    parser.add_argument("--demo", action="store_true", help="serve a fresh demo database with demo data")
    parser.add_argument("--listen", default=None, help="host:port (default: WEB_LISTEN, 127.0.0.1:8000)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.demo and settings.database_url is None:
        demo_dir = settings.data_dir / "web-demo"
        shutil.rmtree(demo_dir, ignore_errors=True)
        settings = settings.model_copy(update={"data_dir": demo_dir})
    host, port = _listen(args.listen or settings.web_listen)
    runtime = open_runtime(settings)
    return asyncio.run(_serve(runtime, settings, host, port, demo=args.demo))


class _Server(uvicorn.Server):
    """uvicorn's server, except that a SIGTERM or SIGINT it handled is not raised again afterwards
    (uvicorn does, to die of it): a stop that was asked for and went cleanly is exit status 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


async def _serve(runtime: Runtime, settings: Settings, host: str, port: int, *, demo: bool) -> int:
    try:
        if demo:
            await seed_demo(runtime.database, runtime.hasher)
            activity = await seed_activity(runtime.database, runtime.hasher, system_clock)
            print(f"eblagh web --demo: a month of activity for {activity.citizens} invented citizens", file=sys.stderr)
            print(f"dashboard: http://{host}:{port}/staff/  username {activity.admin.username}  "
                  f"password {activity.admin.password}  TOTP secret {activity.admin.totp_secret}", file=sys.stderr)
        app = build_web_app(runtime)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                lifespan="on", server_header=False)
        server = _Server(config)
        print(f"eblagh web: serving on http://{host}:{port}/", file=sys.stderr)
        await server.serve()  # on SIGTERM or SIGINT: finish the requests in hand, then return
        return 0
    finally:
        await runtime.database.close()
