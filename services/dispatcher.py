"""The delivery worker's consumer: take references from the queue, claim the rows, wait for a slot in
the shared budget, send, record the outcome. Notices, broadcast copies and reminders alike.

Order of truth: rows are claimed in the database (queued -> sending, a conditional UPDATE) before
anything is sent, and a queue entry is acknowledged only after its outcome is recorded. So a
duplicate queue entry (a reclaimed entry, a sweeper's re-queue after Redis lost its data) is
harmless, and a crash repeats at most the messages in flight: sent, and not yet recorded.

Claims and "sent" outcomes are written in batches (one UPDATE for a batch of claims, one executemany
for the outcomes of the last `record_interval`), which keeps the database cost a message small.

Outcomes: sent; 429 -> every worker pauses for retry_after (the row goes back to the queue for after
the pause, no attempt spent); 403 -> blocked, the binding marked unreachable; 400 -> failed; transient ->
queued again after backoff with jitter, failed after `RetryPolicy.max_attempts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from services.clock import Clock
from services.composer import MessageComposer
from services.delivery import RetryPolicy, record_refusal, refusal
from services.delivery_ports import QueueItem, RateBudget, WorkQueue
from services.messaging import MessageSender, OutgoingMessage, Permanent, RetryAfter, Transient, Unreachable
from storage import outbox
from storage.database import Database
from storage.models import DeliveryStatus
from storage.outbox import Claimed, Lane, parse_ref

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 8  # messages in flight per worker
    batch: int = 32  # entries taken from the queue (and claimed) at once
    block_ms: int = 500  # how long a pull waits for new entries
    claim_timeout: float = 60.0  # a claim (or queue entry) this old belongs to a dead worker
    reclaim_interval: float = 5.0
    record_interval: float = 0.05  # "sent" outcomes are written together at most this late
    backend_retry: float = 0.5  # first wait when the database or Redis is away (doubles up to 5 s)
    max_lateness: float = 0.02  # a slot missed by more than this is given up, not used late


@dataclass
class WorkerMetrics:
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    rate_limited: int = 0
    deferred: int = 0
    skipped: int = 0  # entries whose row was already taken or done (duplicates stopped by the claim)
    backend_errors: int = 0
    late_slots: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items()}


@dataclass
class _Work:
    item: QueueItem
    claimed: Claimed


class Dispatcher:
    def __init__(self, db: Database, queue: WorkQueue, budget: RateBudget, sender: MessageSender,
                 composer: MessageComposer, clock: Clock, *, consumer: str,
                 retry: RetryPolicy | None = None, config: WorkerConfig | None = None,
                 metrics: WorkerMetrics | None = None, rng: random.Random | None = None) -> None:
        self._db = db
        self._queue = queue
        self._budget = budget
        self._sender = sender
        self._composer = composer
        self._clock = clock
        self._consumer = consumer
        self._retry = retry or RetryPolicy()
        self._config = config or WorkerConfig()
        self.metrics = metrics or WorkerMetrics()
        self._rng = rng or random.Random()
        self._stop = asyncio.Event()
        self._sent: list[tuple[_Work, int, datetime]] = []
        self._held: set[tuple[Lane, int]] = set()  # rows this worker has claimed and not yet recorded

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then finish what was taken (in flight and fetched) and return."""
        self._stop = stop
        local: asyncio.Queue[_Work | None] = asyncio.Queue(maxsize=self._config.concurrency)
        senders = [asyncio.create_task(self._send_loop(local)) for _ in range(self._config.concurrency)]
        recorder_stop = asyncio.Event()
        recorder = asyncio.create_task(self._record_loop(recorder_stop))
        heartbeat = asyncio.create_task(self._heartbeat_loop(recorder_stop))
        try:
            await self._fetch_loop(local, stop)
        finally:
            for _ in senders:
                await local.put(None)
            await asyncio.gather(*senders, return_exceptions=True)
            recorder_stop.set()
            await asyncio.gather(recorder, heartbeat, return_exceptions=True)

    # Taking work ---------------------------------------------------------------------------------

    async def _fetch_loop(self, local: asyncio.Queue[_Work | None], stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        next_reclaim = loop.time() + self._config.reclaim_interval
        wait = self._config.backend_retry
        while not stop.is_set():
            try:
                items: list[QueueItem] = []
                if loop.time() >= next_reclaim:
                    next_reclaim = loop.time() + self._config.reclaim_interval
                    items = await self._queue.reclaim(self._consumer, int(self._config.claim_timeout * 1000),
                                                      self._config.batch)
                    if items:
                        log.info("took over %d entries of a stopped worker", len(items))
                room = max(1, local.maxsize - local.qsize())
                items += await self._queue.pull(self._consumer, min(self._config.batch, room),
                                                self._config.block_ms)
                work = await self._claim(items) if items else []
                wait = self._config.backend_retry
            except Exception as error:  # Redis or the database away: wait and try again; nothing is lost
                self.metrics.backend_errors += 1
                log.warning("queue or database unavailable (%s: %s); retrying in %.0fs", type(error).__name__,
                            str(error)[:160], wait)
                await _sleep_or_stop(stop, wait)
                wait = min(wait * 2, 5.0)
                continue
            if not items:
                # In-process queues return at once; do not spin.
                await _sleep_or_stop(stop, self._config.block_ms / 1000)
                continue
            for one in work:
                await local.put(one)

    async def _claim(self, items: list[QueueItem]) -> list[_Work]:
        """Claim the rows of these entries in one transaction; acknowledge the entries nobody may send."""
        wanted: dict[tuple[Lane, int], QueueItem] = {}
        unusable: list[QueueItem] = []
        for item in items:
            parsed = parse_ref(item.ref)
            if parsed is None or parsed in wanted:
                unusable.append(item)
            else:
                wanted[parsed] = item
        now = self._clock()
        async with self._db.session() as session:
            claimed = [c for lane in Lane
                       for c in await outbox.claim(session, lane, [i for (ln, i) in wanted if ln is lane], now)]
        work = [_Work(wanted.pop((c.lane, c.id)), c) for c in claimed]
        self._held.update((c.lane, c.id) for c in claimed)
        unusable += wanted.values()  # taken by another worker, done, or not due: stopped by the claim
        self.metrics.skipped += len(wanted)
        await self._ack(unusable)
        return work

    # Sending -------------------------------------------------------------------------------------

    async def _send_loop(self, local: asyncio.Queue[_Work | None]) -> None:
        while True:
            work = await local.get()
            if work is None:
                return
            try:
                await self._handle(work)
            except Exception:
                # Left unacknowledged: the entry is reclaimed after claim_timeout, the row released.
                log.exception("delivery of %s failed; it will be taken again", work.item.ref)

    async def _handle(self, work: _Work) -> None:
        with_recorder = False
        try:
            with_recorder = await self._handle_claimed(work)
        finally:
            if not with_recorder:  # otherwise the recorder lets the claim go once "sent" is written
                self._held.discard((work.claimed.lane, work.claimed.id))

    async def _handle_claimed(self, work: _Work) -> bool:
        """Compose and send; True when the row waits in `_sent` for the recorder."""
        claimed = work.claimed
        message = await self._backend(lambda: self._composer.compose(claimed))
        if message is None:
            await self._record(outbox.mark_final, claimed.lane, claimed.id, DeliveryStatus.FAILED,
                               "what it refers to is gone")
            self.metrics.failed += 1
            await self._ack([work.item])
            return False
        if await self._deliver(work, message):
            await self._ack([work.item])
            return False
        return True  # the recorder acknowledges once "sent" is written

    async def _deliver(self, work: _Work, message: OutgoingMessage) -> bool:
        """Send; True when the outcome is already recorded, False when it waits for the recorder."""
        claimed = work.claimed
        if not await self._wait_for_slot(claimed):
            return True
        try:
            sent = await self._sender.send(claimed.chat_id, message)
        except RetryAfter as error:
            # The whole bot must wait. The row goes back to the queue for after the pause, no attempt
            # spent: holding the claim through pauses could outlast claim_timeout.
            self.metrics.rate_limited += 1
            await self._backend(functools.partial(self._budget.pause, error.seconds))
            until = self._clock() + timedelta(seconds=error.seconds)
            await self._record(outbox.mark_retry, claimed.lane, claimed.id, f"429: {error}", until, False)
        except (Unreachable, Permanent, Transient) as error:
            refused = refusal(error, claimed, claimed.ref, self._retry, self._rng, self._clock, log)
            await self._record(record_refusal, claimed, refused, self._clock)
            if refused.status is DeliveryStatus.BLOCKED:
                self.metrics.blocked += 1
            elif refused.status is DeliveryStatus.FAILED:
                self.metrics.failed += 1
            else:
                self.metrics.retried += 1
        else:
            self._sent.append((work, sent.message_id, self._clock()))
            self.metrics.sent += 1
            self.metrics.by_kind[claimed.kind] = self.metrics.by_kind.get(claimed.kind, 0) + 1
            return False
        return True

    async def _wait_for_slot(self, claimed: Claimed) -> bool:
        """Sleep until this message's slot; False when its chat is busy and it was put back for later."""
        again = False
        loop = asyncio.get_running_loop()
        while True:
            # Counted from before the call: a reply read late (a stall) must not shift the slot later.
            asked = loop.time()
            reservation = await self._backend(functools.partial(self._budget.reserve, claimed.chat_id, again=again))
            if reservation.reserved:
                due = asked + reservation.delay
                await asyncio.sleep(max(0.0, due - loop.time()))
                if loop.time() - due <= self._config.max_lateness:
                    return True
                # This process stalled past its slot: sending now would bunch up with the sends of
                # later slots and could overrun the messenger's window. Give the slot up, take another.
                self.metrics.late_slots += 1
                again = True
                continue
            if reservation.chat_busy:
                # Another message to this chat holds the slot: go back to the queue, no attempt spent.
                until = self._clock() + timedelta(seconds=reservation.wait)
                await self._record(outbox.mark_retry, claimed.lane, claimed.id, "chat rate", until, False)
                self.metrics.deferred += 1
                return False
            await asyncio.sleep(min(reservation.wait, 1.0))

    # Recording -----------------------------------------------------------------------------------

    async def _record_loop(self, stop: asyncio.Event) -> None:
        """Write the "sent" outcomes gathered since the last pass, then acknowledge their entries."""
        while True:
            stopping = stop.is_set()
            if self._sent:
                batch, self._sent = self._sent, []
                try:
                    await self._record(outbox.mark_sent, [(w.claimed, mid, at) for w, mid, at in batch])
                except Exception:
                    log.exception("could not record %d sent messages; their rows are released later", len(batch))
                else:
                    await self._ack([w.item for w, _mid, _at in batch])
                self._held.difference_update((w.claimed.lane, w.claimed.id) for w, _mid, _at in batch)
            if stopping and not self._sent:
                return
            await _sleep_or_stop(stop, self._config.record_interval)

    async def _heartbeat_loop(self, stop: asyncio.Event) -> None:
        """Renew this worker's claims while it holds them (waiting for a slot, a pause, the database)."""
        while not stop.is_set():
            await _sleep_or_stop(stop, self._config.claim_timeout / 3)
            held = list(self._held)
            if not held:
                continue
            try:
                async with self._db.session() as session:
                    for lane in Lane:
                        await outbox.touch(session, lane, [i for ln, i in held if ln is lane], self._clock())
            except Exception as error:
                log.warning("could not renew %d claims (%s)", len(held), type(error).__name__)

    async def _record(self, write: Callable[..., Awaitable[object]], *args: object) -> None:
        """Write an outcome, waiting out a database restart: what was sent must be recorded as sent."""

        async def once() -> None:
            async with self._db.session() as session:
                await write(session, *args)

        await self._backend(once, give_up=False)

    async def _backend(self, call: Callable[[], Awaitable[T]], give_up: bool = True) -> T:
        """Retry a call to the database or Redis with backoff while it is away.

        Before a send (`give_up`), stop trying once the worker is stopping: the row or entry is
        released after claim_timeout. After a send, keep trying (up to claim_timeout) so the outcome
        is not lost.
        """
        wait = self._config.backend_retry
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.claim_timeout
        while True:
            try:
                return await call()
            except (RetryAfter, Unreachable, Permanent, Transient):
                raise
            except Exception as error:
                self.metrics.backend_errors += 1
                if (give_up and self._stop.is_set()) or loop.time() + wait > deadline:
                    raise
                log.warning("backend unavailable (%s: %s); retrying in %.0fs", type(error).__name__,
                            str(error)[:120], wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, 5.0)

    async def _ack(self, items: list[QueueItem]) -> None:
        if not items:
            return
        try:
            await self._queue.done(items)
        except Exception as error:  # the entries come back, their rows are no longer queued: skipped then
            log.warning("could not acknowledge %d entries (%s)", len(items), type(error).__name__)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.001))
