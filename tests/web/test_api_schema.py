"""A schemathesis run over /v1/openapi.json against `eblagh web`: no 500 on any generated input.

Bounded in time: a few examples per operation, over HTTP to a real server (SQLite, a broadcast key so
every operation is reachable, a high API_RATE so 429s do not hide the handlers).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

KEY: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    tmp = tmp_path_factory.mktemp("schemathesis")
    port = _free_port()
    env = {**os.environ, "DATA_DIR": str(tmp / "data"), "SECRET_KEY": "schema-test-secret",
           "WEB_LISTEN": f"127.0.0.1:{port}", "API_RATE": "100000"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    made = subprocess.run([sys.executable, "-m", "bot.cli", "apikey", "create", "fuzz", "--role", "broadcast"],
                          env=env, cwd=tmp, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    KEY["auth"] = f"Bearer {made.stdout.strip()}"
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, cwd=tmp,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"eblagh web did not start: {process.communicate()[1]}")
                time.sleep(0.2)
        schema = schemathesis.openapi.from_url(f"{base}/v1/openapi.json")
        schema.config.update(base_url=base)
        yield schema
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_generated_input_gets_a_500(api_schema: schemathesis.BaseSchema) -> None:
    checked: list[str] = []
    statuses: list[int] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_500(case: schemathesis.Case) -> None:
            response = case.call(headers={"Authorization": KEY["auth"]}, timeout=30)
            statuses.append(response.status_code)
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:500])

        no_500()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 14, checked
    assert len(statuses) >= 3 * len(checked) and {200, 422} <= set(statuses), sorted(set(statuses))
