"""`eblagh run`: serve the bot on Telegram or Bale (long polling, or a webhook when WEBHOOK_URL is set).

It also runs the whole delivery engine in this process (notices, broadcasts, reminders, deemed service,
handoffs), at the pace `eblagh worker` keeps, unless `--no-deliver` leaves it to workers.
SIGTERM or SIGINT stops it cleanly: updates in hand and the messages in flight finish, exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

from bot.app import load_intent_model
from bot.engine import EngineOptions
from bot.messengers import MissingBotToken, describe
from bot.metrics_server import MetricsListenError, metrics_listen
from bot.runner import RunOptions, run_bot, serving_mode
from bot.runtime import Runtime, open_runtime
from bot.settings import load_settings
from nlp import IntentModel


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("run", help="serve the bot on Telegram or Bale (polling or webhook)")
    defaults = RunOptions()
    parser.add_argument("--poll-timeout", type=int, default=defaults.poll_timeout,
                        help="seconds a getUpdates long poll waits (default %(default)s)")
    parser.add_argument("--delivery-interval", type=float, default=defaults.engine.sweep_interval,
                        help="seconds between the delivery sweeper's passes (default %(default)s)")
    parser.add_argument("--no-deliver", action="store_true",
                        help="send nothing but replies: leave notices, broadcasts, reminders, deemed service and "
                             "handoffs to `eblagh worker`s (with REDIS_URL)")
    parser.add_argument("--metrics-listen", type=metrics_listen, metavar="HOST:PORT",
                        help="serve GET /metrics (Prometheus) there, e.g. 127.0.0.1:9100 (default: off)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.bot_token:
        print("BOT_TOKEN must be set (from @BotFather on Telegram, @botfather on Bale)", file=sys.stderr)
        return 2
    runtime = open_runtime(settings)
    model = load_intent_model(settings)
    print(f"eblagh run: {describe(settings)}, {serving_mode(settings)}; SIGTERM or Ctrl-C stops", file=sys.stderr)
    options = RunOptions(poll_timeout=max(args.poll_timeout, 0), deliver=not args.no_deliver,
                         engine=EngineOptions(sweep_interval=max(args.delivery_interval, 0.05)),
                         metrics_listen=args.metrics_listen)
    return asyncio.run(_serve(runtime, model, options))


async def _serve(runtime: Runtime, model: IntentModel, options: RunOptions) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        return await run_bot(runtime, stop=stop, model=model, options=options)
    except MissingBotToken as error:
        print(error, file=sys.stderr)
        return 2
    except MetricsListenError as error:
        print(f"eblagh run: {error}", file=sys.stderr)
        return 2
    finally:
        await runtime.database.close()


