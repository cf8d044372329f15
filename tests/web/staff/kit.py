"""Helpers for the dashboard's tests: an app on a test database with a clock the test moves, staff
accounts of each role, signing in through the login form, and a small world of data to show."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
from argon2 import PasswordHasher
from fastapi import FastAPI

from bot.runtime import Runtime
from bot.settings import Settings
from bot.staff_wiring import staff_services
from services.handoff import HandoffService
from services.health import HealthService
from services.privacy import Hasher
from services.staff_accounts import Enrolment, Role, StaffAccounts
from storage import citizens, messages, notices
from storage.database import Database
from tests.factories import create_case, create_citizen, create_ruling
from web.app import WebDeps, create_app
from web.staff import StaffServices, build_staff_router, staff_extras

PASSWORD = "a-long-enough-password"
START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
FAST_ARGON = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # tests sign in many times


@dataclass
class MovableClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Dashboard:
    app: FastAPI
    services: StaffServices
    clock: MovableClock
    accounts: dict[str, Enrolment] = field(default_factory=dict)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://test")


def build_dashboard(db: Database, secret: bytes, clock: MovableClock | None = None, *,
                    real_clock: bool = False) -> Dashboard:
    clock = clock or MovableClock()
    runtime = Runtime(settings=Settings(_env_file=None, SECRET_KEY=secret.decode()), database=db, hasher=Hasher(secret))
    use = (lambda: datetime.now(UTC)) if real_clock else clock
    services = staff_services(runtime, clock=use, accounts=StaffAccounts(db, use, hasher=FAST_ARGON))
    app = create_app(WebDeps(health=HealthService(db), extra=staff_extras(services)), [build_staff_router()])
    return Dashboard(app, services, clock)


async def add_staff(dash: Dashboard, username: str, role: Role, *, must_change: bool = False) -> Enrolment:
    enrolment = await dash.services.accounts.add(username, role, by="test", password=PASSWORD,
                                                 must_change_password=must_change)
    dash.accounts[username] = enrolment
    return enrolment


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, dash: Dashboard, username: str, *, password: str = PASSWORD,
                  otp: str | None = None, at: datetime | None = None) -> httpx.Response:
    """The login form as a browser fills it; each sign-in moves the clock past the last TOTP step."""
    page = await client.get("/staff/login")
    dash.clock.advance(seconds=30)
    when = at or dash.clock()
    code = otp if otp is not None else pyotp.TOTP(dash.accounts[username].totp_secret).at(when)
    return await client.post("/staff/login", data={"username": username, "password": password, "otp": code,
                                                   "csrf_token": form_token(page.text)})


async def csrf_of(client: httpx.AsyncClient) -> str:
    return form_token((await client.get("/staff/password")).text)


@dataclass
class World:
    national_id: str
    mobile: str
    case_number: str
    notice_id: int
    handoff_id: int
    chat_id: int


async def seed_world(db: Database, hasher: Hasher, clock: MovableClock, *, chat_id: int = 4242,
                     national_id: str = "0012345679", mobile: str = "+989121234567") -> World:
    """A citizen bound to a chat, a ruling delivered and viewed, and an open question."""
    now = clock()
    async with db.session() as session:
        citizen = await create_citizen(session, hasher, national_id=national_id, mobile=mobile, district=7)
        case = await create_case(session, citizen, case_number="1403077001", district=7, status="ruling_issued")
        ruling = await create_ruling(session, case, ruling_id="R-T-0001")
        assert citizen.id is not None and ruling.id is not None
        await citizens.bind_chat(session, citizen.id, "telegram", chat_id, chat_id, now - timedelta(days=2))
        await messages.fan_out(session, now - timedelta(days=1))
        due = [i for i, _ in await messages.due_page(session, "messenger", "telegram", now)]
        claimed = await messages.claim(session, due, now - timedelta(days=1), "test")
        await messages.mark_sent(session, [(c, 77, now - timedelta(days=1)) for c in claimed])
        notice_id = claimed[0].ref_id
        await notices.record_first_view(session, notice_id, platform="telegram", chat_id=chat_id, user_id=chat_id,
                                        at=now - timedelta(hours=20))
    handoff_id = await HandoffService(db, clock).open(platform="telegram", chat_id=chat_id, user_id=chat_id,
                                                      citizen_id=citizen.id, question="مهلت اعتراض تا کی است؟")
    return World(national_id, mobile, case.case_number, notice_id, handoff_id, chat_id)
