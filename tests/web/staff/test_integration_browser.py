"""The integration page in Debian's Chromium (see test_browser.py): an admin makes a key from the form and
sees it once, the case system registers webhooks with it, their deliveries show, and a replay is queued.
Screenshots go to tests/artifacts/ (dashboard-integration-*.png), on a desktop and a phone width."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

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
from tests.web.staff.kit import PASSWORD, add_staff, build_dashboard
from tests.web.staff.test_browser import browser, serving, shot, sign_in  # noqa: F401  (browser: a fixture)
from tests.web.test_callbacks import receiver
from web.api import install_api


async def test_keys_and_webhooks_on_the_integration_page(sqlite_db: Database, secret: bytes,
                                                         browser: Any) -> None:  # noqa: F811
    dash = build_dashboard(sqlite_db, secret, real_clock=True)
    now = lambda: datetime.now(UTC)  # noqa: E731
    runtime = Runtime(settings=Settings(_env_file=None, SECRET_KEY=secret.decode()), database=sqlite_db,
                      hasher=Hasher(secret))
    install_api(dash.app, api_services(runtime, clock=now, rate=MemoryRateLimiter(1000)))
    admin = await add_staff(dash, "admin1", Role.ADMIN)
    async with serving(dash) as base, receiver([410]) as refusing, receiver([]) as accepting:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        await sign_in(page, base, "admin1", PASSWORD, admin.totp_secret)
        await page.goto(base + "/staff/integration")
        keys: dict[str, str] = {}
        for name, role, test in (("سامانه پرونده‌ها", "ingest", False), ("sandbox", "read", True)):
            await page.fill("#key-name", name)
            await page.select_option("#key-role", role)
            if test:
                await page.check("#key-test")
            await page.click("form[action='/staff/integration/keys'] button[type=submit]")
            keys[name] = (await page.text_content("#new-key-text") or "").strip()
            assert keys[name].startswith("ebk_test_" if test else "ebk_live_")
        await shot(page, "integration-new-key")

        async with httpx.AsyncClient(base_url=base) as api:
            bearer = {"Authorization": f"Bearer {keys['سامانه پرونده‌ها']}"}
            for hook in (refusing, accepting):
                made = await api.post("/v1/webhooks", json={"url": hook.url, "events": ["citizen.bound", "notice.viewed"]},
                                      headers=bearer)
                assert made.status_code == 201, made.text
        for chat_id in (7001, 7002):
            async with sqlite_db.session() as session:
                citizen = await create_citizen(session, Hasher(secret))
                await citizens.bind_chat(session, citizen.id or 0, "telegram", chat_id, chat_id, now())
        runner = CallbackEngine(sqlite_db, now)
        try:
            await runner.run_once()
        finally:
            await runner.close()

        await page.goto(base + "/staff/integration")
        assert keys["sandbox"] not in await page.content()  # only its beginning, after the one showing
        assert await page.locator("section.hook").count() == 2
        assert await page.locator("section.hook tbody tr").count() == 4
        await shot(page, "integration")
        await page.locator("section.hook button", has_text="ارسال دوباره").first.click()
        await page.wait_for_url(base + "/staff/integration?done=replayed")
        assert await page.locator("section.hook .badge.queued").count() == 1
        await shot(page, "integration-replayed")

        phone = await browser.new_page(viewport={"width": 390, "height": 844})
        await phone.context.add_cookies(await page.context.cookies())
        await phone.goto(base + "/staff/integration")
        await shot(phone, "integration-phone")
        assert not errors, errors
