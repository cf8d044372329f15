"""Scraping `--metrics-listen` in tests: GET /metrics over HTTP, parsed with prometheus_client's own parser."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(listen: str) -> Samples:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"http://{listen}/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series is absent (a counter that has not moved yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
