"""`create_app(deps)`: the FastAPI application, with one router per area.

Shared needs reach path functions as dependencies (`WebDeps` on `request.app.state`), so tests build
their own app on their own database. Errors have one shape everywhere (web/errors.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from services.clock import Clock, system_clock
from services.health import HealthService
from web.errors import install_error_handlers


@dataclass(frozen=True)
class WebSettings:
    """What the web side needs of the settings (bot/settings.py maps the environment onto it)."""

    api_rate: float = 50.0  # requests a second per API key
    secure_cookies: bool = False  # set when served behind HTTPS


@dataclass
class WebDeps:
    """Everything a request may need; built once per process by bot/commands/web.py or a test."""

    health: HealthService
    settings: WebSettings = field(default_factory=WebSettings)
    clock: Clock = system_clock
    extra: dict[str, object] = field(default_factory=dict)  # services added by later areas


def deps_of(request: Request) -> WebDeps:
    deps: WebDeps = request.app.state.deps
    return deps


def create_app(deps: WebDeps, routers: Sequence[APIRouter] = ()) -> FastAPI:
    app = FastAPI(title="eblagh", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.deps = deps
    install_error_handlers(app)
    app.include_router(_operations_router())
    for router in routers:
        app.include_router(router)
    return app


def _operations_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Database and Redis reachable, migrations current")
    async def readyz(request: Request) -> JSONResponse:
        readiness = await deps_of(request).health.readiness()
        return JSONResponse({"status": "ok" if readiness.ready else "not ready", "checks": readiness.checks},
                            status_code=200 if readiness.ready else 503)

    return router
