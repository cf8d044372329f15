"""What the integration API's path functions are given: its services, and the authenticated key.

`ApiServices` is built by the composition root (bot/web_app.py) or a test and put in
`WebDeps.extra["api"]`. `require(role)` is the one permission check, declared by every /v1 route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api_keys import ApiKeyService, ApiRole, KeyInfo, role_allows
from services.api_rate import RateLimiter, retry_after_header
from services.api_reads import RulingReader
from services.api_writes import IngestService
from services.broadcasts import BroadcastService
from services.events import EventFeed
from services.idempotency import IdempotencyService
from services.import_jobs import ImportJobs
from services.metrics import Metrics
from services.webhooks import WebhookService
from web.app import deps_of


@dataclass
class ApiServices:
    keys: ApiKeyService
    ingest: IngestService
    reads: RulingReader
    events: EventFeed
    webhooks: WebhookService
    broadcasts: BroadcastService
    idempotency: IdempotencyService
    imports: ImportJobs
    rate: RateLimiter
    metrics: Metrics
    max_body: int = 10 * 1024 * 1024  # bytes of a request body; more is 413
    max_upload: int = 100 * 1024 * 1024  # bytes of an import file (POST /v1/imports)


def api_of(request: Request) -> ApiServices:
    services = deps_of(request).extra["api"]
    assert isinstance(services, ApiServices)
    return services


def problem(status: int, message: str, message_fa: str, code: str | None = None,
            headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status, {"message": message, "message_fa": message_fa, "code": code}, headers=headers)


_bearer = HTTPBearer(auto_error=False, description="An API key from `eblagh apikey create`")


async def api_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> KeyInfo:
    services = api_of(request)
    key = await services.keys.authenticate(credentials.credentials) if credentials is not None else None
    if key is None:
        raise problem(401, "a valid API key is needed: Authorization: Bearer KEY", "کلید API معتبر لازم است",
                      headers={"WWW-Authenticate": "Bearer"})
    request.state.api_key_name = key.name
    wait = await services.rate.take(str(key.id))
    if wait > 0:
        raise problem(429, "too many requests for this key; retry after Retry-After seconds",
                      "درخواست‌های این کلید بیش از حد مجاز است؛ کمی بعد دوباره بفرستید",
                      headers={"Retry-After": retry_after_header(wait)})
    return key


def require(role: ApiRole) -> Callable[..., Awaitable[KeyInfo]]:
    """The authenticated key, if its role allows `role`'s endpoints (403 otherwise)."""

    async def allowed(key: KeyInfo = Depends(api_key)) -> KeyInfo:
        if not role_allows(key.role, role):
            raise problem(403, f"this key's role ({key.role.value}) may not do this; it needs {role.value}",
                          "نقش این کلید اجازهٔ این کار را نمی‌دهد")
        return key

    allowed.__name__ = f"require_{role.value}"
    return allowed
