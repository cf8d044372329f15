"""Lock-out: a chat's own failures lock that chat; other chats' failures never lock an ID's owner out.

On SQLite and PostgreSQL, with the real AuthService and audit trail.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from services.auth import ID_TARGETED, AuthOutcome, AuthPolicy, AuthService
from services.privacy import Hasher
from storage.database import Database
from storage.models import AuditEvent
from tests.factories import create_citizen
from tests.journey import Clock

NID, MOBILE = "0012345679", "09121234567"
OWNER = 7001
STRANGERS = (8001, 8002, 8003, 8004)


def _auth(db: Database, secret: bytes, clock: Clock) -> AuthService:
    return AuthService(db, Hasher(secret), AuthPolicy(max_failures_per_chat=5, window=timedelta(minutes=60)), clock)


async def _seed(db: Database, secret: bytes) -> None:
    async with db.session() as session:
        await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE)


async def _try(auth: AuthService, chat: int, phone: str, *, owner: int | None = None) -> AuthOutcome:
    check = await auth.check_national_id("telegram", chat, NID)
    if check.locked:
        return AuthOutcome.LOCKED
    assert check.nid_hash is not None and check.nid_masked is not None
    result = await auth.verify_contact(platform="telegram", chat_id=chat, sender_user_id=chat,
                                       nid_hash=check.nid_hash, nid_masked=check.nid_masked, phone=phone,
                                       contact_user_id=chat if owner is None else owner)
    return result.outcome


async def _alerts(db: Database) -> list[AuditEvent]:
    async with db.session() as session:
        return list((await session.exec(select(AuditEvent).where(AuditEvent.action == ID_TARGETED))).all())


async def test_strangers_failures_never_lock_the_owner_out(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    clock = Clock()
    auth = _auth(db, secret, clock)
    # Each stranger's chat fails until it is locked itself: wrong phones, the owner's contact forwarded.
    for stranger in STRANGERS:
        outcomes = [await _try(auth, stranger, "0935000000" + str(n)) for n in range(4)]
        outcomes.append(await _try(auth, stranger, MOBILE, owner=OWNER))
        assert outcomes == [AuthOutcome.MISMATCH] * 4 + [AuthOutcome.NOT_OWN_CONTACT]
        assert await _try(auth, stranger, MOBILE) is AuthOutcome.LOCKED  # 5 failures: this chat waits
        clock.advance(minutes=1)
    # 20 failures on the ID from 4 chats; the owner's own contact still binds at once.
    assert await _try(auth, OWNER, MOBILE) is AuthOutcome.BOUND


async def test_the_per_chat_lock_lasts_the_window(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    clock = Clock()
    auth = _auth(db, secret, clock)
    for _ in range(5):
        assert await _try(auth, OWNER, "09350000000") is AuthOutcome.MISMATCH
    clock.advance(minutes=59)
    assert await _try(auth, OWNER, MOBILE) is AuthOutcome.LOCKED  # even with the right proof
    clock.advance(minutes=2)
    assert await _try(auth, OWNER, MOBILE) is AuthOutcome.BOUND


async def test_failures_from_several_chats_are_reported_once_a_window(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    clock = Clock()
    auth = _auth(db, secret, clock)
    # Many failures from one chat are that chat's business: no report.
    for _ in range(3):
        await _try(auth, STRANGERS[0], "09350000000")
    assert await _alerts(db) == []
    # A second chat on the same ID: reported, with the masked ID only.
    await _try(auth, STRANGERS[1], "09350000000")
    alerts = await _alerts(db)
    assert len(alerts) == 1
    assert alerts[0].subject == "001****679"
    detail = json.loads(alerts[0].detail)
    assert (detail["chats"], detail["failures"]) == (2, 4)
    assert NID not in alerts[0].detail and NID not in alerts[0].subject and "9121234567" not in alerts[0].detail
    # More chats within the window: still the one report.
    for stranger in STRANGERS[2:]:
        await _try(auth, stranger, "09350000000")
    assert len(await _alerts(db)) == 1
    # A new window, a new wave: a new report.
    clock.advance(minutes=61)
    await _try(auth, STRANGERS[0], "09350000000")
    await _try(auth, STRANGERS[1], "09350000000")
    assert len(await _alerts(db)) == 2


async def test_another_id_with_the_same_mask_gets_its_own_report(db: Database, secret: bytes) -> None:
    clock = Clock()
    auth = _auth(db, secret, clock)
    # 0010007679 and 0012345679 share the mask 001****679 (both valid checksums) but are different IDs.
    for nid in ("0012345679", "0010007679"):
        for chat in STRANGERS[:2]:
            check = await auth.check_national_id("telegram", chat, nid)
            assert check.problem is None and check.nid_hash is not None
            await auth.verify_contact(platform="telegram", chat_id=chat, sender_user_id=chat,
                                      nid_hash=check.nid_hash, nid_masked=check.nid_masked or "",
                                      phone="09350000000", contact_user_id=chat)
    alerts = await _alerts(db)
    assert [a.subject for a in alerts] == ["001****679", "001****679"]
    assert len({json.loads(a.detail)["ref"] for a in alerts}) == 2
