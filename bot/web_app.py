"""Composition of the web side: settings and runtime -> WebDeps -> the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from bot.runtime import Runtime
from bot.staff_wiring import staff_services
from services.health import HealthService
from web.app import WebDeps, WebSettings, create_app
from web.staff import build_staff_router, staff_extras


def web_deps(runtime: Runtime) -> WebDeps:
    settings = runtime.settings
    web_settings = WebSettings(api_rate=settings.api_rate, secure_cookies=settings.web_secure_cookies)
    return WebDeps(health=HealthService(runtime.database, settings.redis_url), settings=web_settings,
                   extra=staff_extras(staff_services(runtime, secure_cookies=web_settings.secure_cookies)))


def build_web_app(runtime: Runtime) -> FastAPI:
    return create_app(web_deps(runtime), [build_staff_router()])
