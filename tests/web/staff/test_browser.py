"""The dashboard in Debian's Chromium, driven by Playwright: sign in with TOTP, the overview's charts
carry the right numbers, a case is found and its proof opened, a broadcast's bar reaches 100 % while
`eblagh run` delivers to the loopback Bot API, and an inbox answer arrives in the citizen's chat.

Screenshots of every page go to tests/artifacts/ (git-ignored). No browser is downloaded: Playwright
drives /usr/bin/chromium (`.ci/run` installs Debian's package). Without it the tests are skipped on a
developer's machine and fail in CI.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
import uvicorn

# Imported here, not on the first run: on a busy machine aiogram's import alone outlasts a wait below.
from bot.demo_activity import seed_activity
from bot.messengers import aiogram_adapter  # noqa: F401
from services.handoff import HandoffService
from services.privacy import Hasher
from services.staff_accounts import Role
from storage import citizens
from storage.database import Database
from tests.bot.run_kit import Person, free_port, running, settings_for
from tests.botapi import FakeBotAPI
from tests.factories import create_case, create_citizen
from tests.web.staff.kit import PASSWORD, Dashboard, add_staff, build_dashboard

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        await launched.close()


@asynccontextmanager
async def serving(dash: Dashboard) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(dash.app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "the web server did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def sign_in(page: Any, base: str, username: str, password: str, secret: str) -> None:
    await page.goto(f"{base}/staff/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.fill("#otp", pyotp.TOTP(secret).now())
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/staff/")


async def shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


async def test_sign_in_with_totp_and_the_charts_carry_the_overviews_numbers(
        sqlite_db: Database, secret: bytes, browser: Any) -> None:
    dash = build_dashboard(sqlite_db, secret, real_clock=True)
    demo = await seed_activity(sqlite_db, Hasher(secret), lambda: datetime.now(UTC), people=60)
    expected = await dash.services.dashboard.overview()
    assert sum(expected.delivered_daily) > 20 and sum(expected.buckets.values()) > 10
    async with serving(dash) as base:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        await sign_in(page, base, demo.admin.username, demo.admin.password, demo.admin.totp_secret)
        await page.wait_for_function("() => window.Chart && Chart.getChart('chart-daily') && Chart.getChart('chart-buckets')")
        daily = await page.evaluate("Chart.getChart('chart-daily').data.datasets.map(d => d.data)")
        buckets = await page.evaluate("Chart.getChart('chart-buckets').data.datasets[0].data")
        labels = await page.evaluate("Chart.getChart('chart-daily').data.labels")
        assert daily == [expected.delivered_daily, expected.viewed_daily]
        assert buckets == list(expected.buckets.values())
        assert len(labels) == 30 and labels[-1].startswith("۱۴")  # Jalali, Persian digits
        assert await page.get_attribute("html", "dir") == "rtl"
        font = await page.evaluate("getComputedStyle(document.body).fontFamily")
        assert font.startswith('"Vazirmatn"') or font.startswith("Vazirmatn")
        assert await page.evaluate("document.fonts.check('16px Vazirmatn')")
        await shot(page, "overview")
        for name, path in (("broadcasts", "/staff/broadcasts"), ("broadcast-new", "/staff/broadcasts/new"),
                           ("imports", "/staff/imports"), ("inbox", "/staff/inbox"), ("team", "/staff/team"),
                           ("audit", "/staff/audit"), ("integration", "/staff/integration")):
            response = await page.goto(base + path)
            assert response is not None and response.status == 200, path
            await shot(page, name)
        # Every control is reachable by keyboard: tabbing from the top reaches the nav, then the page.
        await page.goto(base + "/staff/notices")
        reached = []
        for _ in range(14):
            await page.keyboard.press("Tab")
            reached.append(await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        assert "q" in reached and "ابلاغیه‌ها" in reached
        phone = await browser.new_page(viewport={"width": 390, "height": 844})
        await phone.context.add_cookies(await page.context.cookies())
        await phone.goto(base + "/staff/")
        width = await phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the overview overflows a phone's width ({width}px)"
        await shot(phone, "overview-phone")
    assert errors == []


async def test_search_a_case_and_open_its_proof(sqlite_db: Database, secret: bytes, browser: Any) -> None:
    dash = build_dashboard(sqlite_db, secret, real_clock=True)
    demo = await seed_activity(sqlite_db, Hasher(secret), lambda: datetime.now(UTC), people=40)
    found = await dash.services.notices.search("1403000007", actor="test")
    assert found.total == 1
    async with serving(dash) as base:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await sign_in(page, base, demo.admin.username, demo.admin.password, demo.admin.totp_secret)
        await page.click("nav >> text=ابلاغیه‌ها")
        await page.fill("#q", "۱۴۰۳۰۰۰۰۰۷")  # typed with Persian digits
        await page.click("form[role=search] button[type=submit]")
        await page.wait_for_selector("#notice-results a")
        assert await page.locator("#notice-results tbody tr").count() == 1
        await shot(page, "notices")
        await page.click("#notice-results a")
        await page.wait_for_selector("#timeline")
        assert "۱۴۰۳۰۰۰۰۰۷" in await page.inner_text("h1")
        kind = await page.inner_text("#service-kind")
        line = found.lines[0]
        assert kind and line.ruling.ruling_id in await page.inner_text("#facts")
        if line.notice.first_delivered_at is not None:
            assert await page.locator("#proof-chain tbody tr").count() >= 1
        await shot(page, "proof")
        await page.emulate_media(media="print")
        await shot(page, "proof-print")
        assert not await page.is_visible("header.top")


async def test_a_broadcast_reaches_100_percent_and_an_inbox_answer_reaches_the_citizen(
        sqlite_db: Database, secret: bytes, browser: Any, botapi: FakeBotAPI) -> None:
    dash = build_dashboard(sqlite_db, secret, real_clock=True)
    hasher = Hasher(secret)
    people = [Person(botapi, 9101 + i) for i in range(3)]
    async with sqlite_db.session() as session:
        for index, person in enumerate(people + [Person(botapi, 9201)]):
            district = 9 if index < 3 else 2
            citizen = await create_citizen(session, hasher, district=district)
            await create_case(session, citizen, district=district)
            assert citizen.id is not None
            await citizens.bind_chat(session, citizen.id, "telegram", person.user_id, person.user_id,
                                     datetime.now(UTC) - timedelta(days=1))
    handoff_id = await HandoffService(sqlite_db, lambda: datetime.now(UTC)).open(
        platform="telegram", chat_id=people[0].user_id, user_id=people[0].user_id, citizen_id=None,
        question="آیا می‌توانم جریمه را قسطی بپردازم؟")
    operator = await add_staff(dash, "operator1", Role.OPERATOR)
    settings = settings_for(botapi, secret, framework="aiogram", mode="polling")
    async with serving(dash) as base, running(settings, sqlite_db, secret):
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await sign_in(page, base, "operator1", PASSWORD, operator.totp_secret)
        await page.goto(base + "/staff/broadcasts/new")
        await page.check("input[name=segment][value=district]")
        await page.select_option("#district", "9")
        await page.fill("#text", "جلسه رسیدگی منطقه ۹ به هفته آینده موکول شد.")
        await page.click("main button[type=submit]")
        assert await page.inner_text("#audience") == "۳"
        await shot(page, "broadcast-preview")
        await page.click("main button[type=submit].primary")
        bar = page.locator(".progress-line[data-state]").first
        await page.wait_for_selector('.progress-line[data-percent="100"]', timeout=20_000)
        assert await bar.get_attribute("data-state") == "done"
        await shot(page, "broadcast-done")
        for person in people:
            await person.expect("جلسه رسیدگی منطقه ۹")
        assert all("جلسه رسیدگی" not in (m.text or "") for m in botapi.messages(9201))

        await page.goto(base + "/staff/inbox")
        await page.fill(f"#reply-{handoff_id}", "بله؛ با مراجعه به واحد درآمد شهرداری.")
        await page.click(f"#question-{handoff_id} button[type=submit]")
        await page.wait_for_selector('#replies tr[data-status="sent"]', timeout=20_000)
        await people[0].expect("بله؛ با مراجعه به واحد درآمد شهرداری.")
        assert await page.locator(f"#question-{handoff_id}").count() == 0
        await shot(page, "inbox-answered")
