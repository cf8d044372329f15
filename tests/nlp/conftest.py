"""The intent model is trained once per test session, into a session-wide cache directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp import IntentModel


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nlp-cache")


@pytest.fixture(scope="session")
def model(model_cache: Path) -> IntentModel:
    return IntentModel.load(model_cache)
