"""Tests that restart the PostgreSQL server run after every other test of the session."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "restarts_postgres: restarts the PostgreSQL server; runs last")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("restarts_postgres") is not None)  # stable: the rest keep their order
