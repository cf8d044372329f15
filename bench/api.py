"""Integration API benchmark: rulings accepted per second over HTTP in batches of 100, and the p99 of a
status read (`GET /v1/rulings/{id}`) under that load; one JSON object.

    python bench/api.py [--rulings 10000] [--concurrency 4] [--database-url postgresql://...]

By default a fresh PostgreSQL database is made on 127.0.0.1 (and dropped afterwards); `eblagh web` serves
it in a subprocess (one uvicorn process), the load comes from this one. Citizens and cases are pushed
first (not timed); then `concurrency` writers post batches of 100 new rulings while one reader keeps
asking for the status of rulings already accepted. Target: >= 2,000 rulings/s on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import national_id_from  # noqa: E402

BATCH = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def load(base: str, key: str, rulings: int, concurrency: int, citizens: int) -> dict[str, Any]:
    rng = random.Random(1403)
    people = [national_id_from(f"{100000000 + i:09d}") for i in range(citizens)]
    limits = httpx.Limits(max_connections=concurrency + 2)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60,
                                 limits=limits) as api:
        for start in range(0, citizens, 1000):
            chunk = people[start:start + 1000]
            (await api.post("/v1/citizens", json={"items": [
                {"national_id": nid, "mobile": f"0912{i:07d}", "full_name": "شهروند"} for i, nid in
                enumerate(chunk, start)]})).raise_for_status()
            (await api.post("/v1/cases", json={"items": [
                {"case_number": f"C{i}", "national_id": nid, "status": "ruling_issued"} for i, nid in
                enumerate(chunk, start)]})).raise_for_status()
        accepted: list[str] = []
        batch_seconds: list[float] = []
        read_seconds: list[float] = []
        batches = iter(range(rulings // BATCH))
        done = asyncio.Event()

        async def writer() -> None:
            for number in batches:
                items = []
                for j in range(BATCH):
                    i = rng.randrange(citizens)
                    items.append({"ruling_id": f"R-{number}-{j}", "case_number": f"C{i}", "national_id": people[i],
                                  "commission": "first", "kind": "fine", "issued_at": "2025-01-20",
                                  "fine_amount_rials": 1250000000, "summary": "جریمه", "text": "متن کامل رأی"})
                started = time.perf_counter()
                answer = await api.post("/v1/rulings", json={"items": items})
                batch_seconds.append(time.perf_counter() - started)
                answer.raise_for_status()
                results = answer.json()["results"]
                assert all(r["status"] == "inserted" for r in results), results[:3]
                accepted.extend(r["id"] for r in results[:5])

        async def reader() -> None:
            while not done.is_set():
                if not accepted:
                    await asyncio.sleep(0.01)
                    continue
                started = time.perf_counter()
                answer = await api.get(f"/v1/rulings/{rng.choice(accepted)}")
                read_seconds.append(time.perf_counter() - started)
                answer.raise_for_status()

        reading = asyncio.create_task(reader())
        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
        done.set()
        await reading
    total = len(batch_seconds) * BATCH
    return {"rulings": total, "seconds": round(seconds, 3), "rulings_per_second": round(total / seconds, 1),
            "batch_p50_ms": round(percentile(batch_seconds, 0.5) * 1000, 1),
            "batch_p99_ms": round(percentile(batch_seconds, 0.99) * 1000, 1),
            "status_reads": len(read_seconds),
            "status_read_p50_ms": round(percentile(read_seconds, 0.5) * 1000, 1),
            "status_read_p99_ms": round(percentile(read_seconds, 0.99) * 1000, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rulings", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--citizens", type=int, default=2_000)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a fresh one on 127.0.0.1)")
    args = parser.parse_args()
    made = None
    url = args.database_url
    if url is None:
        made = f"eblagh_bench_api_{uuid.uuid4().hex[:8]}"
        asyncio.run(pg_admin(f'CREATE DATABASE "{made}"'))
        url = f"postgresql://postgres@127.0.0.1:5432/{made}"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=url, SECRET_KEY="bench-api-secret", WEB_LISTEN=f"127.0.0.1:{port}", API_RATE="100000",
               DATA_DIR=str(Path("/tmp") / f"eblagh-bench-api-{port}"))
    server = None
    try:
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
        key = subprocess.run([sys.executable, "-m", "bot.cli", "apikey", "create", "bench", "--role", "ingest"],
                             env=env, check=True, capture_output=True, text=True).stdout.strip()
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "web"], env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        result = asyncio.run(load(base, key, args.rulings, args.concurrency, args.citizens))
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        if made is not None:
            asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)'))
    print(json.dumps({"benchmark": "api", "database": "postgresql", "batch": BATCH,
                      "concurrency": args.concurrency, **result, "target_rulings_per_second": 2000}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
