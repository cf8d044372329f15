"""A lane's consumer: take references from the lane's queue, claim the rows, wait for a slot in the
lane's budget, send, record the outcome. Every kind of message alike.

Order of truth: rows are claimed in the database (queued -> sending by this worker, a conditional
UPDATE) before anything is sent, and a queue entry is acknowledged only after its outcome is recorded.
So a duplicate queue entry (a reclaimed entry, a sweeper's re-queue after Redis lost its data) is
harmless, and a crash repeats at most the messages in flight: sent, and not yet recorded. The claims
live as long as this worker's heartbeat (services/delivery/engine.py); when it stops, the others release them.

Claims and "sent" outcomes are written in batches (one UPDATE for a batch of claims, one executemany
for the outcomes of the last `record_interval`), which keeps the database cost a message small.

Outcomes: sent; 429 -> every worker pauses for retry_after (the row goes back to the queue for after
the pause, no attempt spent); 403 -> blocked, the binding marked unreachable; 400 -> failed; transient ->
queued again after backoff with jitter, failed after `RetryPolicy.max_attempts`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from services.clock import Clock, sleep_or_stop
from services.delivery.lanes import Lane, record_refusal, record_sent, refusal
from services.delivery.ports import QueueItem
from services.messaging import Permanent, RetryAfter, SentMessage, Transient, Unreachable
from storage import messages
from storage.database import Database
from storage.messages import Claimed, parse_ref
from storage.models import DeliveryStatus

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class LaneMetrics:
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

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed + self.blocked


@dataclass
class _Work:
    item: QueueItem
    claimed: Claimed


class LaneConsumer:
    def __init__(self, db: Database, lane: Lane, clock: Clock, *, consumer: str,
                 metrics: LaneMetrics | None = None, rng: random.Random | None = None) -> None:
        self._db = db
        self._lane = lane
        self._queue = lane.queue
        self._budget = lane.budget
        self._config = lane.config
        self._clock = clock
        self._consumer = consumer
        self.metrics = metrics or LaneMetrics()
        self._rng = rng or random.Random()
        self._stop = asyncio.Event()
        self._sent: list[tuple[_Work, SentMessage, datetime]] = []
        self._sent_ready = asyncio.Event()

    @property
    def lane(self) -> Lane:
        return self._lane

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set, then finish what was taken (in flight and fetched) and return."""
        self._stop = stop
        local: asyncio.Queue[_Work | None] = asyncio.Queue(maxsize=self._config.concurrency)
        senders = [asyncio.create_task(self._send_loop(local)) for _ in range(self._config.concurrency)]
        recorder_stop = asyncio.Event()
        recorder = asyncio.create_task(self._record_loop(recorder_stop))
        try:
            await self._fetch_loop(local, stop)
        finally:
            for _ in senders:
                await local.put(None)
            await asyncio.gather(*senders, return_exceptions=True)
            recorder_stop.set()
            await asyncio.gather(recorder, return_exceptions=True)

    async def drain(self, rounds: int = 1000) -> None:
        """Send what the queue holds now, one at a time, and return when it is empty (the terminal chat)."""
        for _ in range(rounds):
            items = await self._queue.pull(self._consumer, self._config.batch, 0)
            if not items:
                return
            for work in await self._claim(items):
                await self._handle(work)
            await self._flush_sent()

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
                        log.info("took over %d idle entries", len(items))
                room = max(1, local.maxsize - local.qsize())
                items += await self._queue.pull(self._consumer, min(self._config.batch, room),
                                                self._config.block_ms)
                work = await self._claim(items) if items else []
                wait = self._config.backend_retry
            except Exception as error:  # Redis or the database away: wait and try again; nothing is lost
                self.metrics.backend_errors += 1
                log.warning("queue or database unavailable (%s: %s); retrying in %.0fs", type(error).__name__,
                            str(error)[:160], wait)
                await sleep_or_stop(stop, wait)
                wait = min(wait * 2, 5.0)
                continue
            for one in work:
                await local.put(one)

    async def _claim(self, items: list[QueueItem]) -> list[_Work]:
        """Claim the rows of these entries in one transaction; acknowledge the entries nobody may send."""
        wanted: dict[int, QueueItem] = {}
        unusable: list[QueueItem] = []
        for item in items:
            row_id = parse_ref(item.ref)
            if row_id is None or row_id in wanted:
                unusable.append(item)
            else:
                wanted[row_id] = item
        async with self._db.session() as session:
            claimed = await messages.claim(session, list(wanted), self._clock(), self._consumer)
        work = [_Work(wanted.pop(c.id), c) for c in claimed]
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
                # Left unacknowledged: its row is released once this worker stops (or after claim_timeout).
                log.exception("delivery of %s failed; it will be taken again", work.item.ref)

    async def _handle(self, work: _Work) -> None:
        """Compose and send; acknowledge at once unless "sent" waits for the recorder."""
        claimed = work.claimed
        payload = await self._backend(lambda: self._lane.composer.compose(claimed))
        if payload is None:
            await self._record(messages.mark_final, claimed.id, DeliveryStatus.FAILED, "what it refers to is gone")
            self.metrics.failed += 1
            await self._ack([work.item])
            return
        if await self._deliver(work, payload):
            await self._ack([work.item])

    async def _deliver(self, work: _Work, payload: object) -> bool:
        """Send; True when the outcome is already recorded, False when it waits for the recorder."""
        claimed = work.claimed
        if not await self._wait_for_slot(claimed):
            return True
        try:
            sent = await self._lane.sender.send(claimed, payload)
        except RetryAfter as error:
            # The whole lane must wait. The row goes back to the queue for after the pause, no attempt
            # spent: holding the claim through long pauses would only hold up the others.
            self.metrics.rate_limited += 1
            await self._backend(functools.partial(self._budget.pause, error.seconds))
            until = self._clock() + timedelta(seconds=error.seconds)
            await self._record(messages.mark_retry, claimed.id, f"429: {error}", until, False)
        except (Unreachable, Permanent, Transient) as error:
            refused = refusal(error, claimed, self._lane.retry, self._rng, self._clock)
            await self._record(record_refusal, self._lane, claimed, refused, self._clock)
            if refused.status is DeliveryStatus.BLOCKED:
                self.metrics.blocked += 1
            elif refused.status is DeliveryStatus.FAILED:
                self.metrics.failed += 1
            else:
                self.metrics.retried += 1
        else:
            self._sent.append((work, sent, self._clock()))
            self._sent_ready.set()
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
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                if loop.time() - due <= self._config.max_lateness:
                    return True
                # This process stalled past its slot: sending now would bunch up with the sends of
                # later slots and could overrun the messenger's window. Give the slot up, take another.
                self.metrics.late_slots += 1
                again = True
                continue
            if reservation.chat_busy and reservation.wait <= self._config.chat_wait:
                # This chat's next slot is near: wait for it here (the claim is held by the heartbeat).
                await asyncio.sleep(reservation.wait)
                continue
            if reservation.chat_busy:
                # Another message to this chat holds the slot for long: back to the queue, no attempt spent.
                until = self._clock() + timedelta(seconds=reservation.wait)
                await self._record(messages.mark_retry, claimed.id, "chat rate", until, False)
                self.metrics.deferred += 1
                return False
            await asyncio.sleep(min(reservation.wait, 1.0))

    # Recording -----------------------------------------------------------------------------------

    async def _record_loop(self, stop: asyncio.Event) -> None:
        """Write the "sent" outcomes gathered since the last pass, then acknowledge their entries."""
        while True:
            stopping = stop.is_set()
            if self._sent:
                await self._flush_sent()
                await asyncio.sleep(self._config.record_interval)  # let the next outcomes gather
                continue
            if stopping:
                return
            # Idle: sleep until a send succeeds or the stop comes, not on a timer.
            await sleep_or_stop(stop, 3600, self._sent_ready)

    async def _flush_sent(self) -> None:
        if not self._sent:
            return
        batch, self._sent = self._sent, []
        try:
            await self._record(record_sent, self._lane, [(w.claimed, sent, at) for w, sent, at in batch])
        except Exception:
            log.exception("could not record %d sent messages; their rows are released later", len(batch))
        else:
            await self._ack([w.item for w, _sent, _at in batch])

    async def _record(self, write: Callable[..., Awaitable[object]], *args: object) -> None:
        """Write an outcome, waiting out a database restart: what was sent must be recorded as sent."""

        async def once() -> None:
            async with self._db.session() as session:
                await write(session, *args)

        await self._backend(once, give_up=False)

    async def _backend(self, call: Callable[[], Awaitable[T]], give_up: bool = True) -> T:
        """Retry a call to the database or Redis with backoff while it is away.

        Before a send (`give_up`), stop trying once the worker is stopping: the row is released when
        this worker's heartbeat stops. After a send, keep trying (up to claim_timeout) so the outcome
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
