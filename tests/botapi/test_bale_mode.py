"""The fake Bot API in Bale mode, through raw HTTP: what differs from its Telegram mode."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from aiohttp import ClientSession, web

from tests.botapi import FakeBotAPI
from tests.botapi.bale import BaleOptions, RateLimitForm
from tests.botapi.limits import Limits


async def call(api: FakeBotAPI, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    async with ClientSession() as http, http.post(f"{api.base_url}/bot{api.token}/{method}", json=params) as r:
        return r.status, await r.json()


async def test_text_is_kept_as_sent_and_parse_mode_ignored() -> None:
    async with FakeBotAPI(platform="bale") as api:
        api.add_user(1)
        status, body = await call(api, "sendMessage", chat_id=1, text="<b>x</b> &amp; *y*", parse_mode="HTML")
        assert status == 200 and body["result"]["text"] == "<b>x</b> &amp; *y*"
        assert api.last(1).parse_mode is None and api.last(1).entities == []


async def test_unknown_chat_commands_menu_and_rate_limits() -> None:
    async with FakeBotAPI(platform="bale", limits=Limits(chat_per_second=1),
                          bale_options=BaleOptions(rate_limit=RateLimitForm.LOCAL)) as api:
        api.add_user(1)
        assert await call(api, "sendMessage", chat_id=5, text="x") == (
            400, {"ok": False, "error_code": 400, "description": "no such group or user"})
        assert (await call(api, "setMyCommands", commands=[{"command": "start", "description": "x"}]))[0] == 404
        await call(api, "sendMessage", chat_id=1, text="1")
        status, body = await call(api, "sendMessage", chat_id=1, text="2")
        assert (status, body["description"], "parameters" in body) == (400, "local_rate_limited", False)
    async with FakeBotAPI(platform="bale", limits=Limits(chat_per_second=1)) as api:
        api.add_user(1)
        await call(api, "sendMessage", chat_id=1, text="1")
        status, body = await call(api, "sendMessage", chat_id=1, text="2")
        assert status == 429 and "parameters" not in body  # no retry_after


async def test_get_updates_honours_offset_and_limit_only() -> None:
    async with FakeBotAPI(platform="bale") as api:
        api.add_user(1)
        started = time.monotonic()
        assert (await call(api, "getUpdates", timeout=5))[1]["result"] == []
        assert time.monotonic() - started < 2  # no long poll
        first, second = api.send_text(1, "a"), api.send_text(1, "b")
        _, body = await call(api, "getUpdates", limit=1, allowed_updates=["callback_query"])
        assert [u["update_id"] for u in body["result"]] == [first["update_id"]]  # allowed_updates ignored
        _, body = await call(api, "getUpdates", offset=second["update_id"])
        assert [u["update_id"] for u in body["result"]] == [second["update_id"]]


async def test_webhooks_carry_no_secret_header_and_taps_no_chat_instance() -> None:
    got: list[tuple[dict[str, Any], str | None]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append((await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with FakeBotAPI(platform="bale") as api:
            api.add_user(1)
            await call(api, "sendMessage", chat_id=1, text="x",
                       reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "o:1"}]]})
            assert (await call(api, "setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="s3cret"))[0] == 200
            api.tap(1, api.last(1).message_id, "o:1")
            api.share_contact(1, "09121234567", contact_user_id=None, phone_as_number=True, forwarded=True)
            for _ in range(100):
                if len(got) == 2:
                    break
                await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    (tap, tap_header), (contact, _) = got
    assert tap_header is None and "chat_instance" not in tap["callback_query"]
    message = contact["message"]
    assert message["contact"] == {"phone_number": 9121234567, "first_name": "شهروند 1"}
    assert message["forward_from"]["id"] == 777_000 and "forward_origin" not in message


async def test_standalone_server_plays_bale() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.botapi", "--platform", "bale", "--bale-rate-limit", "bot limit exceed",
        stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        info = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        async with ClientSession() as http, http.post(
                f"{info['base_url']}/bot{info['token']}/setMyCommands", json={"commands": []}) as response:
            assert response.status == 404
    finally:
        process.terminate()
        await process.wait()
