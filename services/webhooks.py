"""Callback endpoints of the integration API: `POST/GET/DELETE /v1/webhooks`, their deliveries, replay.

A URL is https, or http on loopback and private networks (municipal case systems often sit on internal
networks). The secret (`whsec_` + base64 of 24 random bytes, as Standard Webhooks expects) is shown once.
"""

from __future__ import annotations

import base64
import builtins
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from services.api_keys import KeyInfo
from services.clock import Clock
from services.events import event_object
from storage import api_store, audit, callbacks
from storage.api_models import EventType, Webhook
from storage.callbacks import CallbackDelivery
from storage.database import Database

EVENT_TYPES = tuple(e.value for e in EventType)


class WebhookProblem(ValueError):
    pass


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookProblem("the url must be https:// (or http:// on a loopback or private network)")
    if len(url) > 2000:
        raise WebhookProblem("the url is longer than 2000 characters")
    if parts.scheme == "http":
        host = parts.hostname
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if not (host == "localhost" or (address is not None and (address.is_loopback or address.is_private))):
            raise WebhookProblem("http:// only on loopback or private addresses; use https://")
    return url.strip()


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True)
class WebhookInfo:
    id: int
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    disabled_at: datetime | None

    @classmethod
    def of(cls, hook: Webhook) -> WebhookInfo:
        assert hook.id is not None
        return cls(hook.id, hook.url, hook.events.split(","), hook.active, hook.created_at, hook.disabled_at)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url, "events": self.events, "active": self.active,
                "created_at": self.created_at.isoformat(),
                "disabled_at": self.disabled_at.isoformat() if self.disabled_at else None}


@dataclass(frozen=True)
class DeliverySummary:
    """One event to one endpoint, as the staff dashboard lists it."""

    id: int
    event_type: str
    status: str  # queued | sending | sent | failed
    attempts: int
    last_attempt_at: datetime | None
    last_status_code: int | None


@dataclass(frozen=True)
class EndpointOverview:
    webhook: WebhookInfo
    key_name: str  # the API key that registered it
    deliveries: list[DeliverySummary]  # newest first


class WebhookService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def create(self, key: KeyInfo, url: str, events: builtins.list[str]) -> tuple[WebhookInfo, str]:
        url = check_url(url)
        unknown = [e for e in events if e not in EVENT_TYPES]
        if unknown or not events:
            raise WebhookProblem(f"events must be among {', '.join(EVENT_TYPES)}")
        chosen = [e for e in EVENT_TYPES if e in events]
        secret = new_secret()
        now = self._clock()
        async with self._db.session() as session:
            hook = await api_store.add_webhook(session, Webhook(api_key_id=key.id, url=url, events=",".join(chosen),
                                                                secret=secret, created_at=now))
            audit.record_event(session, actor=f"api:{key.name}"[:64], action="webhook.created",
                               subject=str(hook.id), detail={"events": chosen}, at=now)
            return WebhookInfo.of(hook), secret

    async def list(self, key: KeyInfo) -> builtins.list[WebhookInfo]:
        async with self._db.session() as session:
            return [WebhookInfo.of(h) for h in await api_store.webhooks_of(session, key.id)]

    async def _own(self, session: Any, key: KeyInfo, webhook_id: int) -> Webhook | None:
        hook = await api_store.get_webhook(session, webhook_id)
        return hook if hook is not None and hook.api_key_id == key.id and hook.deleted_at is None else None

    async def delete(self, key: KeyInfo, webhook_id: int) -> bool:
        now = self._clock()
        async with self._db.session() as session:
            if await self._own(session, key, webhook_id) is None:
                return False
            await api_store.delete_webhook(session, webhook_id, now)
            audit.record_event(session, actor=f"api:{key.name}"[:64], action="webhook.deleted",
                               subject=str(webhook_id), at=now)
            return True

    async def deliveries(self, key: KeyInfo, webhook_id: int, limit: int = 100) -> builtins.list[dict[str, Any]] | None:
        async with self._db.session() as session:
            if await self._own(session, key, webhook_id) is None:
                return None
            rows = await callbacks.deliveries_of_webhook(session, webhook_id, limit=max(1, min(limit, 1000)))
        return [{"id": d.id, "event": event_object(e), "status": d.status, "attempts": d.attempts,
                 "last_status_code": d.last_status_code,
                 "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at and d.status == "queued" else None,
                 "sent_at": d.sent_at.isoformat() if d.sent_at else None,
                 "attempt_log": [{"at": a.at.isoformat(), "status_code": a.status_code, "outcome": a.outcome,
                                  "error": a.error, "duration_ms": a.duration_ms} for a in attempts]}
                for d, e, attempts in rows]

    async def replay(self, key: KeyInfo, webhook_id: int, delivery_id: int) -> bool:
        """Send this delivery again, now (whatever became of it); False when it is not this key's."""
        async with self._db.session() as session:
            hook = await self._own(session, key, webhook_id)
            delivery = await callbacks.get_delivery(session, delivery_id)
            if hook is None or delivery is None or delivery.webhook_id != webhook_id:
                return False
            await self._requeue(session, delivery, actor=f"api:{key.name}")
            return True

    # ------------------------------------------------------------ staff-wide (the dashboard's admins)

    async def overview(self, *, deliveries_per_endpoint: int = 20) -> builtins.list[EndpointOverview]:
        """Every key's endpoints (deleted ones aside) with their latest deliveries."""
        result = []
        async with self._db.session() as session:
            for hook, key_name in await api_store.all_webhooks(session):
                rows = await callbacks.deliveries_of_webhook(session, hook.id or 0, limit=deliveries_per_endpoint)
                result.append(EndpointOverview(WebhookInfo.of(hook), key_name, [
                    DeliverySummary(d.id or 0, e.type, d.status, d.attempts, attempts[-1].at if attempts else None,
                                    d.last_status_code) for d, e, attempts in rows]))
        return result

    async def replay_any(self, delivery_id: int, *, actor: str) -> bool:
        """Staff replay any endpoint's delivery; False when there is none (or its endpoint was deleted)."""
        async with self._db.session() as session:
            delivery = await callbacks.get_delivery(session, delivery_id)
            hook = await api_store.get_webhook(session, delivery.webhook_id) if delivery is not None else None
            if delivery is None or hook is None or hook.deleted_at is not None:
                return False
            await self._requeue(session, delivery, actor=actor)
            return True

    async def _requeue(self, session: Any, delivery: CallbackDelivery, *, actor: str) -> None:
        now = self._clock()
        await callbacks.requeue(session, delivery.id, now)  # one being sent needs nothing more
        audit.record_event(session, actor=actor[:64], action="webhook.replayed", subject=str(delivery.id), at=now)
