"""Prometheus metrics of one process: a registry passed in (never the global one), so tests and
several apps in one process do not collide, and other parts (the delivery engine) can add theirs.

`GET /metrics` on the web side serves `registry`. `eblagh run` and `eblagh worker` have a registry of
their own (services/process_metrics.py), served on `--metrics-listen`. Names shared by both are made
here, once.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "callback_attempts"]


def callback_attempts(registry: CollectorRegistry) -> Counter:
    """Callback attempts by outcome (ok, retry, permanent): counted by the callback lane's sender."""
    return Counter("eblagh_callback_attempts", "callback attempts by outcome", ["outcome"], registry=registry)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.api_requests = Counter("eblagh_api_requests", "API requests by route and status",
                                    ["method", "route", "status"], registry=self.registry)
        self.api_latency = Histogram("eblagh_api_request_seconds", "API request latency by route",
                                     ["route"], registry=self.registry,
                                     buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.callback_attempts = callback_attempts(self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
