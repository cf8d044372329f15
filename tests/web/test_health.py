"""/healthz and /readyz through the ASGI app, and `eblagh web` as a subprocess that stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.health import HealthService
from storage.database import Database
from web.app import WebDeps, create_app


def client_for(deps: WebDeps) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(deps)), base_url="http://test")


async def test_healthz_and_readyz_on_a_migrated_database(db: Database) -> None:
    async with client_for(WebDeps(health=HealthService(db))) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_readyz_is_503_until_the_schema_is_migrated(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        async with client_for(WebDeps(health=HealthService(db))) as client:
            ready = await client.get("/readyz")
    finally:
        await db.close()
    assert ready.status_code == 503
    assert "migrations pending" in ready.json()["checks"]["database"]


async def test_readyz_reports_redis(db: Database, redis_url: str) -> None:
    async with client_for(WebDeps(health=HealthService(db, redis_url))) as client:
        assert (await client.get("/readyz")).json()["checks"] == {"database": "ok", "redis": "ok"}
    async with client_for(WebDeps(health=HealthService(db, "redis://127.0.0.1:1/0"))) as client:
        ready = await client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["redis"].startswith("unreachable")


async def test_unknown_paths_get_the_one_error_shape(db: Database) -> None:
    async with client_for(WebDeps(health=HealthService(db))) as client:
        missing = await client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_eblagh_web_serves_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    """Start, a write and a read with a key from `eblagh apikey create`, SIGTERM, exit 0; JSON logs."""
    port = _free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "web-test-secret",
           "WEB_LISTEN": f"127.0.0.1:{port}", "LOG_FORMAT": "json"}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    made = subprocess.run([sys.executable, "-m", "bot.cli", "apikey", "create", "cases", "--role", "ingest"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    assert key.startswith("ebk_live_") and key not in made.stderr
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"eblagh web did not start: {process.communicate()[1]}")
                time.sleep(0.2)
        assert response.status_code == 200
        auth = {"Authorization": f"Bearer {key}"}
        wrote = httpx.post(f"http://127.0.0.1:{port}/v1/citizens", headers=auth, timeout=10,
                           json={"items": [{"national_id": "0012345679", "mobile": "09121234567"}]})
        assert wrote.status_code == 200 and wrote.json()["results"][0]["status"] == "inserted"
        read = httpx.get(f"http://127.0.0.1:{port}/v1/events", headers=auth, timeout=10)
        assert read.status_code == 200 and read.json() == {"events": [], "next": 0}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        logs = process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "eblagh.api"]
    assert any("/v1/citizens 200" in line["message"] and line.get("request_id") for line in access), logs
    assert key not in logs and "0012345679" not in logs and "09121234567" not in logs
