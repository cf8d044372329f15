"""Only the citizen, only in their own chat: groups, supergroups and channels get nothing personal.

A group never authenticates and never sees a notice, case or fine; it is told once where to go. A tap
on a notice outside the bound user's private chat records nothing. The staff chat runs the staff
plugins only. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from handlers import texts
from handlers.callbacks import Action, encode
from services.messaging import ChatKind
from services.privacy import Hasher
from storage.database import Database
from storage.models import AuditEvent, AuthAttempt, ChatBinding, Notice, Receipt
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app

NID, MOBILE = "0012345679", "09121234567"
CASE = "1403051234"
GROUP = -100_900
STAFF_CHAT = -100_555
ALICE, BOB = 601, 602


async def _seed(db: Database, secret: bytes) -> int:
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE)
        case = await create_case(session, citizen, case_number=CASE)
        ruling = await create_ruling(session, case, ruling_id="R-SCOPE-1", text="متن محرمانه رأی")
        notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
        assert notice.id is not None
        return notice.id


async def _count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        query = select(func.count()).select_from(model)
        for condition in where:
            query = query.where(condition)  # type: ignore[arg-type]
        return int((await session.exec(query)).one())


def _texts(*responses) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.html for r in responses for m in r.messages)


async def _login(person: Citizen) -> None:
    await person.command("start")
    await person.says(NID)
    assert "هویت شما تأیید شد" in _texts(await person.shares(MOBILE))


@pytest.mark.parametrize("kind", [ChatKind.GROUP, ChatKind.SUPERGROUP, ChatKind.CHANNEL])
async def test_a_group_never_authenticates_and_is_told_once(db: Database, secret: bytes, kind: ChatKind) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock())
    sender = RecordingSender()
    alice = Citizen(app, sender, user_id=ALICE, chat_id=GROUP, kind=kind)
    bob = Citizen(app, sender, user_id=BOB, chat_id=GROUP, kind=kind)

    first = await alice.command("start")
    assert [m.html for m in first.messages] == [texts.GROUP_PRIVATE_ONLY]
    later = [await alice.says(NID), await alice.shares(MOBILE), await bob.command("start", NID),
             await bob.says(NID), await bob.shares(MOBILE), await alice.command("notices"),
             await alice.command("logout"), await bob.says("جریمه من چقدره؟")]
    assert all(r.messages == [] for r in later)  # said once, then nothing: no spam in a group
    # No step of authentication was taken: no state, no attempt, no binding.
    assert (await app.state.load("telegram", GROUP)).step.value == "idle"
    assert await _count(db, AuthAttempt) == 0
    assert await _count(db, ChatBinding) == 0
    # The group is remembered durably: a restarted bot does not tell it again.
    restarted = Citizen(make_app(db, secret, Clock()), sender, user_id=BOB, chat_id=GROUP, kind=kind)
    assert (await restarted.command("start")).messages == []
    assert [m.html for m in sender.to(GROUP)] == [texts.GROUP_PRIVATE_ONLY]


async def test_a_bound_citizen_sees_nothing_of_theirs_in_a_group(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret)
    app = make_app(db, secret, Clock())
    sender = RecordingSender()
    private = Citizen(app, sender, user_id=ALICE)
    await _login(private)
    in_group = Citizen(app, sender, user_id=ALICE, chat_id=GROUP, kind=ChatKind.GROUP)
    replies = [await in_group.command("notices"), await in_group.command("start"),
               await in_group.says("پرونده من"), await in_group.taps(encode(Action.LIST_NOTICES)),
               await in_group.taps(encode(Action.OPEN_NOTICE, notice_id))]
    shown = _texts(*replies)
    assert shown == texts.GROUP_PRIVATE_ONLY
    assert "۱۴۰۳۰۵۱۲۳۴" not in shown and "متن محرمانه" not in shown
    assert replies[3].tap_answer == texts.TAP_PRIVATE_ONLY
    assert replies[4].tap_answer == texts.NOTICE_PRIVATE_ONLY
    # Pushed notices go to the private chat only.
    await deliver_due(app, sender)
    assert any("۱۴۰۳۰۵۱۲۳۴" in m.html for m in sender.to(ALICE))
    assert not any("۱۴۰۳۰۵۱۲۳۴" in m.html for m in sender.to(GROUP))


async def test_a_tap_on_a_notice_in_a_group_records_nothing(db: Database, secret: bytes) -> None:
    """A card forwarded into a group: neither another member's tap nor the citizen's own is service."""
    notice_id = await _seed(db, secret)
    app = make_app(db, secret, Clock())
    sender = RecordingSender()
    await _login(Citizen(app, sender, user_id=ALICE))
    data = encode(Action.OPEN_NOTICE, notice_id)
    for user_id in (BOB, ALICE):
        member = Citizen(app, sender, user_id=user_id, chat_id=GROUP, kind=ChatKind.SUPERGROUP)
        reply = await member.taps(data)
        assert reply.tap_answer == texts.NOTICE_PRIVATE_ONLY
        assert reply.messages == []
    assert await _count(db, Receipt) == 0
    assert await _count(db, Notice, Notice.viewed_at.is_not(None)) == 0  # type: ignore[union-attr]
    assert await _count(db, AuditEvent, AuditEvent.action == "notice_open_refused") == 2
    # In the citizen's own private chat, the same button is service.
    assert (await Citizen(app, sender, user_id=ALICE).taps(data)).tap_answer == texts.TAP_SERVICE_RECORDED
    assert await _count(db, Receipt) == 1


async def test_forged_group_taps_are_answered(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock())
    member = Citizen(app, RecordingSender(), user_id=BOB, chat_id=GROUP, kind=ChatKind.GROUP)
    for data in ("zz", "o:abc", encode(Action.LOGIN), encode(Action.HELP), encode(Action.CONFIRM, "bc"), "o:99999"):
        reply = await member.taps(data)
        assert reply.tap_answer in (texts.TAP_PRIVATE_ONLY, texts.NOTICE_PRIVATE_ONLY), data
        assert reply.messages == []


async def test_the_staff_chat_offers_no_citizen_feature(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret)
    app = make_app(db, secret, Clock(), STAFF_CHAT_ID=STAFF_CHAT)
    member = Citizen(app, RecordingSender(), user_id=ALICE, chat_id=STAFF_CHAT, kind=ChatKind.SUPERGROUP)
    assert _texts(await member.command("start")) == texts.UNKNOWN_COMMAND
    assert _texts(await member.command("notices")) == texts.UNKNOWN_COMMAND
    assert (await member.says(NID)).messages == []
    assert (await member.shares(MOBILE)).messages == []
    assert (await member.taps(encode(Action.OPEN_NOTICE, notice_id))).tap_answer == texts.NOTICE_PRIVATE_ONLY
    assert (await member.taps(encode(Action.LIST_NOTICES))).tap_answer == texts.TAP_PRIVATE_ONLY
    assert await _count(db, ChatBinding) == 0 and await _count(db, AuthAttempt) == 0


async def test_a_reply_in_the_staff_chat_by_a_non_staff_member_never_reaches_the_citizen(
        db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock(), STAFF_CHAT_ID=STAFF_CHAT, STAFF_USER_IDS="42")
    sender = RecordingSender()
    citizen = Citizen(app, sender, user_id=ALICE)
    await _login(citizen)
    handoff_id = await app.handoffs.open(platform="telegram", chat_id=ALICE, user_id=ALICE, citizen_id=None,
                                         question="سؤال")
    await app.handoffs.forwarded(handoff_id, STAFF_CHAT, [77])
    await deliver_due(app, sender)  # the notices that came with the login
    before = len(sender.to(ALICE))
    from bot.dispatch import dispatch
    from handlers.events import TextReceived

    outsider = Citizen(app, sender, user_id=BOB, chat_id=STAFF_CHAT, kind=ChatKind.SUPERGROUP)
    reply = await dispatch(app, TextReceived(outsider.chat, "پاسخ ساختگی", reply_to_message_id=77), sender)
    assert reply.messages == [] and len(sender.to(ALICE)) == before
    await deliver_due(app, sender)
    assert len(sender.to(ALICE)) == before  # nothing was queued for the citizen either
    staff = Citizen(app, sender, user_id=42, chat_id=STAFF_CHAT, kind=ChatKind.SUPERGROUP, drains=True)
    reply = await staff.replies("پاسخ کارشناس", to=77)
    assert reply.messages and "پاسخ کارشناس" in sender.to(ALICE)[-1].html
