"""Building the integration API over a test database: services, keys, an httpx client on the ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from bot.app import law_policy
from bot.runtime import Runtime
from bot.settings import Settings
from bot.web_app import api_services
from services.api_keys import ApiRole
from services.api_rate import MemoryRateLimiter, RateLimiter
from services.health import HealthService
from services.privacy import Hasher
from storage.database import Database
from tests.factories import next_mobile, next_national_id
from web.api import ApiServices, install_api
from web.app import WebDeps, create_app

__all__ = ["ApiKit", "api_kit", "law_policy"]

NOW = datetime(2025, 1, 22, 8, 0, tzinfo=UTC)


@dataclass
class ApiKit:
    db: Database
    services: ApiServices
    client: httpx.AsyncClient
    keys: dict[str, str]  # role (or "test") -> key text

    def auth(self, role: str = "ingest") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def runtime_for(db: Database, secret: bytes) -> Runtime:
    return Runtime(settings=Settings(SECRET_KEY=secret.decode(), API_RATE=1000), database=db, hasher=Hasher(secret))


@asynccontextmanager
async def api_kit(db: Database, secret: bytes, *, rate: RateLimiter | None = None,
                  max_body: int | None = None) -> AsyncIterator[ApiKit]:
    services = api_services(runtime_for(db, secret), rate=rate or MemoryRateLimiter(1000))
    if max_body is not None:
        services.max_body = max_body
    app = install_api(create_app(WebDeps(health=HealthService(db))), services)
    keys = {}
    for role in ApiRole:
        keys[role.value], _ = await services.keys.create(f"k-{role.value}", role)
    keys["test"], _ = await services.keys.create("k-test", ApiRole.INGEST, test=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield ApiKit(db, services, client, keys)
    await services.imports.wait()


def citizen(national_id: str | None = None, mobile: str | None = None, **extra: object) -> dict[str, object]:
    return {"national_id": national_id or next_national_id(), "mobile": mobile or next_mobile(),
            "full_name": "مریم رضایی", "district": 5, **extra}


def case(national_id: str, case_number: str, **extra: object) -> dict[str, object]:
    return {"case_number": case_number, "national_id": national_id, "status": "ruling_issued", "district": 5,
            "address": "خیابان آزادی", "violation": "اضافه‌بنا", **extra}


def ruling(national_id: str, case_number: str, ruling_id: str, **extra: object) -> dict[str, object]:
    return {"ruling_id": ruling_id, "case_number": case_number, "national_id": national_id, "commission": "first",
            "kind": "fine", "issued_at": "2025-01-20", "fine_amount_rials": 1250000000, "summary": "جریمه",
            "text": "متن کامل رأی", **extra}
