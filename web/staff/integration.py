"""The integration page's view of API keys and webhooks: a small port over the integration API's
services, wired in by the composition root (bot/staff_integration.py). Without it (a test that builds
the dashboard alone) the page says it is not available.
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
    test: bool = False  # a test key's rulings are never sent to a messenger


@dataclass(frozen=True)
class WebhookDeliveryLine:
    id: int
    event: str
    status: str  # queued | sending | sent | failed
    attempts: int
    last_attempt_at: datetime | None
    response_status: int | None


@dataclass(frozen=True)
class WebhookLine:
    id: int
    url: str
    events: tuple[str, ...]
    active: bool
    deliveries: tuple[WebhookDeliveryLine, ...]  # the latest, newest first
    key_name: str = ""  # the API key that registered it


class KeyRefused(ValueError):
    """A key that cannot be made; `reason` is bad_name or exists."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IntegrationPort(Protocol):
    async def keys(self) -> list[ApiKeyLine]: ...
    async def create_key(self, name: str, role: str, *, by: str, test: bool = False) -> str:
        """The new key in full, shown once; raises KeyRefused."""
        ...
    async def revoke_key(self, key_id: int, *, by: str) -> bool: ...
    async def webhooks(self) -> list[WebhookLine]: ...
    async def replay(self, delivery_id: int, *, by: str) -> bool: ...


API_ROLES = ("ingest", "read", "broadcast")
