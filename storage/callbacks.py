"""Data access for the callback lane (`webhook_deliveries`): claim, record an attempt, retry, finish.

The same life as a messenger delivery (storage/outbox.py): queued -> sending (claimed by a conditional
UPDATE, so one sender has it) -> sent | failed, or queued again with a later `next_attempt_at`. A sender
that dies mid-send leaves `sending` rows whose claim goes stale and returns them to the queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, insert, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.api_models import ApiEvent, CallbackStatus, Webhook, WebhookAttempt, WebhookDelivery

DELIVERIES: Table = WebhookDelivery.__table__  # type: ignore[attr-defined]
WEBHOOKS: Table = Webhook.__table__  # type: ignore[attr-defined]
EVENTS: Table = ApiEvent.__table__  # type: ignore[attr-defined]
ATTEMPTS: Table = WebhookAttempt.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class ClaimedCallback:
    """A callback one sender now owns, with what it needs to send it."""

    id: int
    attempts: int
    created_at: datetime
    webhook_id: int
    url: str
    secret: str
    failing_since: datetime | None
    event: ApiEvent


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[ClaimedCallback]:
    """Take up to `limit` queued, due callbacks of active endpoints: queued -> sending."""
    due = await session.execute(  # type: ignore[deprecated]
        select(DELIVERIES.c.id).join(WEBHOOKS, WEBHOOKS.c.id == DELIVERIES.c.webhook_id)
        .where(DELIVERIES.c.status == CallbackStatus.QUEUED.value, WEBHOOKS.c.active.is_(True),
               or_(DELIVERIES.c.next_attempt_at.is_(None), DELIVERIES.c.next_attempt_at <= now))
        .order_by(DELIVERIES.c.id).limit(limit))
    ids = [int(i) for i in due.scalars().all()]
    if not ids:
        return []
    claimed = await session.execute(  # type: ignore[deprecated]
        update(DELIVERIES).where(DELIVERIES.c.id.in_(ids), DELIVERIES.c.status == CallbackStatus.QUEUED.value)
        .values(status=CallbackStatus.SENDING.value, claimed_at=now).returning(DELIVERIES.c.id))
    mine = sorted(int(i) for i in claimed.scalars().all())
    if not mine:
        return []
    rows = await session.execute(  # type: ignore[deprecated]
        select(DELIVERIES.c.id, DELIVERIES.c.attempts, DELIVERIES.c.created_at, WEBHOOKS.c.id.label("webhook_id"),
               WEBHOOKS.c.url, WEBHOOKS.c.secret, WEBHOOKS.c.failing_since, ApiEvent)
        .join(WEBHOOKS, WEBHOOKS.c.id == DELIVERIES.c.webhook_id).join(ApiEvent, EVENTS.c.id == DELIVERIES.c.event_id)
        .where(DELIVERIES.c.id.in_(mine)).order_by(DELIVERIES.c.id))
    return [ClaimedCallback(int(r.id), int(r.attempts), r.created_at, int(r.webhook_id), str(r.url), str(r.secret),
                            r.failing_since, r.ApiEvent) for r in rows.all()]


async def record_attempt(session: AsyncSession, delivery_id: int, *, at: datetime, status_code: int | None,
                         outcome: str, error: str | None, duration_ms: int) -> None:
    await session.execute(insert(ATTEMPTS).values(  # type: ignore[deprecated]
        delivery_id=delivery_id, at=at, status_code=status_code, outcome=outcome,
        error=error[:500] if error else None, duration_ms=duration_ms))


async def mark_sent(session: AsyncSession, claimed: ClaimedCallback, status_code: int, now: datetime) -> None:
    await session.execute(update(DELIVERIES).where(DELIVERIES.c.id == claimed.id).values(  # type: ignore[deprecated]
        status=CallbackStatus.SENT.value, attempts=DELIVERIES.c.attempts + 1, last_status_code=status_code,
        last_error=None, sent_at=now, claimed_at=None))
    # the endpoint answers again: its failing clock stops
    await session.execute(update(WEBHOOKS).where(WEBHOOKS.c.id == claimed.webhook_id)  # type: ignore[deprecated]
                          .values(failing_since=None))


async def mark_retry(session: AsyncSession, claimed: ClaimedCallback, *, status_code: int | None, error: str,
                     next_attempt_at: datetime, now: datetime) -> None:
    await session.execute(update(DELIVERIES).where(DELIVERIES.c.id == claimed.id).values(  # type: ignore[deprecated]
        status=CallbackStatus.QUEUED.value, attempts=DELIVERIES.c.attempts + 1, last_status_code=status_code,
        last_error=error[:500], next_attempt_at=next_attempt_at, claimed_at=None))
    await session.execute(update(WEBHOOKS).where(WEBHOOKS.c.id == claimed.webhook_id,  # type: ignore[deprecated]
                                                 WEBHOOKS.c.failing_since.is_(None)).values(failing_since=now))


async def mark_failed(session: AsyncSession, claimed: ClaimedCallback, *, status_code: int | None, error: str) -> None:
    await session.execute(update(DELIVERIES).where(DELIVERIES.c.id == claimed.id).values(  # type: ignore[deprecated]
        status=CallbackStatus.FAILED.value, attempts=DELIVERIES.c.attempts + 1, last_status_code=status_code,
        last_error=error[:500], claimed_at=None))


async def disable_webhook(session: AsyncSession, webhook_id: int, now: datetime) -> bool:
    """Turn off an endpoint that has failed too long; True for the caller that did it."""
    result = await session.execute(update(WEBHOOKS).where(  # type: ignore[deprecated]
        WEBHOOKS.c.id == webhook_id, WEBHOOKS.c.active.is_(True)).values(active=False, disabled_at=now))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await session.execute(update(DELIVERIES).where(  # type: ignore[deprecated]
        DELIVERIES.c.webhook_id == webhook_id, DELIVERIES.c.status == CallbackStatus.QUEUED.value)
        .values(status=CallbackStatus.FAILED.value, last_error="endpoint disabled after failing for 3 days"))
    return True


async def release_stale(session: AsyncSession, older_than: datetime) -> int:
    """Claims of a sender that died mid-send go back to the queue (those may be sent twice: the
    receiver dedupes on `webhook-id`)."""
    result = await session.execute(update(DELIVERIES).where(  # type: ignore[deprecated]
        DELIVERIES.c.status == CallbackStatus.SENDING.value, DELIVERIES.c.claimed_at < older_than)
        .values(status=CallbackStatus.QUEUED.value, claimed_at=None))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def touch(session: AsyncSession, ids: Sequence[int], now: datetime) -> None:
    if ids:
        await session.execute(update(DELIVERIES).where(  # type: ignore[deprecated]
            DELIVERIES.c.id.in_(list(ids)), DELIVERIES.c.status == CallbackStatus.SENDING.value)
            .values(claimed_at=now))
