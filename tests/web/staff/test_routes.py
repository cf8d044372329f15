"""The dashboard's routes through httpx: who may open what, CSRF, lock-out, session expiry, and that a
viewer never sees a full national ID."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi.routing import APIRoute

from services.privacy import Hasher
from services.staff_accounts import Role
from storage.database import Database
from tests.web.staff.kit import (
    Dashboard,
    World,
    add_staff,
    build_dashboard,
    csrf_of,
    seed_world,
    sign_in,
)
from web.staff import build_staff_router
from web.staff.guard import Public, Requires

ALLOWED = {  # path -> the lowest role that may open it
    "/staff/": Role.VIEWER, "/staff/queue": Role.VIEWER, "/staff/notices": Role.VIEWER,
    "/staff/notices/{notice}": Role.VIEWER, "/staff/notices/{notice}/receipt.csv": Role.VIEWER,
    "/staff/notices/{notice}/receipt.json": Role.VIEWER, "/staff/password": Role.VIEWER,
    "/staff/broadcasts": Role.OPERATOR, "/staff/broadcasts/new": Role.OPERATOR, "/staff/imports": Role.OPERATOR,
    "/staff/inbox": Role.OPERATOR, "/staff/inbox/replies": Role.OPERATOR,
    "/staff/team": Role.ADMIN, "/staff/audit": Role.ADMIN, "/staff/integration": Role.ADMIN,
}
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def test_every_staff_route_declares_exactly_one_permission() -> None:
    routes = [r for r in build_staff_router().routes if isinstance(r, APIRoute)]
    assert len(routes) > 25
    for route in routes:
        guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, (Requires, Public))]
        assert len(guards) == 1, f"{route.methods} {route.path} declares {len(guards)} permission dependencies"
    public = {(tuple(sorted(r.methods)), r.path) for r in routes
              if any(isinstance(d.call, Public) for d in r.dependant.dependencies)}
    assert public == {(("GET",), "/staff/login"), (("POST",), "/staff/login"), (("GET",), "/staff/static/{name:path}")}


async def dashboard_with_world(db: Database, secret: bytes) -> tuple[Dashboard, World]:
    dash = build_dashboard(db, secret)
    world = await seed_world(db, Hasher(secret), dash.clock)
    for role in Role:
        await add_staff(dash, f"{role.value}1", role)
    return dash, world


async def test_every_page_for_every_role(sqlite_db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(sqlite_db, secret)
    for role in Role:
        async with dash.client() as client:
            assert (await sign_in(client, dash, f"{role.value}1")).status_code == 303
            for path, lowest in ALLOWED.items():
                response = await client.get(path.replace("{notice}", str(world.notice_id)))
                expected = 200 if RANK[role] >= RANK[lowest] else 403
                assert response.status_code == expected, (role, path, response.status_code)
                if expected == 403:
                    assert "دسترسی ندارید" in response.text
            signed_out = httpx.AsyncClient(transport=httpx.ASGITransport(app=dash.app), base_url="http://test")
            async with signed_out:
                assert (await signed_out.get("/staff/")).headers["location"] == "/staff/login"


async def test_sign_in_and_the_overview_on_both_databases(db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(db, secret)
    async with dash.client() as client:
        signed = await sign_in(client, dash, "viewer1")
        assert signed.status_code == 303 and signed.headers["location"] == "/staff/"
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        overview = await client.get("/staff/")
        assert overview.status_code == 200 and 'dir="rtl"' in overview.text
        assert "Content-Security-Policy" in overview.headers
        found = await client.get("/staff/notices", params={"q": world.case_number})
    assert f"/staff/notices/{world.notice_id}" in found.text


async def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(sqlite_db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        page = await client.get("/staff/login")
        assert page.status_code == 200
        no_token = await client.post("/staff/login", data={"username": "admin1", "password": "x", "otp": "1"})
        assert no_token.status_code == 403
        await sign_in(client, dash, "operator1")
        reply = {"text": "پاسخ"}
        assert (await client.post(f"/staff/inbox/{world.handoff_id}/reply", data=reply)).status_code == 403
        wrong = await client.post(f"/staff/inbox/{world.handoff_id}/reply", data={**reply, "csrf_token": "nope"})
        assert wrong.status_code == 403
        htmx = await client.post("/staff/broadcasts/1/cancel", headers={"X-CSRF-Token": "nope", "HX-Request": "true"})
        assert htmx.status_code == 403
        assert [q.handoff.id for q in await dash.services.inbox.questions()] == [world.handoff_id]  # nothing sent
        token = await csrf_of(client)
        sent = await client.post(f"/staff/inbox/{world.handoff_id}/reply", data={**reply, "csrf_token": token})
        assert sent.status_code == 303
    assert await dash.services.inbox.questions() == []


async def test_five_failures_lock_the_account_for_fifteen_minutes(sqlite_db: Database, secret: bytes) -> None:
    dash, _ = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        for _ in range(4):
            assert (await sign_in(client, dash, "admin1", password="wrong-password")).status_code == 401
        fifth = await sign_in(client, dash, "admin1", otp="000000")
        assert fifth.status_code == 429 and "قفل" in fifth.text
        dash.clock.advance(minutes=14)
        locked = await sign_in(client, dash, "admin1")  # the right password and code, still locked
        assert locked.status_code == 429
        dash.clock.advance(minutes=1, seconds=1)
        assert (await sign_in(client, dash, "admin1")).status_code == 303
    events = await dash.services.audit.page(actor="staff:admin1")
    assert [e.action for e in events.lines].count("staff.login_failed") == 5
    assert "staff.login_locked" in [e.action for e in events.lines]


async def test_a_totp_code_is_taken_once(sqlite_db: Database, secret: bytes) -> None:
    dash, _ = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        at = dash.clock() + timedelta(seconds=30)
        assert (await sign_in(client, dash, "viewer1", at=at)).status_code == 303
        dash.clock.now = at  # the same 30-second step again
        import pyotp

        replay = await sign_in(client, dash, "viewer1", otp=pyotp.TOTP(dash.accounts["viewer1"].totp_secret).at(at))
        assert replay.status_code == 401


async def test_sessions_end_after_30_idle_minutes_and_after_8_hours(sqlite_db: Database, secret: bytes) -> None:
    dash, _ = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        await sign_in(client, dash, "viewer1")
        dash.clock.advance(minutes=29)
        assert (await client.get("/staff/")).status_code == 200
        dash.clock.advance(minutes=30, seconds=1)
        assert (await client.get("/staff/")).headers.get("location") == "/staff/login"
    async with dash.client() as client:
        await sign_in(client, dash, "viewer1")
        for _ in range(23):  # busy all day: a page every 20 minutes
            dash.clock.advance(minutes=20)
            assert (await client.get("/staff/queue")).status_code == 200
        dash.clock.advance(minutes=20)  # 8 hours since signing in
        assert (await client.get("/staff/")).headers.get("location") == "/staff/login"
        hx = await client.get("/staff/queue", headers={"HX-Request": "true"})
        assert hx.status_code == 204 and hx.headers["HX-Redirect"] == "/staff/login"


async def test_a_first_login_must_change_the_one_time_password(sqlite_db: Database, secret: bytes) -> None:
    dash, _ = await dashboard_with_world(sqlite_db, secret)
    await add_staff(dash, "newcomer", Role.OPERATOR, must_change=True)
    async with dash.client() as client:
        signed = await sign_in(client, dash, "newcomer")
        assert signed.headers["location"] == "/staff/password"
        assert (await client.get("/staff/inbox")).headers["location"] == "/staff/password"
        token = await csrf_of(client)
        short = await client.post("/staff/password", data={"current": "a-long-enough-password", "new": "short",
                                                            "repeat": "short", "csrf_token": token})
        assert short.status_code == 400
        changed = await client.post("/staff/password", data={
            "current": "a-long-enough-password", "new": "another-long-password", "repeat": "another-long-password",
            "csrf_token": token})
        assert changed.status_code == 303
        assert (await client.get("/staff/inbox")).status_code == 200


async def test_a_viewer_never_sees_a_full_national_id(sqlite_db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        await sign_in(client, dash, "viewer1")
        found = await client.get("/staff/notices", params={"q": world.national_id})
        assert f"/staff/notices/{world.notice_id}" in found.text and "001****679" in found.text
        by_mobile = await client.get("/staff/notices", params={"q": "09121234567"})
        assert f"/staff/notices/{world.notice_id}" in by_mobile.text
        pages = [found, by_mobile]
        for path, lowest in ALLOWED.items():
            if lowest is Role.VIEWER:
                pages.append(await client.get(path.replace("{notice}", str(world.notice_id))))
    for page in pages:
        assert page.status_code == 200
        assert world.national_id not in page.text and "9121234567" not in page.text
    events = await dash.services.audit.page(action="notice_search")
    assert {e.action for e in events.lines} == {"notice_search.national_id", "notice_search.mobile"}
    assert all(e.actor == "staff:viewer1" and world.national_id not in str(e.detail) for e in events.lines)


async def test_an_inbox_reply_is_recorded_and_queued_for_the_citizens_chat(sqlite_db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        await sign_in(client, dash, "operator1")
        token = await csrf_of(client)
        await client.post(f"/staff/inbox/{world.handoff_id}/reply", data={"text": "تا ده روز پس از ابلاغ.",
                                                                           "csrf_token": token})
        inbox = await client.get("/staff/inbox")
    assert "مهلت اعتراض تا کی است؟" in inbox.text  # in the replies list, no longer a question
    assert f'id="question-{world.handoff_id}"' not in inbox.text and 'data-status="queued"' in inbox.text
    replies = await dash.services.inbox.replies()
    assert [(r.reply.text, r.status, r.reply.author) for r in replies] == [("تا ده روز پس از ابلاغ.", "queued",
                                                                             "operator1")]


async def test_an_import_is_previewed_without_writing_then_applied(sqlite_db: Database, secret: bytes) -> None:
    dash, _ = await dashboard_with_world(sqlite_db, secret)
    content = ("national_id,mobile,full_name,district\n0499370899,09351112233,نمونه,3\n"
               "123,09351112233,بد,3\n0499370899,09351112233,تکراری,3\n").encode()
    async with dash.client() as client:
        await sign_in(client, dash, "operator1")
        token = await csrf_of(client)
        uploaded = await client.post("/staff/imports", data={"kind": "citizens", "csrf_token": token},
                                     files={"file": ("people.csv", content, "text/csv")})
        assert uploaded.status_code == 303
        preview = await client.get(uploaded.headers["location"])
        assert 'id="good">۱<' in preview.text and 'id="bad">۲<' in preview.text
        found = await client.get("/staff/notices", params={"q": "0499370899"})
        assert found.status_code == 200 and "۰ ابلاغیه" in found.text
        upload_id = int(uploaded.headers["location"].rsplit("/", 1)[1])
        assert (await dash.services.imports.get(upload_id)).state == "previewed"  # type: ignore[union-attr]
        await client.post(f"/staff/imports/{upload_id}/apply", data={"csrf_token": token})
        await dash.services.imports.wait()
        done = await client.get(f"/staff/imports/{upload_id}/progress")
    assert 'data-state="done"' in done.text and 'data-percent="100"' in done.text
    view = await dash.services.imports.get(upload_id)
    assert view is not None and view.report["applied"]["inserted"] == 1  # type: ignore[index]
    events = await dash.services.audit.page(action="import.citizens")
    assert [e.actor for e in events.lines] == ["staff:operator1"]


async def test_a_broadcast_is_previewed_as_the_citizen_sees_it_then_queued(sqlite_db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        await sign_in(client, dash, "operator1")
        token = await csrf_of(client)
        preview = await client.post("/staff/broadcasts/preview", data={
            "text": "<b>اطلاعیه</b> & پایان", "segment": "district", "district": "7", "csrf_token": token})
        assert preview.status_code == 200 and 'id="audience">۱<' in preview.text
        assert "&lt;b&gt;اطلاعیه&lt;/b&gt; &amp; پایان" in preview.text  # staff write plain text: shown as written
        created = await client.post("/staff/broadcasts", data={"text": "اطلاعیه", "segment": "district:7",
                                                                "csrf_token": token})
        assert created.status_code == 303
        listing = await client.get("/staff/broadcasts")
    assert 'data-state="queued"' in listing.text and "فرستاده ۰ از ۱" in listing.text
    events = await dash.services.audit.page(action="broadcast_created")
    assert [e.actor for e in events.lines] == ["staff:operator1"]


async def test_team_pages_add_and_disable_accounts(sqlite_db: Database, secret: bytes) -> None:
    dash, _ = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        await sign_in(client, dash, "admin1")
        token = await csrf_of(client)
        added = await client.post("/staff/team", data={"username": "sara", "role": "viewer", "csrf_token": token})
        assert added.status_code == 200 and "otpauth://totp/eblagh:sara" in added.text
        await client.post("/staff/team/sara/disable", data={"csrf_token": token})
        self_disable = await client.post("/staff/team/admin1/disable", data={"csrf_token": token})
        assert self_disable.status_code == 400
        integration = await client.get("/staff/integration")
        assert 'id="keys"' in integration.text and 'id="not-available"' not in integration.text  # wired
    accounts = {a.username: a.disabled for a in await dash.services.accounts.list()}
    assert accounts["sara"] is True and accounts["admin1"] is False


async def test_the_proof_downloads(sqlite_db: Database, secret: bytes) -> None:
    dash, world = await dashboard_with_world(sqlite_db, secret)
    async with dash.client() as client:
        await sign_in(client, dash, "viewer1")
        as_csv = await client.get(f"/staff/notices/{world.notice_id}/receipt.csv")
        as_json = await client.get(f"/staff/notices/{world.notice_id}/receipt.json")
        page = await client.get(f"/staff/notices/{world.notice_id}")
    assert as_csv.text.splitlines()[0].startswith("ruling_id,case_number,national_id_masked")
    assert "R-T-0001,1403077001,001****679,telegram,4242" in as_csv.text
    body = as_json.json()
    assert body["records"][0]["service_kind"] == "viewed" and [r["kind"] for r in body["proof_chain"]] == [
        "delivered", "viewed"]
    assert body["proof_chain"][1]["hash"] in page.text and "@media print" not in page.text


@pytest.mark.redis
async def test_sessions_live_in_redis_when_it_is_set(sqlite_db: Database, secret: bytes, redis_url: str) -> None:
    from redis.asyncio import Redis

    from services.staff_sessions import SessionRecord, StaffSessions
    from storage.redis_staff_sessions import RedisSessionStore

    dash, _ = await dashboard_with_world(sqlite_db, secret)
    redis = Redis.from_url(redis_url)
    dash.services.sessions = StaffSessions(RedisSessionStore(redis, SessionRecord), dash.services.accounts, dash.clock)
    try:
        async with dash.client() as client:
            await sign_in(client, dash, "viewer1")
            assert (await client.get("/staff/")).status_code == 200
            assert len(await redis.keys("eblagh:staff:session:*")) == 1
            dash.clock.advance(minutes=31)
            assert (await client.get("/staff/")).status_code == 303
            assert await redis.keys("eblagh:staff:session:*") == []
    finally:
        await redis.aclose()
