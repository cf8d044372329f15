"""The embedded delivery engine and the proof-of-service export, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from services.messaging import OutgoingMessage, Permanent, RetryAfter, SentMessage, Transient, Unreachable
from services.privacy import Hasher
from services.receipts import RECEIPT_FIELDS, export_receipts
from storage.database import Database
from storage.models import ChatBinding, Message
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app


class FailingSender(RecordingSender):
    """A transport that answers with the given errors first, then accepts."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__()
        self.errors = errors

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        if self.errors:
            raise self.errors.pop(0)
        return await super().send(chat_id, message)


async def _bound_citizen_with_ruling(db: Database, secret: bytes, app, *, commission: str = "first",  # type: ignore[no-untyped-def]
                                     chat_id: int = 700) -> None:
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id="0012345679", mobile="09121234567")
        case = await create_case(session, citizen, case_number="1403051234")
        await create_ruling(session, case, ruling_id="R-1", commission=commission)
    person = Citizen(app, RecordingSender(), user_id=chat_id)
    await person.says("0012345679")
    await person.shares("09121234567")


async def _deliveries(db: Database) -> list[Message]:
    async with db.session() as session:
        return list((await session.exec(select(Message).where(Message.kind == "notice"))).all())


async def test_transient_errors_retry_with_backoff_then_deliver(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock)
    await _bound_citizen_with_ruling(db, secret, app)
    sender = FailingSender([Transient("502 Bad Gateway")])
    stats = await deliver_due(app, sender)
    assert stats.retried == 1 and stats.sent == 0
    (delivery,) = await _deliveries(db)
    assert delivery.status == "queued" and delivery.attempts == 1 and delivery.next_attempt_at is not None
    # Not before its time...
    assert (await deliver_due(app, sender)).sent == 0
    clock.advance(minutes=10)
    assert (await deliver_due(app, sender)).sent == 1
    (delivery,) = await _deliveries(db)
    assert delivery.status == "sent" and delivery.attempts == 2


async def test_retry_after_pauses_without_spending_an_attempt(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock)
    await _bound_citizen_with_ruling(db, secret, app)
    stats = await deliver_due(app, FailingSender([RetryAfter(7)]))
    assert stats.rate_limited == 1
    (delivery,) = await _deliveries(db)
    assert delivery.attempts == 0 and delivery.status == "queued"
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=7)  # back once the pause is over


async def test_a_blocked_chat_is_marked_and_resumes_when_the_citizen_writes(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock)
    await _bound_citizen_with_ruling(db, secret, app)
    assert (await deliver_due(app, FailingSender([Unreachable("403 blocked")]))).blocked == 1
    async with db.session() as session:
        binding = (await session.exec(select(ChatBinding))).one()
        assert binding.unreachable_at is not None
    # Skipped while unreachable...
    assert (await deliver_due(app, RecordingSender())).attempted == 0
    # ...and sent once the citizen writes again.
    person = Citizen(app, RecordingSender(), user_id=700)
    await person.command("help")
    assert (await deliver_due(app, person.sender)).sent == 1


async def test_permanent_errors_fail_visibly(db: Database, secret: bytes) -> None:
    app = make_app(db, secret, Clock())
    await _bound_citizen_with_ruling(db, secret, app)
    assert (await deliver_due(app, FailingSender([Permanent("400 can't parse entities")]))).failed == 1
    (delivery,) = await _deliveries(db)
    assert delivery.status == "failed" and "parse entities" in (delivery.last_error or "")


async def test_transient_errors_give_up_after_the_limit(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock)
    await _bound_citizen_with_ruling(db, secret, app)
    sender = FailingSender([Transient("timeout")] * 10)
    for _ in range(10):
        await deliver_due(app, sender)
        clock.advance(hours=1)
    (delivery,) = await _deliveries(db)
    assert delivery.status == "failed" and delivery.attempts == 6


async def test_export_shows_deemed_service_and_the_appeal_deadline(db: Database, secret: bytes) -> None:
    clock = Clock()  # 2025-01-25 08:00 UTC = 1403/11/06, a Saturday in Tehran
    app = make_app(db, secret, clock)
    await _bound_citizen_with_ruling(db, secret, app)
    await deliver_due(app, RecordingSender())

    (record,) = [r async for r in export_receipts(db, app.law, clock)]
    assert record.service_kind == "pending" and record.appeal_deadline is None
    assert record.appeal_deadline_estimated is False  # no deadline yet: nothing to be unsure of
    assert record.delivered_at == clock.now and record.national_id_masked == "001****679"

    clock.advance(days=11)
    (record,) = [r async for r in export_receipts(db, app.law, clock)]
    assert record.service_kind == "deemed"
    # Deemed at the end of 1403/11/16 (2025-02-04); ten days later is 2025-02-14, a Friday,
    # so the deadline moves to Saturday 2025-02-15.
    assert record.service_at is not None and record.service_at.date() == date(2025, 2, 4)
    assert record.appeal_deadline == date(2025, 2, 15)
    assert record.appeal_deadline_jalali == "1403/11/27"
    assert record.appeal_deadline_estimated is False  # 1403's holidays are all official
    row = record.as_dict()
    assert list(row) == list(RECEIPT_FIELDS)
    fields = list(row)
    assert fields[fields.index("appeal_deadline_jalali") + 1] == "appeal_deadline_estimated"
    assert fields[-3:] == ["proof_seq", "proof_hash", "auth_proof"]
    assert row["appeal_deadline_estimated"] is False


async def test_export_for_a_viewed_notice_under_the_delivery_rule(db: Database, secret: bytes) -> None:
    clock = Clock()
    app = make_app(db, secret, clock, SERVICE_RULE="delivery")
    await _bound_citizen_with_ruling(db, secret, app)
    await deliver_due(app, RecordingSender())
    delivered = clock.now
    clock.advance(days=3)
    (record,) = [r async for r in export_receipts(db, app.law, clock)]
    assert record.service_kind == "delivery" and record.service_at == delivered
    assert record.appeal_deadline == date(2025, 2, 4)  # 1403/11/06 + 10 = 1403/11/16, a Tuesday


async def test_export_marks_a_deadline_that_depends_on_an_estimated_holiday(db: Database, secret: bytes) -> None:
    # Delivered 1415/09/14; day 10 is 1415/09/24, Imam Sadiq's martyrdom, whose date is computed
    # (1415 is far past the package's confirmed years): the deadline moves to 09/25 and is marked.
    clock = Clock(now=datetime(2036, 12, 4, 6, 0, tzinfo=UTC))
    app = make_app(db, secret, clock, SERVICE_RULE="delivery")
    await _bound_citizen_with_ruling(db, secret, app)
    await deliver_due(app, RecordingSender())
    (record,) = [r async for r in export_receipts(db, app.law, clock)]
    assert record.appeal_deadline_jalali == "1415/09/25"
    assert record.appeal_deadline_estimated is True
    assert record.as_dict()["appeal_deadline_estimated"] is True


async def test_logout_cancels_what_is_queued_for_the_chat_and_a_new_login_brings_it_back(
        db: Database, secret: bytes) -> None:
    app = make_app(db, secret, Clock())
    await _bound_citizen_with_ruling(db, secret, app)
    person = Citizen(app, RecordingSender(), user_id=700)
    await person.command("logout")
    (delivery,) = await _deliveries(db)
    assert delivery.status == "cancelled"  # in the logout's own transaction
    assert (await deliver_due(app, person.sender)).attempted == 0
    # The same citizen logs in again in that chat: the notice is theirs, so it goes now.
    await person.says("0012345679")
    await person.shares("09121234567")
    assert (await deliver_due(app, person.sender)).sent == 1
    (delivery,) = await _deliveries(db)
    assert delivery.status == "sent"
