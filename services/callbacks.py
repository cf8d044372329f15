"""Status callbacks: each event POSTed, signed per Standard Webhooks, to the endpoints subscribed to it.

Callbacks are messages of the one delivery engine, in a lane of their own (`callback`,
services/delivery/lanes.py): rows of `messages` queued in the transaction that records their event
(storage/callbacks.py), durable across restarts, claimed, paced by the lane's own budget and
recovered from a stopped worker like any message, so a dead receiver holds only its own lane,
never a messenger delivery. This module is the lane's parts: the composer (a row -> its endpoint
and event), the sender (one signed POST, 5 s timeout, its outcome in the attempt log) and the
retry schedule; bot/engine.py builds the lane.

A sender that dies mid-send leaves a claim the engine gives back: the receiver may see that callback
twice, with the same `webhook-id`, and dedupes on it.

Retries: connection errors, timeouts, 429 and 5xx are retried after about 5 s, 30 s, 2 min, 10 min,
1 h, 6 h, then daily; other answers (2xx sent, other 4xx refused for good) are final. A callback
still failing 3 days after it was made is failed; an endpoint failing for 3 days is disabled and
reported (an audit event `webhook.disabled`), and what was queued for it is failed.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from prometheus_client import Counter
from standardwebhooks import Webhook as Signer

from services.clock import Clock
from services.delivery.lanes import Lane, LaneConfig
from services.delivery.ports import RateBudget, WorkQueue
from services.events import event_object
from services.messaging import Permanent, SentMessage, Transient
from storage import audit, callbacks
from storage.callbacks import CallbackTarget
from storage.database import Database
from storage.messages import Claimed
from storage.models import LaneName

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    OK = "ok"
    RETRY = "retry"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True)
class RetrySchedule:
    """The callback lane's retry policy (services/delivery/lanes.py `Retry`)."""

    delays: tuple[float, ...] = (5, 30, 120, 600, 3600, 6 * 3600)
    then_every: float = 24 * 3600
    give_up_after: timedelta = timedelta(days=3)  # a callback, and an endpoint failing this long
    jitter: float = 0.1  # +-10 %, so failures of one outage do not come back in lockstep

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds before the next try after `attempts` failed ones (1 = the first failed)."""
        base = self.delays[attempts - 1] if attempts <= len(self.delays) else self.then_every
        return base * rng.uniform(1 - self.jitter, 1 + self.jitter)

    def retry_in(self, attempts: int, claimed: Claimed, now: datetime, rng: random.Random) -> float | None:
        if claimed.created_at is not None and now - claimed.created_at >= self.give_up_after:
            return None
        return self.delay(attempts, rng)


def classify(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome.OK
    if status_code == 429 or status_code >= 500:
        return Outcome.RETRY
    return Outcome.PERMANENT


def sign(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers for this body."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Signer(secret).sign(msg_id, at, body)}


class CallbackSender:
    """One attempt at one callback over HTTP; never raises for what the network or the receiver does."""

    def __init__(self, client: httpx.AsyncClient | None = None, *, timeout: float = 5.0) -> None:
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                                   headers={"user-agent": "eblagh-callbacks/1"})
        self._own = client is None

    async def send(self, target: CallbackTarget, now: datetime) -> SendResult:
        body = json.dumps(event_object(target.event), ensure_ascii=False, separators=(",", ":"))
        headers = {"content-type": "application/json",
                   **sign(target.secret, f"evt_{target.event.id}", now, body)}
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            response = await self._client.post(target.url, content=body.encode(), headers=headers)
        except httpx.TimeoutException:
            return SendResult(Outcome.RETRY, None, "timeout", took())
        except httpx.HTTPError as error:
            return SendResult(Outcome.RETRY, None, f"connection: {type(error).__name__}", took())
        outcome = classify(response.status_code)
        return SendResult(outcome, response.status_code, None if outcome is Outcome.OK else f"HTTP {response.status_code}",
                          took())

    async def close(self) -> None:
        if self._own:
            await self._client.aclose()


class CallbackComposer:
    """A claimed callback -> its endpoint and event; None (failed: nothing to send) when the endpoint
    was disabled or deleted meanwhile."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def compose(self, claimed: Claimed) -> CallbackTarget | None:
        async with self._db.session() as session:
            return await callbacks.target(session, claimed)


class CallbackLaneSender:
    """The callback lane's sender: one signed POST; the attempt logged and the endpoint's failing clock
    kept in one transaction; the outcome mapped to the engine's kinds (`Transient` retried by the
    schedule, `Permanent` final)."""

    def __init__(self, db: Database, sender: CallbackSender, clock: Clock, *, schedule: RetrySchedule,
                 attempts: Counter | None = None) -> None:
        self._db = db
        self._sender = sender
        self._clock = clock
        self._schedule = schedule
        self._attempts = attempts  # eblagh_callback_attempts{outcome} (services/metrics.py)

    async def send(self, claimed: Claimed, payload: object) -> SentMessage:
        assert isinstance(payload, CallbackTarget)
        result = await self._sender.send(payload, self._clock())
        if self._attempts is not None:
            self._attempts.labels(result.outcome.value).inc()
        now = self._clock()
        disabled = False
        async with self._db.session() as session:
            await callbacks.record_attempt(session, claimed.id, at=now, status_code=result.status_code,
                                           outcome=result.outcome.value, error=result.error,
                                           duration_ms=result.duration_ms)
            if result.outcome is Outcome.OK:
                await callbacks.endpoint_answered(session, payload.webhook_id)
            elif result.outcome is Outcome.RETRY:
                since = await callbacks.endpoint_failing(session, payload.webhook_id, now)
                if now - since >= self._schedule.give_up_after and \
                        await callbacks.disable_webhook(session, payload.webhook_id, now):
                    audit.record_event(session, actor="callbacks", action="webhook.disabled",
                                       subject=str(payload.webhook_id),
                                       detail={"failing_since": since.isoformat(), "last_error": result.error}, at=now)
                    log.warning("webhook %d disabled: failing since %s (%s)", payload.webhook_id, since.isoformat(),
                                result.error)
                    disabled = True
        if result.outcome is Outcome.OK:
            return SentMessage(result.status_code or 200)
        if result.outcome is Outcome.PERMANENT:
            raise Permanent(result.error or "refused")
        if disabled:
            raise Permanent(f"{result.error}; endpoint disabled after failing for 3 days")
        raise Transient(result.error or "retry")

    async def aclose(self) -> None:
        await self._sender.close()


def callback_lane(db: Database, queue: WorkQueue, budget: RateBudget, clock: Clock, *,
                  sender: CallbackSender | None = None, schedule: RetrySchedule | None = None,
                  config: LaneConfig | None = None, attempts: Counter | None = None) -> Lane:
    """The callback lane: its own queue and budget (per endpoint: `chat_id`), composer, sender, schedule."""
    schedule = schedule or RetrySchedule()
    return Lane(LaneName.CALLBACK, callbacks.PLATFORM, queue, budget, CallbackComposer(db),
                CallbackLaneSender(db, sender or CallbackSender(), clock, schedule=schedule, attempts=attempts),
                retry=schedule, config=config or LaneConfig(), marks_chats=False)
