"""Long polling with the project's own getUpdates loop (the library's Bot makes the call).

Why not aiogram's Dispatcher.start_polling or ptb's Application.run_polling: each confirms an
update's offset as soon as it is fetched and handles it in its own way, so a restart could lose
what was in hand, and the two would differ in ordering and dedupe. Here the offset moves past a
batch only once it is safe: after the batch is handled, or at once when the chat queues are durable
(Redis), since a queued update then survives a restart anyway. Already-handled updates that come
back after a crash are skipped by the ledger in the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.messengers.updates import BotApiClient
from bot.pipeline import UpdatePipeline
from services.clock import sleep_or_stop
from services.messaging import Permanent, RetryAfter, SendError, Transient

log = logging.getLogger(__name__)

FIRST_BACKOFF = 0.5  # seconds before retrying a failed getUpdates; doubles up to MAX_BACKOFF
MAX_BACKOFF = 30.0
EMPTY_POLL_FLOOR = 0.5  # seconds an empty long poll should at least have taken


class PollingFailed(RuntimeError):
    """The Bot API refuses this bot for good (bad token, wrong base URL)."""


async def poll(client: BotApiClient, pipeline: UpdatePipeline, stop: asyncio.Event, *, long_poll: int,
               wait_for_batch: bool = True) -> None:
    """Fetch and hand over updates until `stop` is set; then confirm what was handled."""
    try:
        await client.delete_webhook()  # getUpdates answers 409 while a webhook is set
    except Permanent as error:  # 401: a wrong token or base URL
        raise PollingFailed(error.detail) from error
    except Transient as error:  # getUpdates will tell whether the server is back
        log.warning("deleteWebhook failed: %s", error.detail)
    loop = asyncio.get_running_loop()
    offset: int | None = None
    confirmed = True
    backoff = FIRST_BACKOFF
    while not stop.is_set():
        try:
            # Not cancelled on stop: a long poll abandoned mid-way is ended by the next getUpdates
            # with a 409, so a stop waits for it (at most `long_poll` seconds).
            asked_at = loop.time()
            updates = await client.get_updates(offset, long_poll)
        except RetryAfter as error:
            await _sleep(stop, error.seconds)
            continue
        except (Transient, Permanent) as error:
            if isinstance(error, Permanent) and "conflict" not in error.detail.lower():
                raise PollingFailed(error.detail) from error
            # 409: another poller or a webhook; network trouble, 5xx: try again, more slowly.
            log.warning("getUpdates failed (%s: %s); retrying in %.1fs", type(error).__name__, error.detail, backoff)
            await _sleep(stop, backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
            continue
        confirmed = True  # the call carried the offset, which confirms everything before it
        if not updates and long_poll and loop.time() - asked_at < EMPTY_POLL_FLOOR:
            # A server that ignores the long-poll timeout would have us spin; pause instead.
            await _sleep(stop, EMPTY_POLL_FLOOR)
        if stop.is_set():
            break  # stopped while waiting: this batch is not taken, nor confirmed; it comes back
        backoff = FIRST_BACKOFF
        await pipeline.accept_batch(updates)
        if updates:
            offset = int(updates[-1]["update_id"]) + 1
            confirmed = False
        if wait_for_batch:
            await pipeline.settle()
    await pipeline.settle()
    if offset is not None and not confirmed:
        # Confirm the last batch; a short request, and what it returns stays unconfirmed.
        with contextlib.suppress(SendError):
            await client.get_updates(offset, 0)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    await sleep_or_stop(stop, seconds)
