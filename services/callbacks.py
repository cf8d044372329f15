"""Status callbacks: each event POSTed, signed per Standard Webhooks, to the endpoints subscribed to it.

This is the callback LANE, written self-contained while the delivery engine is being rewritten (branch
`engine`): a table of messages (`webhook_deliveries`, storage/callbacks.py), a sender that makes one
attempt and classifies its outcome (`CallbackSender.send`), and a small runner that claims due messages
with a conditional UPDATE, sends them, records each attempt and schedules the next. It is to become a
lane of the one delivery engine (claim / send / record are the engine's verbs); until then
`eblagh worker` and `eblagh run` run `CallbackRunner.run_forever` beside their delivery loop. Its own
lane either way: a dead receiver holds only its own messages, never a messenger delivery.

Durable across restarts: a message is `queued` with its `next_attempt_at` in the database; a sender
that dies mid-send leaves a `sending` claim that goes stale and is queued again (the receiver may see
that one twice, with the same `webhook-id`, and dedupes on it).

Retries: connection errors, timeouts (5 s), 429 and 5xx are retried after about 5 s, 30 s, 2 min,
10 min, 1 h, 6 h, then daily; other answers (2xx sent, other 4xx refused for good) are final. A message
still failing 3 days after it was made is failed; an endpoint failing for 3 days is disabled and
reported (an audit event `webhook.disabled`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import httpx
from standardwebhooks import Webhook as Signer

from services.clock import Clock
from services.events import event_object
from services.metrics import Metrics
from storage import audit, callbacks
from storage.callbacks import ClaimedCallback
from storage.database import Database

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
    delays: tuple[float, ...] = (5, 30, 120, 600, 3600, 6 * 3600)
    then_every: float = 24 * 3600
    give_up_after: timedelta = timedelta(days=3)  # a message, and an endpoint failing this long
    jitter: float = 0.1  # +-10 %, so failures of one outage do not come back in lockstep

    def delay(self, attempts: int, rng: random.Random) -> float:
        """Seconds before the next try after `attempts` failed ones (1 = the first failed)."""
        base = self.delays[attempts - 1] if attempts <= len(self.delays) else self.then_every
        return base * rng.uniform(1 - self.jitter, 1 + self.jitter)


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
    """One attempt at one callback; never raises for what the network or the receiver does."""

    def __init__(self, client: httpx.AsyncClient | None = None, *, timeout: float = 5.0) -> None:
        self._client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False,
                                                   headers={"user-agent": "eblagh-callbacks/1"})
        self._own = client is None

    async def send(self, claimed: ClaimedCallback, now: datetime) -> SendResult:
        body = json.dumps(event_object(claimed.event), ensure_ascii=False, separators=(",", ":"))
        headers = {"content-type": "application/json",
                   **sign(claimed.secret, f"evt_{claimed.event.id}", now, body)}
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            response = await self._client.post(claimed.url, content=body.encode(), headers=headers)
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


@dataclass
class CallbackStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    disabled: int = 0


class CallbackRunner:
    """Claim due callbacks, send them a few at a time, record each outcome."""

    def __init__(self, db: Database, sender: CallbackSender, clock: Clock, *,
                 schedule: RetrySchedule | None = None, batch: int = 50, concurrency: int = 8,
                 stale_claim: timedelta = timedelta(minutes=2), metrics: Metrics | None = None,
                 rng: random.Random | None = None) -> None:
        self._db = db
        self._sender = sender
        self._clock = clock
        self._schedule = schedule or RetrySchedule()
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._stale = stale_claim
        self._metrics = metrics
        self._rng = rng or random.Random()

    async def run_once(self) -> CallbackStats:
        stats = CallbackStats()
        now = self._clock()
        async with self._db.session() as session:
            await callbacks.release_stale(session, now - self._stale)
            claimed = await callbacks.claim_due(session, now, self._batch)
        await asyncio.gather(*(self._one(c, stats) for c in claimed))
        return stats

    async def _one(self, claimed: ClaimedCallback, stats: CallbackStats) -> None:
        async with self._slots:
            result = await self._sender.send(claimed, self._clock())
        if self._metrics is not None:
            self._metrics.callback_attempts.labels(result.outcome.value).inc()
        now = self._clock()
        async with self._db.session() as session:
            await callbacks.record_attempt(session, claimed.id, at=now, status_code=result.status_code,
                                           outcome=result.outcome.value, error=result.error,
                                           duration_ms=result.duration_ms)
            if result.outcome is Outcome.OK:
                await callbacks.mark_sent(session, claimed, result.status_code or 200, now)
                stats.sent += 1
                return
            error = result.error or "refused"
            too_old = now - claimed.created_at >= self._schedule.give_up_after
            if result.outcome is Outcome.PERMANENT or too_old:
                await callbacks.mark_failed(session, claimed, status_code=result.status_code, error=error)
                stats.failed += 1
            else:
                retry_at = now + timedelta(seconds=self._schedule.delay(claimed.attempts + 1, self._rng))
                await callbacks.mark_retry(session, claimed, status_code=result.status_code, error=error,
                                           next_attempt_at=retry_at, now=now)
                stats.retried += 1
            failing_since = claimed.failing_since or now
            if result.outcome is Outcome.RETRY and now - failing_since >= self._schedule.give_up_after \
                    and await callbacks.disable_webhook(session, claimed.webhook_id, now):
                audit.record_event(session, actor="callbacks", action="webhook.disabled",
                                   subject=str(claimed.webhook_id),
                                   detail={"failing_since": failing_since.isoformat(), "last_error": error}, at=now)
                log.warning("webhook %d disabled: failing since %s (%s)", claimed.webhook_id,
                            failing_since.isoformat(), error)
                stats.disabled += 1

    async def run_forever(self, stop: asyncio.Event, interval: float = 1.0) -> None:
        """Until `stop` is set; a pass never dies on one error. A full batch goes again at once."""
        while not stop.is_set():
            pause = interval
            try:
                stats = await self.run_once()
                if stats.sent + stats.retried + stats.failed >= self._batch:
                    pause = 0.0
            except Exception:
                log.exception("callback pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause or 0.01)

    async def close(self) -> None:
        await self._sender.close()
