"""A month of demo activity for `eblagh web --demo`: citizens, cases and rulings through the real
importers, then deliveries, views, deemed service and failures written with the storage layer's own
verbs (so the proof chain is whole), with times spread over the last 30 days. Plus a few questions for
the inbox, a finished broadcast, and the demo admin of the dashboard.

Every person here is invented (random valid national IDs); the demo admin's credentials are printed on
purpose.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.broadcasts import BroadcastService, Segment
from services.clock import Clock
from services.handoff import HandoffService
from services.imports.importer import import_cases, import_citizens, import_rulings, import_subscribers
from services.law.calendar import tehran_date
from services.privacy import Hasher
from services.staff_accounts import Enrolment, Role, StaffAccounts
from storage import citizens, duties, messages, notices
from storage.database import Database
from storage.models import DeliveryStatus, LaneName

DEMO_ADMIN = "demo-admin"
DEMO_PASSWORD = "demo-admin-password"  # printed by `eblagh web --demo`; demo data only
FIRST = ("علی", "زهرا", "محمد", "فاطمه", "حسین", "مریم", "رضا", "سارا", "مهدی", "نرگس", "امیر", "الهام")
LAST = ("احمدی", "محمدی", "حسینی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی", "رحیمی", "نوری")
STATUSES = ("ruling_issued", "ruling_issued", "under_appeal", "final", "hearing_scheduled")
KINDS = ("fine", "fine", "fine", "demolition", "restoration")
QUESTIONS = ("مهلت اعتراض به رأی من دقیقاً تا چه روزی است؟ من هفته پیش پیام را دیدم.",
             "جریمه را می‌شود قسطی پرداخت کرد؟",
             "نشانی ملک در رأی اشتباه نوشته شده؛ چه کنم؟")


@dataclass(frozen=True)
class DemoActivity:
    citizens: int
    rulings: int
    admin: Enrolment


def _national_id(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(9)]
        r = sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        candidate = "".join(map(str, digits)) + str(r if r < 2 else 11 - r)
        if len(set(candidate)) > 1:
            return candidate


def _view_delay(rng: random.Random) -> timedelta | None:
    """How long a citizen took to open a notice, or None for one never opened."""
    roll = rng.random()
    if roll < 0.30:
        return timedelta(minutes=rng.uniform(2, 59))
    if roll < 0.52:
        return timedelta(hours=rng.uniform(1, 23.5))
    if roll < 0.66:
        return timedelta(days=rng.uniform(1, 2.9))
    if roll < 0.76:
        return timedelta(days=rng.uniform(3, 9.5))
    return None


async def seed_activity(db: Database, hasher: Hasher, clock: Clock, *, people: int = 220, seed: int = 1403,
                        admin_password: str = DEMO_PASSWORD) -> DemoActivity:
    rng = random.Random(seed)
    now = clock()
    start = now - timedelta(days=31)
    nids = [_national_id(rng) for _ in range(people)]
    rows = ["national_id,mobile,full_name,district\n"] + [
        f"{nid},0912{rng.randrange(10**7):07d},{rng.choice(FIRST)} {rng.choice(LAST)},{rng.randint(1, 8)}\n"
        for nid in nids]
    await import_citizens(db, hasher, rows, now=start, actor="demo")
    cases = [json.dumps({"case_number": f"1403{i + 1:06d}", "national_id": nid, "status": rng.choice(STATUSES),
                         "district": rng.randint(1, 8), "address": f"خیابان {rng.choice(LAST)}، پلاک {i + 1}",
                         "violation": "اضافه اشکوب بدون پروانه"}, ensure_ascii=False) + "\n"
             for i, nid in enumerate(nids)]
    await import_cases(db, hasher, cases, now=start, actor="demo")
    subscribers = ["national_id,platform,chat_id\n"] + [
        f"{nid},telegram,{7_000_000 + i}\n" for i, nid in enumerate(nids) if rng.random() < 0.9]
    await import_subscribers(db, hasher, subscribers, now=start, actor="demo")

    # Rulings arrive day by day; each day's are delivered within the hour, and opened (or not) later.
    order = list(range(people))
    rng.shuffle(order)
    per_day = [order[i::30] for i in range(30)]
    views: list[tuple[int, str, int, datetime]] = []
    for day, indexes in enumerate(per_day):
        imported_at = now - timedelta(days=29 - day, hours=rng.uniform(0, 6))
        if imported_at > now:
            imported_at = now - timedelta(minutes=30)
        lines = [json.dumps({"ruling_id": f"R-1403-{i + 101:04d}", "case_number": f"1403{i + 1:06d}",
                             "national_id": nids[i], "commission": "appeal" if rng.random() < 0.15 else "first",
                             "kind": (kind := rng.choice(KINDS)),
                             "issued_at": tehran_date(imported_at - timedelta(days=2)).isoformat(),
                             "fine_amount_rials": rng.randrange(50, 900) * 10_000_000 if kind == "fine" else None,
                             "summary": "رأی کمیسیون ماده ۱۰۰", "text": "متن کامل رأی (نمونه)"},
                            ensure_ascii=False) + "\n" for i in indexes]
        await import_rulings(db, hasher, lines, now=imported_at, actor="demo")
        views += await _deliver(db, rng, imported_at, now)
    for notice_id, platform, chat_id, at in sorted(views, key=lambda v: v[3]):
        async with db.session() as session:
            await notices.record_first_view(session, notice_id, platform=platform, chat_id=chat_id, user_id=chat_id,
                                            at=at)
    async with db.session() as session:  # unopened for 10 days: deemed served, as the timed duty records it
        for notice_id, delivered_at in await duties.unviewed_delivered_before(session, now - timedelta(days=10),
                                                                             unreminded=False):
            await duties.record_deemed(session, notice_id, delivered_at + timedelta(days=10))
        for i in range(3):
            await citizens.mark_unreachable(session, "telegram", 7_000_000 + order[i], now - timedelta(days=i * 4))
    await _inbox_and_broadcast(db, clock)
    admin = await StaffAccounts(db, clock).add(DEMO_ADMIN, Role.ADMIN, by="demo", password=admin_password,
                                               must_change_password=False)
    return DemoActivity(people, people, admin)


async def _deliver(db: Database, rng: random.Random, at: datetime, now: datetime) -> list[tuple[int, str, int, datetime]]:
    """Queue what became due at `at`, send it a few minutes later (3 % fail); the views to record."""
    views = []
    async with db.session() as session:
        await messages.fan_out(session, at, limit=10_000)
        due = await messages.due_page(session, LaneName.MESSENGER, "telegram", at, limit=10_000)
        claimed = await messages.claim(session, [i for i, _ in due], at, "demo")
        sent = []
        for c in claimed:
            if rng.random() < 0.03:
                await messages.mark_final(session, c.id, DeliveryStatus.FAILED, "permanent: chat not found", at)
                continue
            sent_at = at + timedelta(minutes=rng.uniform(1, 40))
            sent.append((c, 1000 + c.id, sent_at))
            delay = _view_delay(rng)
            if delay is not None and sent_at + delay < now:
                views.append((c.ref_id, c.platform, c.chat_id, sent_at + delay))
        await messages.mark_sent(session, sent)
    return views


async def _inbox_and_broadcast(db: Database, clock: Clock) -> None:
    handoffs = HandoffService(db, clock)
    for i, question in enumerate(QUESTIONS):
        await handoffs.open(platform="telegram", chat_id=7_000_010 + i, user_id=7_000_010 + i, citizen_id=None,
                            question=question)
    broadcasts = BroadcastService(db, clock)
    progress = await broadcasts.create(text="ساعت کار دبیرخانه کمیسیون در روزهای پایانی سال از ۸ تا ۱۳ است.",
                                       segment=Segment.parse("district:3"), at=None, created_by="staff:demo-admin")
    async with db.session() as session:
        due = await messages.due_page(session, LaneName.MESSENGER, "telegram", clock(), limit=10_000)
        claimed = await messages.claim(session, [i for i, _ in due], clock(), "demo")
        await messages.mark_sent(session, [(c, 5000 + c.id, clock()) for c in claimed[1:]])
        if claimed:
            await messages.mark_final(session, claimed[0].id, DeliveryStatus.BLOCKED, "blocked by the user", clock())
    assert progress.id is not None
