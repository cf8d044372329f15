"""The dashboard's integration page (web/staff/integration.py) over the integration API's services.

Staff are admins here: they see every key's webhooks, not one key's as /v1 does. Every action is
recorded in the audit log by the services, with the staff member as actor (`staff:<username>`).
"""

from __future__ import annotations

from services.api_keys import ApiKeyService, ApiRole, KeyProblem
from services.webhooks import WebhookService
from web.staff.integration import ApiKeyLine, KeyRefused, WebhookDeliveryLine, WebhookLine

DELIVERIES_SHOWN = 20  # per endpoint; /v1/webhooks/{id}/deliveries has the rest


class StaffIntegration:
    def __init__(self, keys: ApiKeyService, webhooks: WebhookService) -> None:
        self._keys = keys
        self._webhooks = webhooks

    async def keys(self) -> list[ApiKeyLine]:
        return [ApiKeyLine(k.id, k.name, k.role.value, k.prefix, k.created_at, k.last_used_at, k.revoked_at, k.test)
                for k in await self._keys.list()]

    async def create_key(self, name: str, role: str, *, by: str, test: bool = False) -> str:
        try:
            text, _ = await self._keys.create(name, ApiRole(role), test=test, actor=by)
        except KeyProblem as problem:
            raise KeyRefused(problem.code) from problem
        except ValueError as problem:  # not a role
            raise KeyRefused("bad_role") from problem
        return text

    async def revoke_key(self, key_id: int, *, by: str) -> bool:
        return await self._keys.revoke_id(key_id, actor=by)

    async def webhooks(self) -> list[WebhookLine]:
        return [WebhookLine(o.webhook.id, o.webhook.url, tuple(o.webhook.events), o.webhook.active,
                            tuple(WebhookDeliveryLine(d.id, d.event_type, d.status, d.attempts, d.last_attempt_at,
                                                      d.last_status_code) for d in o.deliveries),
                            key_name=o.key_name)
                for o in await self._webhooks.overview(deliveries_per_endpoint=DELIVERIES_SHOWN)]

    async def replay(self, delivery_id: int, *, by: str) -> bool:
        return await self._webhooks.replay_any(delivery_id, actor=by)
