"""Composition of the web side: settings and runtime -> WebDeps -> the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from bot.app import law_policy
from bot.runtime import Runtime
from bot.staff_wiring import staff_services
from services.api_keys import ApiKeyService
from services.api_rate import MemoryRateLimiter, RateLimiter
from services.api_reads import RulingReader
from services.api_writes import IngestService
from services.broadcasts import BroadcastService
from services.clock import Clock, system_clock
from services.events import EventFeed
from services.health import HealthService
from services.idempotency import IdempotencyService
from services.import_jobs import ImportJobs
from services.metrics import Metrics
from services.webhooks import WebhookService
from web.api import ApiServices, install_api
from web.app import WebDeps, WebSettings, create_app
from web.staff import build_staff_router, staff_extras


def web_deps(runtime: Runtime) -> WebDeps:
    settings = runtime.settings
    web_settings = WebSettings(api_rate=settings.api_rate, secure_cookies=settings.web_secure_cookies)
    return WebDeps(health=HealthService(runtime.database, settings.redis_url), settings=web_settings,
                   extra=staff_extras(staff_services(runtime, secure_cookies=web_settings.secure_cookies)))


def api_services(runtime: Runtime, *, clock: Clock = system_clock, metrics: Metrics | None = None,
                 rate: RateLimiter | None = None) -> ApiServices:
    """The integration API's services over this runtime's database (the rate shared through Redis when set)."""
    db, settings = runtime.database, runtime.settings
    if rate is None:
        if settings.redis_url:
            import redis.asyncio as redis

            from storage.redis_api_rate import RedisRateLimiter

            rate = RedisRateLimiter(redis.Redis.from_url(settings.redis_url), settings.api_rate)
        else:
            rate = MemoryRateLimiter(settings.api_rate)
    return ApiServices(keys=ApiKeyService(db, clock), ingest=IngestService(db, runtime.hasher, clock),
                       reads=RulingReader(db, law_policy(runtime), clock), events=EventFeed(db),
                       webhooks=WebhookService(db, clock), broadcasts=BroadcastService(db, clock),
                       idempotency=IdempotencyService(db, clock), imports=ImportJobs(db, runtime.hasher, clock),
                       rate=rate, metrics=metrics or Metrics())


def build_web_app(runtime: Runtime) -> FastAPI:
    app = create_app(web_deps(runtime), [build_staff_router()])
    return install_api(app, api_services(runtime))
