"""The commission's case system, played end to end against eblagh's integration API.

    python examples/case_system.py            # prints one JSON summary; exit status 0 when all went well

What it does, all on 127.0.0.1 with a fresh database in a temporary folder:
1. starts the loopback Bot API server (`python -m tests.botapi`), `eblagh web` and, later, `eblagh run`;
2. makes a fresh `ingest` key (`eblagh apikey create case-system --role ingest`);
3. as the case system: registers a callback URL (its own small HTTP receiver) for notice.delivered and
   notice.viewed, then pushes a citizen, a case and a ruling over HTTP;
4. as the citizen, in the messenger: /start, the national ID, the phone shared as a contact, then opens
   the ruling's full text;
5. waits for the signed notice.delivered and notice.viewed callbacks, verifies each signature with the
   `standardwebhooks` package, and reads the ruling's status back (`GET /v1/rulings/{id}`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from standardwebhooks import Webhook as Verifier

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.botapi.control import ControlClient  # noqa: E402

NATIONAL_ID, MOBILE, USER = "0012345679", "09121234567", 1001
CASE_NUMBER, RULING_ID = "1403051234", "R-1403-0001"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def eblagh(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.cli", *args]


async def wait_until(check: Any, what: str, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {seconds:.0f}s")
        await asyncio.sleep(0.1)


class Receiver:
    """The case system's callback endpoint: keeps every signed event it is sent."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        async def handle(request: web.Request) -> web.Response:
            self.received.append(({k.lower(): v for k, v in request.headers.items()}, await request.read()))
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/eblagh/callbacks", handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/eblagh/callbacks"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="eblagh-case-system-") as folder:
        tmp = Path(folder)
        processes: list[subprocess.Popen[str]] = []
        receiver = Receiver()
        try:
            botapi = subprocess.Popen([sys.executable, "-m", "tests.botapi"], cwd=ROOT, stdout=subprocess.PIPE,
                                      text=True)
            processes.append(botapi)
            assert botapi.stdout is not None
            fake = json.loads(botapi.stdout.readline())
            web_port = free_port()
            env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEBHOOK_URL", "DATABASE_URL")}
            env.update(DATA_DIR=str(tmp / "data"), DATABASE_URL=f"sqlite:///{tmp / 'eblagh.db'}",
                       SECRET_KEY="case-system-example-secret", BOT_TOKEN=fake["token"],
                       BOT_API_BASE=fake["base_url"], WEB_LISTEN=f"127.0.0.1:{web_port}")
            subprocess.run(eblagh("db", "upgrade"), env=env, cwd=tmp, check=True, capture_output=True)
            made = subprocess.run(eblagh("apikey", "create", "case-system", "--role", "ingest"), env=env, cwd=tmp,
                                  check=True, capture_output=True, text=True)
            key = made.stdout.strip()
            processes.append(subprocess.Popen(eblagh("web"), env=env, cwd=tmp, stderr=subprocess.DEVNULL))
            base = f"http://127.0.0.1:{web_port}"
            await receiver.start()
            async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"},
                                         timeout=30) as api:
                async def up() -> bool:
                    try:
                        return (await api.get("/readyz")).status_code == 200
                    except httpx.TransportError:
                        return False

                await wait_until(up, "eblagh web")
                hook = (await api.post("/v1/webhooks", json={"url": receiver.url,
                                                              "events": ["notice.delivered", "notice.viewed"]})).json()
                pushed = []
                for path, item in (
                    ("/v1/citizens", {"national_id": NATIONAL_ID, "mobile": MOBILE, "full_name": "مریم رضایی",
                                      "district": 5}),
                    ("/v1/cases", {"case_number": CASE_NUMBER, "national_id": NATIONAL_ID, "status": "ruling_issued",
                                   "district": 5, "address": "خیابان آزادی", "violation": "اضافه‌بنا"}),
                    ("/v1/rulings", {"ruling_id": RULING_ID, "case_number": CASE_NUMBER, "national_id": NATIONAL_ID,
                                     "commission": "first", "kind": "fine", "issued_at": "2025-01-20",
                                     "fine_amount_rials": 1250000000, "summary": "جریمهٔ اضافه‌بنا",
                                     "text": "متن کامل رأی کمیسیون ماده ۱۰۰"})):
                    answer = await api.post(path, json={"items": [item]}, headers={"Idempotency-Key": f"push{path}"})
                    answer.raise_for_status()
                    pushed.append(answer.json()["results"][0]["status"])

                processes.append(subprocess.Popen(eblagh("run", "--poll-timeout", "1", "--delivery-interval", "0.2"),
                                                  env=env, cwd=tmp, stderr=subprocess.DEVNULL))
                async with ControlClient(fake["base_url"]) as bot:
                    await bot.add_users([USER])
                    await bot.send_command(USER, "/start")
                    await bot.wait_for_messages(USER, 1, timeout=90)  # eblagh run loads its model first
                    await bot.send_text(USER, NATIONAL_ID)
                    await bot.wait_for_messages(USER, 2, timeout=30)
                    await bot.share_contact(USER, MOBILE)

                    async def card() -> dict[str, Any] | None:
                        for message in await bot.messages(USER):
                            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                                for button in row:
                                    if str(button.get("callback_data", "")).startswith("o:"):
                                        return {"message_id": message["message_id"], "data": button["callback_data"]}
                        return None

                    notice = await wait_until(card, "notice card")
                    await bot.tap(USER, notice["message_id"], notice["data"])

                def kinds() -> list[str]:
                    return [json.loads(body)["type"] for _headers, body in receiver.received]

                async def both() -> bool:
                    return {"notice.delivered", "notice.viewed"} <= set(kinds())

                await wait_until(both, "notice.delivered and notice.viewed callbacks")
                events = [Verifier(hook["secret"]).verify(body, headers) for headers, body in receiver.received]
                # Callbacks are sent concurrently and retried: a receiver orders them by when they happened.
                events.sort(key=lambda e: (e["occurred_at"], e["id"]))
                status = (await api.get(f"/v1/rulings/{RULING_ID}")).json()
            summary = {"pushed": pushed, "callbacks": [e["type"] for e in events],
                       "signatures_verified": len(events), "ruling_id": events[0]["ruling_id"],
                       "notice": {k: status["notices"][0][k] for k in ("platform", "status", "service_kind",
                                                                         "appeal_deadline")}}
            print(json.dumps(summary, ensure_ascii=False))
            ok = (pushed == ["inserted", "inserted", "inserted"] and status["notices"][0]["status"] == "viewed"
                  and all(e["ruling_id"] == RULING_ID for e in events))
            return 0 if ok else 1
        finally:
            await receiver.stop()
            for process in reversed(processes):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
