"""Composition of the web side: settings and runtime -> WebDeps -> the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from bot.runtime import Runtime
from services.health import HealthService
from web.app import WebDeps, WebSettings, create_app


def web_deps(runtime: Runtime) -> WebDeps:
    settings = runtime.settings
    return WebDeps(health=HealthService(runtime.database, settings.redis_url),
                   settings=WebSettings(api_rate=settings.api_rate))


def build_web_app(runtime: Runtime) -> FastAPI:
    return create_app(web_deps(runtime))
