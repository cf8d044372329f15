"""`python -m tests.botapi [--port N] [--global-rate R] [--chat-rate R] [--retry-after S]
[--fault-ratio F] [--platform bale] [--bale-rate-limit 429|bot limit exceed|local_rate_limited]`: serve the fake Bot API for benchmarks in other processes.

Prints one JSON line `{"base_url": ..., "token": ...}`, then serves until interrupted; drive it
with `tests.botapi.control.ControlClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from tests.botapi.bale import BaleOptions, RateLimitForm
from tests.botapi.limits import Faults, Limits
from tests.botapi.server import DEFAULT_TOKEN, FakeBotAPI


async def _serve(args: Any) -> None:
    limits = Limits(global_per_second=args.global_rate, chat_per_second=args.chat_rate, retry_after=args.retry_after)
    async with FakeBotAPI(port=args.port, token=args.token, limits=limits,
                          faults=Faults(ratio=args.fault_ratio, seed=args.seed), platform=args.platform,
                          bale_options=BaleOptions(rate_limit=RateLimitForm(args.bale_rate_limit))) as api:
        print(json.dumps({"base_url": api.base_url, "token": api.token}), flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="fake Bot API on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--global-rate", type=float, default=None, help="messages a second over all chats")
    parser.add_argument("--chat-rate", type=float, default=None, help="messages a second per chat")
    parser.add_argument("--retry-after", type=int, default=1, help="seconds of a 429 penalty")
    parser.add_argument("--fault-ratio", type=float, default=0.0, help="fraction of sendMessage answered 502")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--platform", choices=["telegram", "bale"], default="telegram",
                        help="bale: behave like Bale's Bot API (tests/botapi/bale.py)")
    parser.add_argument("--bale-rate-limit", choices=[f.value for f in RateLimitForm], default="429",
                        help="on Bale, how a send over the limits is refused")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))
