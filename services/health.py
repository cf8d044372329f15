"""Whether this process can serve: the database answers, its schema is the newest, Redis answers.

`/readyz` reports it; a load balancer sends no traffic to a process that is not ready.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from storage.database import Database, schema_is_current

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0  # seconds: a readiness probe must answer quickly even when a service hangs


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str] = field(default_factory=dict)  # name -> "ok" or what is wrong


class HealthService:
    def __init__(self, db: Database, redis_url: str | None = None) -> None:
        self._db = db
        self._redis_url = redis_url

    async def readiness(self) -> Readiness:
        checks = {"database": await self._check(self._database())}
        if self._redis_url is not None:
            checks["redis"] = await self._check(self._redis())
        return Readiness(all(value == "ok" for value in checks.values()), checks)

    async def _check(self, probe: asyncio.Future[str] | object) -> str:
        try:
            return await asyncio.wait_for(probe, CHECK_TIMEOUT)  # type: ignore[arg-type]
        except TimeoutError:
            return "timeout"
        except Exception as error:  # a probe reports, it never raises
            log.warning("readiness check failed: %s", type(error).__name__)
            return f"unreachable ({type(error).__name__})"

    async def _database(self) -> str:
        return "ok" if await schema_is_current(self._db) else "migrations pending (eblagh db upgrade)"

    async def _redis(self) -> str:
        import redis.asyncio as redis

        assert self._redis_url is not None
        client = redis.Redis.from_url(self._redis_url)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return "ok"
