"""The staff /broadcast command: preview with the recipient count, confirmation, refusal for others."""

from __future__ import annotations

from handlers import staff_texts, texts
from handlers.callbacks import Action, encode
from services.broadcasts import BroadcastProblem, BroadcastService
from storage.database import Database
from tests.delivery_kit import seed_subscribers
from tests.journey import Citizen, Clock, RecordingSender, make_app

STAFF = 9_001


async def test_staff_broadcast_preview_confirm_and_queue(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, STAFF_USER_IDS=f"{STAFF}, 9002")
    await seed_subscribers(db, [80_001, 80_002, 80_003], district=6)
    await seed_subscribers(db, [80_011], district=2)
    staff = Citizen(app, RecordingSender(), user_id=STAFF)

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
    app = make_app(db, secret, clock, STAFF_USER_IDS=str(STAFF))
    await seed_subscribers(db, [81_001])
    staff = Citizen(app, RecordingSender(), user_id=STAFF)
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
    app = make_app(db, secret, clock, STAFF_USER_IDS=str(STAFF))
    citizen = Citizen(app, RecordingSender(), user_id=1234)
    for name in ("broadcast", "broadcast_status"):
        reply = await citizen.command(name, "1")
        assert [m.html for m in reply.messages] == [texts.UNKNOWN_COMMAND]
    forged = await citizen.taps(encode(Action.CONFIRM, "bc"))
    assert forged.tap_answer == texts.UNKNOWN_BUTTON
