"""The integration API (/v1): one router per area, given its services through `WebDeps.extra["api"]`.

`install_api(app, services)` adds the routers, the middleware (request id, body limit, metrics, access
log) and /metrics, /v1/openapi.json, /v1/docs to an app made by `web.app.create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI

from web.api import broadcasts, imports, ops, reads, webhooks, writes
from web.api.deps import ApiServices

__all__ = ["ApiServices", "install_api"]


def install_api(app: FastAPI, services: ApiServices) -> FastAPI:
    app.state.deps.extra["api"] = services
    for module in (writes, imports, reads, broadcasts, webhooks):
        app.include_router(module.build_router())
    app.include_router(ops.build_router(services.metrics))
    app.add_middleware(ops.ApiMiddleware, metrics=services.metrics, max_body=services.max_body,
                       max_upload=services.max_upload)
    return app
