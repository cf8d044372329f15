"""Prometheus metrics of one process: a registry passed in (never the global one), so tests and
several apps in one process do not collide, and other parts (the delivery engine) can add theirs.

`GET /metrics` on the web side serves `registry`; `eblagh run` / `eblagh worker` may serve theirs on
`--metrics-listen` (left to the engine's branch).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.api_requests = Counter("eblagh_api_requests", "API requests by route and status",
                                    ["method", "route", "status"], registry=self.registry)
        self.api_latency = Histogram("eblagh_api_request_seconds", "API request latency by route",
                                     ["route"], registry=self.registry,
                                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.callback_attempts = Counter("eblagh_callback_attempts", "callback attempts by outcome",
                                         ["outcome"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
