"""Questions in everyday Persian, answered from the citizen's own data with the real intent model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.dispatch import dispatch
from bot.messengers.fit import send_fitted
from handlers import texts
from handlers.callbacks import Action, encode
from handlers.events import TextReceived
from nlp import IntentModel
from services.messaging import OutgoingMessage, SendError, SentMessage, Transient, Unreachable
from services.privacy import Hasher
from storage.database import Database
from storage.models import Handoff
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app

NID, MOBILE = "0012345679", "09121234567"
STAFF_CHAT = -100500


async def _seed(db: Database, secret: bytes, *, second_case: bool = False) -> None:
    hasher = Hasher(secret)
    async with db.session() as session:
        citizen = await create_citizen(session, hasher, national_id=NID, mobile=MOBILE, full_name="مریم رضایی",
                                       district=5)
        case = await create_case(session, citizen, case_number="1403051234", status="ruling_issued")
        await create_ruling(session, case, ruling_id="R-1", fine_amount_rials=1_250_000_000)
        if second_case:
            other = await create_case(session, citizen, case_number="1403059999", status="hearing_scheduled",
                                      hearing_at=datetime(2025, 3, 1, 6, 0, tzinfo=UTC))
            assert other.id
        stranger = await create_citizen(session, hasher, national_id="0499370899", mobile="09351112233")
        await create_case(session, stranger, case_number="1403120456")


async def _bound(db: Database, secret: bytes, model: IntentModel, **settings: object) -> Citizen:
    app = make_app(db, secret, Clock(), model=model, **settings)
    person = Citizen(app, RecordingSender(), user_id=801)
    await person.says(NID)
    await person.shares(MOBILE)
    await deliver_due(app, person.sender)
    return person


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.html for m in response.messages)


async def test_the_issue_questions_are_answered_from_the_citizens_data(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, STAFF_CHAT_ID=STAFF_CHAT)

    assert "۱۲۵٬۰۰۰٬۰۰۰ تومان" in _text(await person.says("جریمه من چقدره؟"))
    deadline = _text(await person.says("مهلت اعتراضم کی تموم میشه"))
    assert "مهلت اعتراض" in deadline and "۱۴۰۳۰۵۱۲۳۴" in deadline
    assert "رأی صادر شده" in _text(await person.says("پروندم به کجا رسید"))
    person.drains = True  # the engine forwards the question, then tells the citizen
    human = await person.says("میخوام با کارشناس صحبت کنم")
    assert _text(human) == texts.HUMAN_FORWARDED
    person.drains = False
    assert _text(await person.says("قیمت دلار چنده")) == texts.OUT_OF_SCOPE

    # The question reached the staff chat, with the citizen's masked ID, never the whole one.
    staff = person.sender.to(STAFF_CHAT)
    assert len(staff) == 1 and "۰۰۱****۶۷۹" in staff[0].html and NID not in staff[0].html


async def test_a_staff_reply_goes_back_to_the_citizen(sqlite_db: Database, secret: bytes,
                                                      intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, STAFF_CHAT_ID=STAFF_CHAT)
    person.drains = True
    await person.says("میخوام با کارشناس صحبت کنم، جریمه‌ام زیاده")
    # RecordingSender numbers messages in order, from 1.
    forwarded_id = next(i for i, (chat, _) in enumerate(person.sender.sent, start=1) if chat == STAFF_CHAT)
    staff_member = Citizen(person.app, person.sender, user_id=42, chat_id=STAFF_CHAT, drains=True)
    reply = await staff_member.replies("سلام، لطفاً فردا تماس بگیرید <۱۳۷>", to=forwarded_id)
    assert "فرستاده شد" in _text(reply)
    answer = person.inbox()[-1].html
    assert "پاسخ کارشناس" in answer and "&lt;۱۳۷&gt;" in answer
    async with sqlite_db.session() as session:
        handoff = (await session.exec(select(Handoff))).one()
        assert handoff.answered_by == 42 and handoff.answer and "فردا" in handoff.answer
    # Chatter in the staff chat that replies to nothing is not treated as a citizen's message.
    assert (await dispatch(person.app, TextReceived(staff_member.chat, "سلام همکاران"), person.sender)).messages == []


class Unreliable(RecordingSender):
    """Splits long messages like a messenger, numbers each part, and fails for chats in `down`."""

    def __init__(self) -> None:
        super().__init__()
        self.down: dict[int, SendError] = {}

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        async def one(part: OutgoingMessage) -> SentMessage:
            if chat_id in self.down:
                raise self.down[chat_id]
            return await RecordingSender.send(self, chat_id, part)
        return await send_fitted(one, message)


async def test_the_citizen_hears_forwarded_only_once_the_staff_chat_has_it(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    app = make_app(sqlite_db, secret, Clock(), model=intent_model, STAFF_CHAT_ID=STAFF_CHAT)
    sender = Unreliable()
    person = Citizen(app, sender, user_id=801, drains=True)
    await person.says(NID)
    await person.shares(MOBILE)
    sender.down[STAFF_CHAT] = Unreachable("Bad Request: chat not found")
    question = "میخوام با کارشناس صحبت کنم\x07\x00 درباره \ud800جریمه\r\n\tلطفاً"
    reply = await person.says(question)
    assert texts.HUMAN_FORWARDED not in _text(reply)
    assert person.inbox()[-1].html == texts.HUMAN_NOT_FORWARDED.format(handoff_id="۱")
    async with sqlite_db.session() as session:
        handoff = (await session.exec(select(Handoff))).one()
    # Kept for staff, marked as not forwarded, without the control characters.
    assert (handoff.forward_status, handoff.forward_error) == ("failed", "gone")
    assert handoff.question == "میخوام با کارشناس صحبت کنم درباره جریمه\n\tلطفاً"

    del sender.down[STAFF_CHAT]
    long_question = "میخوام با کارشناس صحبت کنم. " + "جریمه من درست حساب نشده است و مساحت اشتباه است. " * 100
    await person.says(long_question)
    staff = sender.to(STAFF_CHAT)
    assert len(staff) == 2 and staff[0].html.startswith("(۱/۲)") and staff[1].html.startswith("(۲/۲)")
    assert person.inbox()[-1].html == texts.HUMAN_FORWARDED
    # A reply to the second part reaches the citizen.
    second = len(sender.sent) - 1  # the staff chat's second part came just before the citizen's note
    assert sender.sent[second - 1] == (STAFF_CHAT, staff[1])
    staff_member = Citizen(app, sender, user_id=42, chat_id=STAFF_CHAT, drains=True)
    answered = await staff_member.replies("بررسی می‌کنیم", to=second)
    assert "بررسی می‌کنیم" in person.inbox()[-1].html
    assert _text(answered) == texts.STAFF_REPLY_SENT.format(handoff_id="۲")


@pytest.mark.parametrize(("error", "reason"), [
    (Unreachable("Forbidden: bot was blocked by the user"), "blocked"),
    (Unreachable("Forbidden: user is deactivated"), "gone"),
    (Transient("Bad Gateway"), "temporary"),
])
async def test_staff_hear_why_an_answer_did_not_reach_the_citizen(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, error: SendError, reason: str) -> None:
    await _seed(sqlite_db, secret)
    sender = Unreliable()
    clock = Clock()
    app = make_app(sqlite_db, secret, clock, model=intent_model, STAFF_CHAT_ID=STAFF_CHAT)
    person = Citizen(app, sender, user_id=801, drains=True)
    await person.says("میخوام با کارشناس صحبت کنم")
    forwarded = next(i for i, (chat, _) in enumerate(sender.sent, start=1) if chat == STAFF_CHAT)
    sender.down[801] = error
    staff_member = Citizen(app, sender, user_id=42, chat_id=STAFF_CHAT, drains=True)
    answered = await staff_member.replies("پاسخ", to=forwarded)
    if isinstance(error, Transient):
        # A temporary failure is retried like any message; staff hear of it once the engine gives up.
        assert _text(answered) == ""
        for _ in range(5):
            clock.advance(minutes=10)
            await deliver_due(app, sender)
    note = texts.STAFF_REPLY_NOT_SENT.format(handoff_id="۱", reason=texts.STAFF_REPLY_UNDELIVERED[reason])
    assert sender.to(STAFF_CHAT)[-1].html == note
    assert [m.html for m in sender.to(STAFF_CHAT)].count(note) == 1


async def test_two_questions_in_one_message_get_two_answers(sqlite_db: Database, secret: bytes,
                                                            intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model)
    reply = await person.says("جریمه‌ام چقدره و چطوری پرداختش کنم؟")
    assert len(reply.messages) == 2
    assert "جریمه پرونده" in reply.messages[0].html and "برای پرداخت" in reply.messages[1].html


async def test_another_citizens_case_number_is_not_answered(sqlite_db: Database, secret: bytes,
                                                            intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model)
    reply = _text(await person.says("وضعیت پرونده ۱۴۰۳۱۲۰۴۵۶ چیه؟"))
    assert "در میان پرونده‌های شما نیست" in reply
    assert "۱۴۰۳۰۵۱۲۳۴" in reply  # their own case is listed instead


async def test_several_cases_are_listed_with_buttons_and_a_tap_answers_one(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret, second_case=True)
    person = await _bound(sqlite_db, secret, intent_model)
    # Status fits in a line per case: every case is listed, with buttons for details.
    listing = (await person.says("پروندم به کجا رسید")).messages[0]
    assert "رأی صادر شده" in listing.html and "جلسه رسیدگی تعیین شده" in listing.html
    assert len(listing.buttons) == 2
    pick = (await person.says("جلسه رسیدگی کیه؟")).messages[0]
    assert len(pick.buttons) == 2
    tapped = await person.taps(pick.buttons[1][0].data)
    assert "۱۴۰۳۰۵۹۹۹۹" in _text(tapped) and "جلسه رسیدگی" in _text(tapped)
    # The picked case is then the one a question naming no case is about (tests/handlers/test_followups.py).
    follow_up = _text(await person.says("پروندم به کجا رسید"))
    assert "۱۴۰۳۰۵۹۹۹۹" in follow_up and "۱۴۰۳۰۵۱۲۳۴" not in follow_up
    # Only one case has a ruling, so a fine question is answered for it directly.
    assert "۱۲۵٬۰۰۰٬۰۰۰" in _text(await person.says("جریمه‌ام چقدره"))
    # An index that is not among the tapper's own cases is refused, not answered.
    assert (await person.taps(encode(Action.CASE, "case_status:7"))).tap_answer == texts.UNKNOWN_BUTTON


async def test_a_deadline_that_depends_on_an_estimated_holiday_says_so(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    # Delivered (= served, under this rule) on 1415/09/14; day 10 is an estimated lunar holiday.
    clock = Clock(now=datetime(2036, 12, 4, 6, 0, tzinfo=UTC))
    app = make_app(sqlite_db, secret, clock, model=intent_model, SERVICE_RULE="delivery")
    person = Citizen(app, RecordingSender(), user_id=803)
    await person.says(NID)
    await person.shares(MOBILE)
    await deliver_due(app, person.sender)
    deadline = _text(await person.says("مهلت اعتراضم کی تموم میشه"))
    assert "۲۵ آذر ۱۴۱۵" in deadline
    assert texts.APPEAL_DEADLINE_ESTIMATED.strip() in deadline


async def test_a_certain_deadline_has_no_caveat(sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, SERVICE_RULE="delivery")
    deadline = _text(await person.says("مهلت اعتراضم کی تموم میشه"))
    assert "روز دیگر" in deadline
    assert texts.APPEAL_DEADLINE_ESTIMATED.strip() not in deadline
    assert texts.APPEAL_DEADLINE_UNCERTAIN.strip() not in deadline


@pytest.mark.parametrize("question", ["جریمه من چقدره؟", "مهلت اعتراضم کی تموم میشه"])
async def test_before_login_the_answer_is_general_with_an_invitation(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, question: str) -> None:
    await _seed(sqlite_db, secret)
    app = make_app(sqlite_db, secret, Clock(), model=intent_model)
    stranger = Citizen(app, RecordingSender(), user_id=802)
    reply = await stranger.says(question)
    assert "کد ملی" in _text(reply)
    assert "۱۲۵٬۰۰۰٬۰۰۰" not in _text(reply)
    assert reply.messages[0].buttons[0][0].data == encode(Action.LOGIN)


async def test_without_a_staff_chat_the_citizen_is_told_where_to_turn(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model)
    assert _text(await person.says("میخوام با یه آدم حرف بزنم")) == texts.HUMAN_UNAVAILABLE


async def test_contact_shows_the_office_of_the_citizens_district(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model)
    reply = _text(await person.says("آدرس دبیرخانه کمیسیون کجاست؟"))
    assert "منطقه ۵" in reply and "۱۳۷" in reply
