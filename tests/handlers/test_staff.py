"""The staff /broadcast command: preview with the recipient count, confirmation, refusal for others.

Staff commands work only in the staff chat (STAFF_CHAT_ID, a group), and there only for users in
STAFF_USER_IDS when it is set.
"""

from __future__ import annotations

from handlers import staff_texts, texts
from handlers.callbacks import Action, encode
from services.broadcasts import BroadcastProblem, BroadcastService
from services.messaging import ChatKind
from storage.database import Database
from tests.delivery_kit import seed_subscribers
from tests.journey import Citizen, Clock, RecordingSender, make_app

STAFF = 9_001
STAFF_CHAT = -100_555


def in_staff_chat(app, sender: RecordingSender, user_id: int) -> Citizen:  # type: ignore[no-untyped-def]
    return Citizen(app, sender, user_id=user_id, chat_id=STAFF_CHAT, kind=ChatKind.SUPERGROUP)


async def test_staff_broadcast_preview_confirm_and_queue(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, STAFF_USER_IDS=f"{STAFF}, 9002", STAFF_CHAT_ID=STAFF_CHAT)
    await seed_subscribers(db, [80_001, 80_002, 80_003], district=6)
    await seed_subscribers(db, [80_011], district=2)
    staff = in_staff_chat(app, RecordingSender(), STAFF)

    asked = await staff.command("broadcast", "district:6")
    assert "منطقه" in asked.messages[0].html
    preview = await staff.says("جلسه <عمومی> فردا ساعت ۱۰")
    body, summary = preview.messages
    assert body.html == "جلسه &lt;عمومی&gt; فردا ساعت ۱۰"  # exactly what citizens will get
    assert "<b>۳</b>" in summary.html
    labels = [b.data for row in summary.buttons for b in row]
    assert labels == [encode(Action.CONFIRM, "bc"), encode(Action.CANCEL, "bc")]

    done = await staff.taps(encode(Action.CONFIRM, "bc"))
    assert done.tap_answer == staff_texts.TAP_BROADCAST_QUEUED
    progress = await BroadcastService(db, clock).status(1)
    assert progress is not None and (progress.recipients, progress.pending) == (3, 3)
    # A second tap on the same preview queues nothing more.
    again = await staff.taps(encode(Action.CONFIRM, "bc"))
    assert again.tap_answer == staff_texts.BROADCAST_NOTHING_PENDING
    assert await BroadcastService(db, clock).status(2) is None

    status = await staff.command("broadcast_status", "1")
    assert "در حال ارسال" in status.messages[0].html


async def test_staff_can_cancel_the_draft_and_bad_input_is_explained(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, STAFF_USER_IDS=str(STAFF), STAFF_CHAT_ID=STAFF_CHAT)
    await seed_subscribers(db, [81_001])
    staff = in_staff_chat(app, RecordingSender(), STAFF)
    bad = await staff.command("broadcast", "district:abc")
    assert bad.messages[0].html == staff_texts.BROADCAST_PROBLEMS[BroadcastProblem.BAD_DISTRICT]
    await staff.command("broadcast")
    too_long = await staff.says("x" * 4097)
    assert "۴۰۹۷" in too_long.messages[0].html
    await staff.says("متن درست")
    cancelled = await staff.taps(encode(Action.CANCEL, "bc"))
    assert cancelled.messages[0].html == staff_texts.BROADCAST_DRAFT_CANCELLED
    assert await BroadcastService(db, clock).status(1) is None


async def test_others_get_the_ordinary_unknown_command_answer(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, STAFF_USER_IDS=str(STAFF), STAFF_CHAT_ID=STAFF_CHAT)
    await seed_subscribers(db, [82_001])
    sender = RecordingSender()
    citizen = Citizen(app, sender, user_id=1234)
    member = in_staff_chat(app, sender, 1234)  # in the staff chat, but not on STAFF_USER_IDS
    own_private_chat = Citizen(app, sender, user_id=STAFF)  # staff, but outside the staff chat
    for person in (citizen, member, own_private_chat):
        for name in ("broadcast", "broadcast_status"):
            reply = await person.command(name, "1")
            assert [m.html for m in reply.messages] == [texts.UNKNOWN_COMMAND], (person, name)
    forged = await citizen.taps(encode(Action.CONFIRM, "bc"))
    assert forged.tap_answer == texts.UNKNOWN_BUTTON
    assert (await member.taps(encode(Action.CONFIRM, "bc"))).tap_answer == texts.TAP_PRIVATE_ONLY
    # A staff member's own private chat with a pending draft of nothing: still nothing queued.
    assert (await own_private_chat.says("متن اطلاعیه")).messages[0].html != staff_texts.BROADCAST_ASK_TEXT
    assert await BroadcastService(db, clock).status(1) is None


async def test_without_staff_chat_nobody_is_staff(db: Database, secret: bytes) -> None:
    app = make_app(db, secret, Clock(), STAFF_USER_IDS=str(STAFF))
    staff = Citizen(app, RecordingSender(), user_id=STAFF)
    assert [m.html for m in (await staff.command("broadcast")).messages] == [texts.UNKNOWN_COMMAND]


async def test_an_empty_allow_list_makes_every_member_of_the_staff_chat_staff(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, STAFF_CHAT_ID=STAFF_CHAT)
    await seed_subscribers(db, [83_001, 83_002])
    sender = RecordingSender()
    first, second = in_staff_chat(app, sender, 7_001), in_staff_chat(app, sender, 7_002)
    assert "منطقه" not in (await first.command("broadcast")).messages[0].html  # asked for the text
    # Another member's message in the shared staff chat is not the first member's draft ...
    assert (await second.says("گفتگوی همکاران")).messages == []
    # ... nor can they confirm it.
    await first.says("اطلاعیه جلسه")
    assert (await second.taps(encode(Action.CONFIRM, "bc"))).tap_answer == staff_texts.BROADCAST_NOTHING_PENDING
    assert await BroadcastService(db, clock).status(1) is None
    done = await first.taps(encode(Action.CONFIRM, "bc"))
    assert done.tap_answer == staff_texts.TAP_BROADCAST_QUEUED
    progress = await BroadcastService(db, clock).status(1)
    assert progress is not None and progress.recipients == 2
