"""The dashboard's integration page over the real integration API: an admin makes a key (shown once), the
key works on /v1 until it is revoked there, every key's webhooks show with their deliveries, a delivery is
replayed to a real local receiver; operators and viewers are refused; every action is audited."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web_app import api_services
from services.api_rate import MemoryRateLimiter
from services.privacy import Hasher
from services.staff_accounts import Role
from storage import citizens
from storage.database import Database
from tests.factories import create_citizen
from tests.web.callback_kit import CallbackEngine
from tests.web.staff.kit import Dashboard, add_staff, build_dashboard, csrf_of, sign_in
from tests.web.test_callbacks import receiver
from web.api import install_api


@dataclass
class Both:
    dash: Dashboard
    staff: httpx.AsyncClient  # signed in as admin1
    api: httpx.AsyncClient  # no cookies: /v1 as the case system calls it


@asynccontextmanager
async def dashboard_and_api(db: Database, secret: bytes) -> AsyncIterator[Both]:
    """One app with /staff and /v1, as `eblagh web` serves them, on one database and one clock."""
    dash = build_dashboard(db, secret)
    runtime = Runtime(settings=Settings(_env_file=None, SECRET_KEY=secret.decode()), database=db,
                      hasher=Hasher(secret))
    install_api(dash.app, api_services(runtime, clock=dash.clock, rate=MemoryRateLimiter(1000)))
    for role in Role:
        await add_staff(dash, f"{role.value}1", role)
    async with dash.client() as staff, dash.client() as api:
        assert (await sign_in(staff, dash, "admin1")).status_code == 303
        yield Both(dash, staff, api)


async def create_key(both: Both, name: str, role: str = "read", **extra: str) -> httpx.Response:
    return await both.staff.post("/staff/integration/keys",
                                 data={"name": name, "role": role, "csrf_token": await csrf_of(both.staff), **extra})


def shown_key(html: str) -> str:
    found = re.search(r'id="new-key-text">(ebk_[A-Za-z0-9_-]+)<', html)
    assert found, "the new key is not on the page"
    return found.group(1)


def key_id_of(html: str, name: str) -> int:
    found = re.search(rf'<tr id="key-(\d+)"><td>{re.escape(name)}[ <]', html)
    assert found, f"no row for key {name}"
    return int(found.group(1))


async def audited(dash: Dashboard, action: str) -> list[tuple[str, str]]:
    return [(line.actor, line.subject) for line in (await dash.services.audit.page(action=action)).lines]


async def test_a_key_made_on_the_page_works_on_v1_until_revoked_there(db: Database, secret: bytes) -> None:
    async with dashboard_and_api(db, secret) as both:
        made = await create_key(both, "case-system", "ingest")
        assert made.status_code == 200
        key = shown_key(made.text)
        assert key.startswith("ebk_live_") and made.text.count(key) == 1
        assert "فقط همین یک بار" in made.text

        page = await both.staff.get("/staff/integration")
        assert key not in page.text and key[:13] + "…" in page.text  # afterwards only its beginning
        assert 'id="new-key"' not in page.text
        assert "ثبت داده و خواندن" in page.text and "آزمایشی</span>" not in page.text

        bearer = {"Authorization": f"Bearer {key}"}
        assert (await both.api.get("/v1/webhooks", headers=bearer)).status_code == 200
        assert (await both.api.get("/v1/events", headers=bearer)).status_code == 200
        both.dash.clock.advance(minutes=5)
        used = await both.staff.get("/staff/integration")
        row = re.search(r'<tr id="key-\d+"><td>case-system.*?</tr>', used.text, re.S)
        assert row and row.group(0).count("—") == 0  # last used is filled in now

        key_id = key_id_of(used.text, "case-system")
        revoked = await both.staff.post(f"/staff/integration/keys/{key_id}/revoke",
                                        data={"csrf_token": await csrf_of(both.staff)})
        assert revoked.status_code == 303 and revoked.headers["location"] == "/staff/integration?done=revoked"
        assert (await both.api.get("/v1/webhooks", headers=bearer)).status_code == 401
        after = await both.staff.get(revoked.headers["location"])
        assert "باطل‌شده" in after.text and "کلید باطل شد" in after.text
        assert f"/staff/integration/keys/{key_id}/revoke" not in after.text  # nothing left to revoke
        again = await both.staff.post(f"/staff/integration/keys/{key_id}/revoke",
                                      data={"csrf_token": await csrf_of(both.staff)})
        assert again.headers["location"] == "/staff/integration"  # already revoked: not audited twice

        test_key = shown_key((await create_key(both, "sandbox", "read", test="1")).text)
        assert test_key.startswith("ebk_test_")
        listed = (await both.staff.get("/staff/integration")).text
        assert re.search(r"<td>sandbox <span class=\"badge pending\"[^>]*>آزمایشی</span>", listed)

        duplicate = await create_key(both, "sandbox", "read")
        assert duplicate.status_code == 400 and "پیش‌تر ساخته شده" in duplicate.text
        assert 'id="new-key"' not in duplicate.text
        assert (await create_key(both, "x", "root")).status_code == 400
        assert (await create_key(both, "   ", "read")).status_code == 400

        assert await audited(both.dash, "apikey.created") == [("staff:admin1", "sandbox"),
                                                              ("staff:admin1", "case-system")]
        assert await audited(both.dash, "apikey.revoked") == [("staff:admin1", "case-system")]


async def bind_a_chat(db: Database, secret: bytes, dash: Dashboard, chat_id: int = 5001) -> None:
    """A citizen logs in on a chat: a citizen.bound event for every endpoint subscribed to it."""
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret))
        await citizens.bind_chat(session, citizen.id or 0, "telegram", chat_id, chat_id, dash.clock())


async def test_every_keys_webhooks_show_with_their_deliveries_and_a_replay_sends_again(
        db: Database, secret: bytes) -> None:
    async with dashboard_and_api(db, secret) as both, receiver([410]) as hook:
        keys = {name: shown_key((await create_key(both, name)).text) for name in ("system-a", "system-b")}
        registered = await both.api.post("/v1/webhooks", json={"url": hook.url, "events": ["citizen.bound"]},
                                         headers={"Authorization": f"Bearer {keys['system-a']}"})
        assert registered.status_code == 201, registered.text
        other = await both.api.post("/v1/webhooks", json={"url": "https://b.example/hook", "events": ["notice.viewed"]},
                                    headers={"Authorization": f"Bearer {keys['system-b']}"})
        assert other.status_code == 201
        hook_id = registered.json()["id"]

        empty = (await both.staff.get("/staff/integration")).text
        assert hook.url in empty and "https://b.example/hook" in empty  # staff see every key's endpoints
        assert "system-b" in empty and empty.count("هنوز رویدادی") == 2

        await bind_a_chat(db, secret, both.dash)
        runner = CallbackEngine(db, both.dash.clock)
        try:
            assert (await runner.run_once()).failed == 1  # 410: final, until someone replays it
            page = (await both.staff.get("/staff/integration")).text
            section = re.search(rf'<section class="card hook" id="hook-{hook_id}".*?</section>', page, re.S)
            assert section, "the endpoint is not on the page"
            row = re.search(r'<tr id="delivery-(\d+)">(.*?)</tr>', section.group(0), re.S)
            assert row, "no delivery listed"
            delivery_id, cells = int(row.group(1)), row.group(2)
            assert "citizen.bound" in cells and "ناموفق" in cells and "۴۱۰" in cells and ">۱<" in cells
            assert "۱۴۰۳" in cells  # the last attempt, Jalali (the clock is in Esfand 1403)

            replayed = await both.staff.post(f"/staff/integration/deliveries/{delivery_id}/replay",
                                             data={"csrf_token": await csrf_of(both.staff)})
            assert replayed.status_code == 303 and replayed.headers["location"] == "/staff/integration?done=replayed"
            queued = (await both.staff.get(replayed.headers["location"])).text
            assert "ارسال دوباره در صف قرار گرفت" in queued
            assert re.search(rf'<tr id="delivery-{delivery_id}">.*?در صف', queued, re.S)

            assert (await runner.run_once()).sent == 1  # the new attempt, answered 200
        finally:
            await runner.close()
        assert len(hook.seen) == 2
        sent = (await both.staff.get("/staff/integration")).text
        cells = re.search(rf'<tr id="delivery-{delivery_id}">(.*?)</tr>', sent, re.S)
        assert cells and "رسید" in cells.group(1) and "۲۰۰" in cells.group(1) and ">۲<" in cells.group(1)
        # the case system sees the same through its own key
        log = (await both.api.get(f"/v1/webhooks/{hook_id}/deliveries",
                                  headers={"Authorization": f"Bearer {keys['system-a']}"})).json()["deliveries"]
        assert [a["status_code"] for a in log[0]["attempt_log"]] == [410, 200]

        unknown = await both.staff.post("/staff/integration/deliveries/999999/replay",
                                        data={"csrf_token": await csrf_of(both.staff)})
        assert unknown.status_code == 404 and "پیدا نشد" in unknown.text
        assert await audited(both.dash, "webhook.replayed") == [("staff:admin1", str(delivery_id))]


async def test_operators_and_viewers_are_refused_and_posts_need_the_csrf_token(
        sqlite_db: Database, secret: bytes) -> None:
    async with dashboard_and_api(sqlite_db, secret) as both:
        key = shown_key((await create_key(both, "kept")).text)
        key_id = key_id_of((await both.staff.get("/staff/integration")).text, "kept")
        for username in ("operator1", "viewer1"):
            async with both.dash.client() as client:
                await sign_in(client, both.dash, username)
                token = await csrf_of(client)
                assert (await client.get("/staff/integration")).status_code == 403
                for path in ("/staff/integration/keys", f"/staff/integration/keys/{key_id}/revoke",
                             "/staff/integration/deliveries/1/replay"):
                    refused = await client.post(path, data={"name": "mine", "role": "broadcast", "csrf_token": token})
                    assert refused.status_code == 403, (username, path)

        no_token = await both.staff.post("/staff/integration/keys", data={"name": "sneaky", "role": "broadcast"})
        assert no_token.status_code == 403
        wrong = await both.staff.post(f"/staff/integration/keys/{key_id}/revoke", data={"csrf_token": "nope"})
        assert wrong.status_code == 403
        assert (await both.staff.post("/staff/integration/deliveries/1/replay")).status_code == 403

        port = both.dash.services.integration
        assert port is not None and [k.name for k in await port.keys()] == ["kept"]
        assert (await both.api.get("/v1/events", headers={"Authorization": f"Bearer {key}"})).status_code == 200
        assert await audited(both.dash, "apikey.revoked") == []
