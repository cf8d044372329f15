"""The integration page's view of API keys and webhooks: a small port the integration API's services
satisfy once they are wired in (bot/web_app.py). Until then the page says it is not available yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ApiKeyLine:
    id: int
    name: str
    role: str
    prefix: str  # the key's public beginning, to recognise it
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class WebhookDeliveryLine:
    id: int
    event: str
    status: str  # delivered | failed | pending
    attempts: int
    last_attempt_at: datetime | None
    response_status: int | None


@dataclass(frozen=True)
class WebhookLine:
    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    deliveries: tuple[WebhookDeliveryLine, ...]


class IntegrationPort(Protocol):
    async def keys(self) -> list[ApiKeyLine]: ...
    async def create_key(self, name: str, role: str, *, by: str) -> str:
        """The new key in full, shown once."""
        ...
    async def revoke_key(self, key_id: int, *, by: str) -> bool: ...
    async def webhooks(self) -> list[WebhookLine]: ...
    async def replay(self, delivery_id: int, *, by: str) -> bool: ...


API_ROLES = ("ingest", "read", "broadcast")
