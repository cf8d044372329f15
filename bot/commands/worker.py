"""`eblagh worker`: run the delivery engine (notices, broadcasts, reminders, deemed service, handoffs) until SIGTERM.

Run as many as you like, on as many machines, with one REDIS_URL and one DATABASE_URL: they share
one rate budget (DELIVERY_RATE over all chats, DELIVERY_CHAT_RATE per chat), one queue, and the
timed duties (each done once). Without REDIS_URL the same engine runs in this process alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bot.log_privacy import private_logs
from bot.messengers import MissingBotToken, build_messenger, describe
from bot.metrics_server import MetricsListenError, metrics_listen
from bot.runtime import open_runtime
from bot.settings import MissingSecretKey, load_settings
from bot.worker import WorkerOptions, install_signal_handlers, run_worker


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("worker", help="deliver notices, broadcasts and reminders",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = WorkerOptions()
    parser.add_argument("--name", default="", help="consumer name (default host:pid)")
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency, help="messages in flight")
    parser.add_argument("--pace", type=float, default=defaults.pace,
                        help="share of DELIVERY_RATE to schedule (room for network jitter)")
    parser.add_argument("--claim-timeout", type=float, default=defaults.claim_timeout,
                        help="seconds after which a queue entry nobody finished is taken over (a fallback)")
    parser.add_argument("--heartbeat-ttl", type=float, default=defaults.heartbeat_ttl,
                        help="seconds of silence after which a worker counts as stopped and its messages move on")
    parser.add_argument("--sweep-interval", type=float, default=defaults.sweep_interval)
    parser.add_argument("--duty-interval", type=float, default=defaults.duty_interval)
    parser.add_argument("--metrics-file", type=Path, help="write this worker's counts as JSON on exit")
    parser.add_argument("--metrics-listen", type=metrics_listen, metavar="HOST:PORT",
                        help="serve GET /metrics (Prometheus) there, e.g. 127.0.0.1:9101 (default: off)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for name in ("bot.worker", "bot.engine", "services.delivery.engine", "services.delivery.sweeper"):
        logging.getLogger(name).setLevel(logging.INFO)
    settings = load_settings()
    try:
        runtime = open_runtime(settings)
        sender = build_messenger(settings)
    except (MissingBotToken, MissingSecretKey) as error:
        print(f"eblagh worker: {error}", file=sys.stderr)
        return 2
    options = WorkerOptions(name=args.name, concurrency=args.concurrency, pace=args.pace,
                            claim_timeout=args.claim_timeout, heartbeat_ttl=args.heartbeat_ttl,
                            sweep_interval=args.sweep_interval,
                            duty_interval=args.duty_interval)
    print(f"eblagh worker: {describe(settings)}", file=sys.stderr)

    async def main() -> dict[str, object]:
        stop = asyncio.Event()
        install_signal_handlers(stop)
        try:
            metrics = await run_worker(runtime, sender, stop, options=options, metrics_listen=args.metrics_listen)
        finally:
            await sender.close()
            await runtime.database.close()
        return metrics.as_dict()

    with private_logs(settings):
        try:
            counts = asyncio.run(main())
        except MetricsListenError as error:
            print(f"eblagh worker: {error}", file=sys.stderr)
            return 2
    if args.metrics_file:
        args.metrics_file.write_text(json.dumps(counts))
    return 0
