"""Data access for the callback lane: the integration API's status callbacks as rows of `messages`.

A callback is a message of the one delivery engine (storage/messages.py): lane and kind `callback`,
`ref_id` the event (api_events.id), `platform` "http" and `chat_id` the endpoint (webhooks.id). It is
queued by `queue_for_events` in the transaction that appends its event, claimed, sent, retried and
recovered like any message. What the wire said at each try is kept in `webhook_attempts` (its
`delivery_id` is the message's id): the deliveries listing and replay read it; `webhooks` keeps
each endpoint's failing clock (`failing_since`) and whether it is still active.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Table, insert, literal, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.api_models import ApiEvent, Webhook, WebhookAttempt
from storage.models import DeliveryStatus, LaneName, Message, MessageKind
from storage.types import UTCDateTime

if TYPE_CHECKING:  # storage.messages appends events, whose callbacks are queued here
    from storage.messages import Claimed

MESSAGES: Table = Message.__table__  # type: ignore[attr-defined]
WEBHOOKS: Table = Webhook.__table__  # type: ignore[attr-defined]
EVENTS: Table = ApiEvent.__table__  # type: ignore[attr-defined]
ATTEMPTS: Table = WebhookAttempt.__table__  # type: ignore[attr-defined]

PLATFORM = "http"  # the callback lane's one destination platform; chat_id is the endpoint's id


def _mine(webhook_id: int):  # type: ignore[no-untyped-def]
    return ((MESSAGES.c.lane == LaneName.CALLBACK.value) & (MESSAGES.c.kind == MessageKind.CALLBACK.value)
            & (MESSAGES.c.platform == PLATFORM) & (MESSAGES.c.chat_id == webhook_id))


async def queue_for_events(session: AsyncSession, event_ids: Sequence[int], now: datetime) -> None:
    """One queued callback per (event, active endpoint subscribed to its type), in the caller's transaction."""
    subscribed = (literal(",").concat(WEBHOOKS.c.events).concat(",")
                  .like(literal("%,").concat(EVENTS.c.type).concat(",%")))
    at = literal(now, type_=UTCDateTime())
    source = (select(literal(LaneName.CALLBACK.value), literal(MessageKind.CALLBACK.value), EVENTS.c.id,
                     literal(PLATFORM), WEBHOOKS.c.id, literal(DeliveryStatus.QUEUED.value), literal(0), at, at)
              .select_from(WEBHOOKS.join(EVENTS, subscribed))
              .where(EVENTS.c.id.in_(list(event_ids)), WEBHOOKS.c.active.is_(True)))
    await session.execute(insert(MESSAGES).from_select(  # type: ignore[deprecated]
        ["lane", "kind", "ref_id", "platform", "chat_id", "status", "attempts", "created_at", "next_attempt_at"],
        source))


@dataclass(frozen=True)
class CallbackTarget:
    """What a claimed callback needs to be sent: its endpoint and its event."""

    webhook_id: int
    url: str
    secret: str
    event: ApiEvent


async def target(session: AsyncSession, claimed: Claimed) -> CallbackTarget | None:
    """The endpoint and event of this callback; None when the endpoint is off (disabled, deleted) or gone."""
    hook = await session.get(Webhook, claimed.chat_id)
    event = await session.get(ApiEvent, claimed.ref_id)
    if hook is None or event is None or not hook.active or hook.deleted_at is not None:
        return None
    return CallbackTarget(int(hook.id or 0), hook.url, hook.secret, event)


async def record_attempt(session: AsyncSession, message_id: int, *, at: datetime, status_code: int | None,
                         outcome: str, error: str | None, duration_ms: int) -> None:
    await session.execute(insert(ATTEMPTS).values(  # type: ignore[deprecated]
        delivery_id=message_id, at=at, status_code=status_code, outcome=outcome,
        error=error[:500] if error else None, duration_ms=duration_ms))


async def endpoint_answered(session: AsyncSession, webhook_id: int) -> None:
    """The endpoint took a callback: its failing clock stops."""
    await session.execute(update(WEBHOOKS).where(WEBHOOKS.c.id == webhook_id,  # type: ignore[deprecated]
                                                 WEBHOOKS.c.failing_since.is_not(None)).values(failing_since=None))


async def endpoint_failing(session: AsyncSession, webhook_id: int, now: datetime) -> datetime:
    """The endpoint failed a try: when it started failing (now, unless it already was)."""
    await session.execute(update(WEBHOOKS).where(WEBHOOKS.c.id == webhook_id,  # type: ignore[deprecated]
                                                 WEBHOOKS.c.failing_since.is_(None)).values(failing_since=now))
    since = (await session.execute(select(WEBHOOKS.c.failing_since)  # type: ignore[deprecated]
                                   .where(WEBHOOKS.c.id == webhook_id))).scalar()
    return since or now  # type: ignore[no-any-return]


async def fail_queued(session: AsyncSession, webhook_id: int, reason: str) -> int:
    """Nothing still queued for this endpoint goes out (it was disabled or deleted)."""
    result = await session.execute(update(MESSAGES).where(  # type: ignore[deprecated]
        _mine(webhook_id), MESSAGES.c.status == DeliveryStatus.QUEUED.value)
        .values(status=DeliveryStatus.FAILED.value, last_error=reason[:500]))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def disable_webhook(session: AsyncSession, webhook_id: int, now: datetime) -> bool:
    """Turn off an endpoint that has failed too long; True for the caller that did it."""
    result = await session.execute(update(WEBHOOKS).where(  # type: ignore[deprecated]
        WEBHOOKS.c.id == webhook_id, WEBHOOKS.c.active.is_(True)).values(active=False, disabled_at=now))
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await fail_queued(session, webhook_id, "endpoint disabled after failing for 3 days")
    return True


# What the API and the dashboard show ------------------------------------------------------------


@dataclass(frozen=True)
class CallbackDelivery:
    """One event to one endpoint, as the deliveries listing shows it."""

    id: int
    webhook_id: int
    event_id: int
    status: str  # queued | sending | sent | failed
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


def _delivery(message: Message, last_status_code: int | None) -> CallbackDelivery:
    return CallbackDelivery(int(message.id or 0), message.chat_id, message.ref_id, message.status, message.attempts,
                            last_status_code, message.last_error, message.next_attempt_at, message.created_at,
                            message.sent_at)


async def deliveries_of_webhook(session: AsyncSession, webhook_id: int, *, limit: int = 100
                                ) -> list[tuple[CallbackDelivery, ApiEvent, list[WebhookAttempt]]]:
    """The endpoint's latest callbacks, newest first, each with its event and its attempts."""
    found = await session.execute(  # type: ignore[deprecated]
        select(Message, ApiEvent).join(ApiEvent, EVENTS.c.id == MESSAGES.c.ref_id)
        .where(_mine(webhook_id)).order_by(MESSAGES.c.id.desc()).limit(limit))
    pairs = [(m, e) for m, e in found.all()]
    attempts: dict[int, list[WebhookAttempt]] = {}
    if pairs:
        tried = await session.execute(  # type: ignore[deprecated]
            select(WebhookAttempt).where(ATTEMPTS.c.delivery_id.in_([m.id for m, _ in pairs]))
            .order_by(ATTEMPTS.c.id))
        for attempt in tried.scalars().all():
            attempts.setdefault(attempt.delivery_id, []).append(attempt)
    result = []
    for message, event in pairs:
        tries = attempts.get(int(message.id or 0), [])
        result.append((_delivery(message, tries[-1].status_code if tries else None), event, tries))
    return result


async def get_delivery(session: AsyncSession, message_id: int) -> CallbackDelivery | None:
    message = await session.get(Message, message_id)
    if message is None or message.lane != LaneName.CALLBACK.value:
        return None
    last = (await session.execute(  # type: ignore[deprecated]
        select(ATTEMPTS.c.status_code).where(ATTEMPTS.c.delivery_id == message_id)
        .order_by(ATTEMPTS.c.id.desc()).limit(1))).scalar()
    return _delivery(message, last)


async def requeue(session: AsyncSession, message_id: int, now: datetime) -> None:
    """Send it again now, whatever became of it (a replay); one in flight is left alone."""
    await session.execute(update(MESSAGES).where(  # type: ignore[deprecated]
        MESSAGES.c.id == message_id, MESSAGES.c.lane == LaneName.CALLBACK.value,
        MESSAGES.c.status != DeliveryStatus.SENDING.value)
        .values(status=DeliveryStatus.QUEUED.value, next_attempt_at=now, created_at=now, claimed_at=None,
                claimed_by=None))
