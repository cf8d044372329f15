"""The outbox lane for `eblagh run`: broadcast copies, reminders and dashboard staff replies sent by the
process that holds the messenger, when no `eblagh worker` does (RunOptions.deliver_notices).

One pass claims up to `limit` due rows of this platform, composes each (services/composer.py) and
records its outcome with the same rules as notices (services/delivery.py). LEAD: the delivery engine's
rewrite (one table for every outgoing message) replaces this pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

from services.clock import Clock
from services.composer import MessageComposer
from services.delivery import DeliveryStats, RetryPolicy, record_refusal, refusal
from services.messaging import MessageSender, Permanent, RetryAfter, Transient, Unreachable
from storage import outbox
from storage.database import Database
from storage.models import DeliveryStatus
from storage.outbox import Lane

log = logging.getLogger(__name__)


class OutboxDelivery:
    def __init__(self, db: Database, composer: MessageComposer, clock: Clock, retry: RetryPolicy | None = None,
                 rng: random.Random | None = None) -> None:
        self._db = db
        self._composer = composer
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()

    async def deliver(self, sender: MessageSender, limit: int = 100) -> DeliveryStats:
        stats = DeliveryStats()
        now = self._clock()
        async with self._db.session() as session:
            await outbox.release_stale(session, Lane.OUTBOX, now - self._retry.stale_claim)
            due = await outbox.due_ids(session, Lane.OUTBOX, sender.platform, now, limit=limit)
            claimed = sorted(await outbox.claim(session, Lane.OUTBOX, due, now), key=lambda c: c.id)
        for index, row in enumerate(claimed):
            message = await self._composer.compose(row)
            if message is None:
                async with self._db.session() as session:
                    await outbox.mark_final(session, Lane.OUTBOX, row.id, DeliveryStatus.FAILED, "what it refers to is gone")
                stats.failed += 1
                continue
            try:
                sent = await sender.send(row.chat_id, message)
            except RetryAfter as error:
                stats.paused_for = error.seconds
                until = self._clock() + timedelta(seconds=error.seconds)
                async with self._db.session() as session:
                    for pending in claimed[index:]:
                        await outbox.mark_retry(session, Lane.OUTBOX, pending.id, str(error), until, count_attempt=False)
                stats.retried += len(claimed) - index
                break
            except (Unreachable, Permanent, Transient) as error:
                refused = refusal(error, row, f"outbox {row.id}", self._retry, self._rng, self._clock, log)
                async with self._db.session() as session:
                    await record_refusal(session, row, refused, self._clock)
                if refused.status is DeliveryStatus.BLOCKED:
                    stats.blocked += 1
                elif refused.status is DeliveryStatus.FAILED:
                    stats.failed += 1
                else:
                    stats.retried += 1
            else:
                async with self._db.session() as session:
                    await outbox.mark_sent(session, [(row, sent.message_id, self._clock())])
                stats.sent += 1
        return stats

    async def run_forever(self, sender: MessageSender, interval: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            pause = interval
            try:
                stats = await self.deliver(sender)
                pause = max(stats.paused_for, 0.0 if stats.attempted else interval)
            except Exception:
                log.exception("outbox pass failed; retrying")
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause or 0.01)
            except TimeoutError:
                pass
