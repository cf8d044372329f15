"""Delivering notices to bound chats: claim from the database, send, record the outcome.

This is the engine every eblagh process runs on the embedded default (the shell, `eblagh run`);
the database row is the truth, so a crash can repeat at most the messages in flight.
Error kinds come from the messenger port: retry-after pauses the sender, unreachable marks the
binding, permanent fails the row, transient retries with backoff up to a limit.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.clock import Clock
from services.messaging import MessageSender, OutgoingMessage, Permanent, RetryAfter, Transient, Unreachable
from services.notices import NoticeService, NoticeView
from storage import citizens, deliveries, outbox
from storage.database import Database
from storage.models import DeliveryStatus
from storage.outbox import Claimed, Lane

log = logging.getLogger(__name__)

NoticeRenderer = Callable[[NoticeView], OutgoingMessage]


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 300.0
    stale_claim: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter, so many failed sends do not return in lockstep."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        return rng.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Refusal:
    """What a refused send (other than retry-after) does to its row: blocked or failed for good, or
    queued again (`retry_at`)."""

    status: DeliveryStatus  # BLOCKED, FAILED, or QUEUED with retry_at
    error: str
    retry_at: datetime | None = None


def refusal(error: Unreachable | Permanent | Transient, claimed: Claimed, what: str, policy: RetryPolicy,
            rng: random.Random, clock: Clock, logger: logging.Logger) -> Refusal:
    """The outcome of this send error for both delivery engines; `what` names the row in `logger`'s warnings.

    Unreachable blocks the row; permanent fails it; transient queues it again after backoff, and fails
    it once it has had `policy.max_attempts`.
    """
    if isinstance(error, Unreachable):
        return Refusal(DeliveryStatus.BLOCKED, str(error))
    if isinstance(error, Permanent):
        logger.warning("%s refused: %s", what, error)
        return Refusal(DeliveryStatus.FAILED, f"permanent: {error}")
    attempts = claimed.attempts + 1
    if attempts >= policy.max_attempts:
        logger.warning("%s gave up after %d attempts: %s", what, attempts, error)
        return Refusal(DeliveryStatus.FAILED, f"transient, gave up: {error}")
    return Refusal(DeliveryStatus.QUEUED, str(error), clock() + timedelta(seconds=policy.delay(attempts, rng)))


async def record_refusal(session: AsyncSession, claimed: Claimed, refused: Refusal, clock: Clock) -> None:
    """Write a refusal; a blocked row also marks its chat unreachable (as of now)."""
    if refused.retry_at is not None:
        await outbox.mark_retry(session, claimed.lane, claimed.id, refused.error, refused.retry_at)
        return
    await outbox.mark_final(session, claimed.lane, claimed.id, refused.status, refused.error)
    if refused.status is DeliveryStatus.BLOCKED:
        await citizens.mark_unreachable(session, claimed.platform, claimed.chat_id, clock())


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    paused_for: float = 0.0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed + self.blocked


class NoticeDelivery:
    def __init__(self, db: Database, notices: NoticeService, render: NoticeRenderer, clock: Clock,
                 retry: RetryPolicy | None = None, rng: random.Random | None = None) -> None:
        self._db = db
        self._notices = notices
        self._render = render
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._rng = rng or random.Random()

    async def enqueue_due(self) -> int:
        """Queue what became due (new rulings, new bindings) since the last pass."""
        async with self._db.session() as session:
            return await deliveries.enqueue_due(session, self._clock())

    async def deliver(self, sender: MessageSender, limit: int = 100) -> DeliveryStats:
        """One pass: send up to `limit` due deliveries for this sender's platform."""
        stats = DeliveryStats()
        now = self._clock()
        async with self._db.session() as session:
            await outbox.release_stale(session, Lane.NOTICE, now - self._retry.stale_claim)
            due = await outbox.due_ids(session, Lane.NOTICE, sender.platform, now, limit=limit)
            claimed = sorted(await outbox.claim(session, Lane.NOTICE, due, now), key=lambda c: c.id)
        for index, delivery in enumerate(claimed):
            view = await self._notices.card(delivery.ref_id)
            if view is None:
                await self._finish(delivery.id, DeliveryStatus.FAILED, "notice vanished")
                stats.failed += 1
                continue
            try:
                sent = await sender.send(delivery.chat_id, self._render(view))
            except RetryAfter as error:
                # The whole bot must wait: put this and every later claim back, untouched.
                stats.paused_for = error.seconds
                until = self._clock() + timedelta(seconds=error.seconds)
                for pending in claimed[index:]:
                    await self._put_back(pending.id, str(error), until)
                stats.retried += len(claimed) - index
                break
            except (Unreachable, Permanent, Transient) as error:
                refused = refusal(error, delivery, f"delivery {delivery.id}", self._retry, self._rng, self._clock,
                                  log)
                async with self._db.session() as session:
                    await record_refusal(session, delivery, refused, self._clock)
                if refused.status is DeliveryStatus.BLOCKED:
                    stats.blocked += 1
                elif refused.status is DeliveryStatus.FAILED:
                    stats.failed += 1
                else:
                    stats.retried += 1
            else:
                async with self._db.session() as session:
                    await deliveries.mark_sent(session, delivery.id, delivery.ref_id, sent.message_id,
                                               self._clock())
                stats.sent += 1
        return stats

    async def run_once(self, sender: MessageSender, limit: int = 100) -> DeliveryStats:
        await self.enqueue_due()
        return await self.deliver(sender, limit)

    async def run_forever(self, sender: MessageSender, interval: float = 1.0,
                          stop: asyncio.Event | None = None) -> None:
        """Poll for due deliveries until `stop` is set; a pass never dies on one error."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            pause = interval
            try:
                stats = await self.run_once(sender)
                pause = max(stats.paused_for, 0.0 if stats.attempted else interval)
            except Exception:
                log.exception("delivery pass failed; retrying")
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause or 0.01)
            except TimeoutError:
                pass

    async def _put_back(self, delivery_id: int, error: str, when: datetime) -> None:
        """Queued again for `when`, no attempt spent."""
        async with self._db.session() as session:
            await outbox.mark_retry(session, Lane.NOTICE, delivery_id, error, when, count_attempt=False)

    async def _finish(self, delivery_id: int, status: DeliveryStatus, error: str) -> None:
        async with self._db.session() as session:
            await outbox.mark_final(session, Lane.NOTICE, delivery_id, status, error)

    async def chat_wrote_again(self, platform: str, chat_id: int) -> None:
        """A blocked chat that writes again is reachable: resume what was held back."""
        async with self._db.session() as session:
            if await citizens.mark_reachable(session, platform, chat_id):
                await deliveries.requeue_blocked_for_chat(session, platform, chat_id)
