"""The delivery engine's vocabulary: lanes, outcomes, the retry policy, and what a refused send does.

Every outgoing message (a notice to a chat, a broadcast copy, a reminder, a question forwarded to
staff, a staff reply, the note that tells whoever wrote how it went) is a row of `messages`
(storage/messages.py) first, then an entry in its lane's queue. One engine sends them all:
`eblagh run` in-process on the embedded default, any number of `eblagh worker`s with Redis.

A lane is one road out, with its own sender, queue, pace and retry policy, so a slow or dead
receiver on one lane never slows another. There are two: the messenger lane (per platform: Telegram
or Bale) and the callback lane (the integration API's signed HTTP status callbacks, services/callbacks.py,
retried over days on a schedule of its own). To add a lane:

1. add its name to `storage.models.LaneName` and queue its rows with `lane` set to it (`platform` and
   `chat_id` then name its destinations, e.g. "http" and a webhook endpoint's id; `body` its payload);
2. write a `LaneSender` that sends one composed payload and maps every failure to the four
   `SendError` kinds (`Transient` for a receiver that is down, so it retries with backoff; `Permanent`
   for a refusal that another try cannot help; `RetryAfter` pauses only this lane's budget);
3. build a `Lane` for it in the composition root (bot/engine.py, beside `messenger_lane`, listed in `build_engine`): its composer (row ->
   payload), its own `RateBudget` (its own Redis key), a `Retry` policy of its own (a `RetryPolicy`,
   or one like the callbacks' `RetrySchedule`: fixed steps, giving up on age) and its `LaneConfig`;
4. optionally, settle hooks per kind (`Settler`), run in the transaction that records the outcome.

The engine, the sweeper, the heartbeats and the recovery of a stopped worker's claims need no change.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.clock import Clock
from services.delivery.ports import RateBudget, WorkQueue
from services.messaging import Permanent, SentMessage, Transient, Undelivered, Unreachable, undelivered
from storage import citizens, messages
from storage.messages import Claimed
from storage.models import DeliveryStatus, LaneName

log = logging.getLogger(__name__)


class Retry(Protocol):
    def retry_in(self, attempts: int, claimed: Claimed, now: datetime, rng: random.Random) -> float | None:
        """Seconds before the next try after `attempts` failed ones; None: give up, the message fails."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 300.0

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Exponential backoff with full jitter, so many failed sends do not return in lockstep."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(attempts - 1, 0))
        return rng.uniform(ceiling / 2, ceiling)

    def retry_in(self, attempts: int, claimed: Claimed, now: datetime, rng: random.Random) -> float | None:
        return None if attempts >= self.max_attempts else self.delay(attempts, rng)


@dataclass(frozen=True)
class LaneConfig:
    concurrency: int = 8  # messages in flight per worker
    batch: int = 32  # entries taken from the queue (and claimed) at once
    block_ms: int = 500  # how long a pull waits for new entries
    claim_timeout: float = 60.0  # an entry idle this long in the queue is taken over (a fallback)
    reclaim_interval: float = 5.0
    record_interval: float = 0.05  # "sent" outcomes are written together at most this late
    backend_retry: float = 0.5  # first wait when the database or Redis is away (doubles up to 5 s)
    max_lateness: float = 0.01  # a slot missed by more than this is given up, not used late
    chat_wait: float = 2.0  # a chat busy for at most this long is waited for; longer, the row goes back


@dataclass(frozen=True)
class Outcome:
    """How a message ended: arrived whole (`failure` None), or why not, and which parts did arrive."""

    message_ids: tuple[int, ...] = ()
    failure: Undelivered | None = None


# Runs in the transaction that records the outcome of a message of its kind (sent, or refused for good).
Settler = Callable[[AsyncSession, Claimed, Outcome], Awaitable[None]]


class Composer(Protocol):
    async def compose(self, claimed: Claimed) -> object | None:
        """The payload for this row; None when what it refers to is gone."""
        ...


class LaneSender(Protocol):
    async def send(self, claimed: Claimed, payload: object) -> SentMessage: ...


@dataclass(frozen=True)
class Lane:
    """One road out: which rows (lane name, destination platform), through which queue, composed how,
    sent by whom, at what pace, retried how."""

    name: LaneName
    platform: str
    queue: WorkQueue
    budget: RateBudget
    composer: Composer
    sender: LaneSender
    retry: Retry = RetryPolicy()
    config: LaneConfig = LaneConfig()
    settlers: Mapping[str, Settler] = field(default_factory=dict)
    # The chats of this lane are messenger chats: a refused "unreachable" marks the chat's binding.
    marks_chats: bool = True

    @property
    def key(self) -> str:
        return f"{self.name.value}:{self.platform}"


@dataclass(frozen=True)
class Refusal:
    """What a refused send (other than retry-after) does to its row: blocked or failed for good, or
    queued again (`retry_at`)."""

    status: DeliveryStatus  # BLOCKED, FAILED, or QUEUED with retry_at
    error: str
    failure: Undelivered
    retry_at: datetime | None = None
    arrived: tuple[int, ...] = ()  # parts of the message that did arrive before the failure


def refusal(error: Unreachable | Permanent | Transient, claimed: Claimed, policy: Retry,
            rng: random.Random, clock: Clock) -> Refusal:
    """Unreachable blocks the row; permanent fails it; transient queues it again after backoff, and fails
    it once the lane's policy gives up."""
    why, arrived = undelivered(error), tuple(error.sent_message_ids)
    if isinstance(error, Unreachable):
        return Refusal(DeliveryStatus.BLOCKED, str(error), why, arrived=arrived)
    if isinstance(error, Permanent):
        log.warning("%s refused: %s", claimed.ref, error)
        return Refusal(DeliveryStatus.FAILED, f"permanent: {error}", why, arrived=arrived)
    attempts = claimed.attempts + 1
    now = clock()
    wait = policy.retry_in(attempts, claimed, now, rng)
    if wait is None:
        log.warning("%s gave up after %d attempts: %s", claimed.ref, attempts, error)
        return Refusal(DeliveryStatus.FAILED, f"transient, gave up: {error}", why, arrived=arrived)
    return Refusal(DeliveryStatus.QUEUED, str(error), why, now + timedelta(seconds=wait), arrived)


async def record_refusal(session: AsyncSession, lane: Lane, claimed: Claimed, refused: Refusal, clock: Clock) -> None:
    """Write a refusal; a blocked row also marks its chat unreachable (as of now); a final one is settled."""
    if refused.retry_at is not None:
        await messages.mark_retry(session, claimed.id, refused.error, refused.retry_at)
        return
    await messages.mark_final(session, claimed.id, refused.status, refused.error, clock())
    if refused.status is DeliveryStatus.BLOCKED and lane.marks_chats:
        await citizens.mark_unreachable(session, claimed.platform, claimed.chat_id, clock())
    settle = lane.settlers.get(claimed.kind)
    if settle is not None:
        await settle(session, claimed, Outcome(refused.arrived, refused.failure))


async def record_sent(session: AsyncSession, lane: Lane, sent: list[tuple[Claimed, SentMessage, datetime]]) -> None:
    """Write "sent" outcomes together, and settle those whose kind wants it, in one transaction."""
    await messages.mark_sent(session, [(c, s.message_id, at) for c, s, at in sent])
    for claimed, message, _at in sent:
        settle = lane.settlers.get(claimed.kind)
        if settle is not None:
            await settle(session, claimed, Outcome(tuple(message.message_ids)))
