"""Follow-up questions: a question that names no case is about the case the chat last talked about.

Real intent model, real databases, and the conversation state both in memory and on a real Redis.
The citizen has two cases (three in one test) whose every question has an answer in each, so without
the context every question below would be answered with a choice of cases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from redis.asyncio import Redis

from handlers import texts
from handlers.callbacks import Action, decode
from handlers.events import Response
from handlers.followups import Reading, read
from nlp import IntentModel
from services.conversation.state import ChatState, MemoryStateStore, StateStore
from services.privacy import Hasher
from storage.database import Database
from storage.redis_state import RedisStateStore
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app

NID, MOBILE = "0012345679", "09121234567"
A, B, C, D = "۱۴۰۳۰۵۱۲۳۴", "۱۴۰۳۰۵۹۹۹۹", "۱۴۰۳۰۷۷۷۷۷", "۱۴۰۳۰۸۸۸۸۸"
STRANGERS_CASE = "1403120456"
STAFF_CHAT = -100500


@pytest.fixture(params=["memory", "redis"])
def state_redis_url(request: pytest.FixtureRequest) -> str | None:
    """None for the in-memory store; the (flushed) test Redis for RedisStateStore."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.fixture
async def state(state_redis_url: str | None) -> AsyncIterator[StateStore]:
    """The conversation state store, in memory and on a real Redis, as `eblagh run` wires them."""
    if state_redis_url is None:
        yield MemoryStateStore()
        return
    client = Redis.from_url(state_redis_url)
    yield RedisStateStore[ChatState](client, decode=ChatState.from_mapping, encode=ChatState.to_mapping)
    await client.aclose()


async def _seed(db: Database, secret: bytes, *, third_case: bool = False, bare_case: bool = False) -> None:
    hasher = Hasher(secret)
    async with db.session() as session:
        citizen = await create_citizen(session, hasher, national_id=NID, mobile=MOBILE, full_name="مریم رضایی")
        a = await create_case(session, citizen, case_number="1403051234", status="ruling_issued",
                              hearing_at=datetime(2025, 2, 10, 6, 0, tzinfo=UTC))
        await create_ruling(session, a, ruling_id="R-A", fine_amount_rials=1_250_000_000)
        b = await create_case(session, citizen, case_number="1403059999", status="ruling_issued",
                              hearing_at=datetime(2025, 3, 1, 6, 0, tzinfo=UTC))
        await create_ruling(session, b, ruling_id="R-B", fine_amount_rials=300_000_000, issued_on=date(2025, 1, 22))
        if third_case:
            c = await create_case(session, citizen, case_number="1403077777", status="ruling_issued")
            await create_ruling(session, c, ruling_id="R-C", fine_amount_rials=40_000_000)
        if bare_case:
            await create_case(session, citizen, case_number="1403088888", status="hearing_scheduled")
        stranger = await create_citizen(session, hasher, national_id="0499370899", mobile="09351112233")
        await create_case(session, stranger, case_number=STRANGERS_CASE)


async def _bound(db: Database, secret: bytes, model: IntentModel, state: StateStore, clock: Clock | None = None,
                 **settings: object) -> Citizen:
    app = make_app(db, secret, clock or Clock(), model=model, state=state, **settings)
    person = Citizen(app, RecordingSender(), user_id=801)
    await person.says(NID)
    await person.shares(MOBILE)
    await deliver_due(app, person.sender)
    return person


def _text(response: Response) -> str:
    return "\n".join(m.html for m in response.messages)


def _case_buttons(response: Response) -> list[str]:
    """The labels of the case-choice buttons in a reply (empty: no choice was offered)."""
    return [button.label for m in response.messages for row in m.buttons for button in row
            if (tap := decode(button.data)) is not None and tap.action is Action.CASE]


def _about(response: Response, case: str, *others: str) -> str:
    """The reply is one answer about `case`, not a choice and not about the others."""
    body = _text(response)
    assert len(response.messages) == 1, body
    assert case in body, body
    assert not _case_buttons(response), body
    for other in others:
        assert other not in body, body
    return body


def _choice(response: Response, *cases: str) -> None:
    labels = _case_buttons(response)
    assert len(labels) == len(cases), _text(response)
    for case in cases:
        assert any(case in label for label in labels), labels


# How messages read as follow-ups: (message, elliptical, topic, "its", the other case, all cases).
READINGS = [
    ("و مهلتش؟", True, "appeal_deadline", True, False, False),
    ("و جریمه‌اش؟", True, "fine_amount", True, False, False),
    ("جلسه‌اش چی؟", True, "hearing_date", True, False, False),
    ("جلسش کیه؟", True, "hearing_date", True, False, False),
    ("و رأیش؟", True, "ruling", True, False, False),
    ("اون یکی چی؟", True, None, False, True, False),
    ("و اون یکی؟", True, None, False, True, False),
    ("پرونده دیگم چی؟", True, None, False, True, False),
    ("مهلت اعتراض اون یکی چی؟", True, "appeal_deadline", False, True, False),
    ("این یکی چی؟", True, None, True, False, False),
    ("پرونده ۱۴۰۳۰۵۹۹۹۹ چی؟", True, None, False, False, False),
    ("پروندم چی شد؟", True, "case_status", False, False, False),
    # Questions of their own: a word beyond the connectives, case references and one topic.
    ("مهلتش کی تموم میشه؟", False, None, True, False, False),
    ("جریمه‌ام چقدره و چطوری پرداختش کنم؟", False, None, True, False, False),
    ("مهلت پرداخت؟", False, None, False, False, False),
    ("وضعیت همه پرونده‌هام چیه؟", False, None, False, False, True),
    ("چی؟", False, None, False, False, False),
    ("میخوام با کارشناس صحبت کنم", False, None, False, False, False),
    ("kei bayad pardakht konam?", False, None, False, False, False),
]


@pytest.mark.parametrize(("text", "elliptical", "topic", "refers_back", "other", "every"), READINGS,
                         ids=[r[0] for r in READINGS])
def test_how_a_message_reads_as_a_follow_up(text: str, elliptical: bool, topic: str | None, refers_back: bool,
                                           other: bool, every: bool) -> None:
    assert read(text) == Reading(elliptical, topic, refers_back, other, every)


# (the intent, a first question naming case A, a second naming no case, what A's answer says)
DIALOGUES = [
    ("case_status", "جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟", "پرونده‌ام در چه وضعیتیه؟", "رأی صادر شده"),
    ("hearing_date", "وضعیت پرونده ۱۴۰۳۰۵۱۲۳۴ چیه؟", "جلسه رسیدگی کیه؟", "جلسه رسیدگی پرونده"),
    ("ruling", "مهلت اعتراض پرونده ۱۴۰۳۰۵۱۲۳۴ کیه", "رأی کمیسیون چی شد؟", "⚖️ رأی"),
    ("fine_amount", "رای پرونده ۱۴۰۳۰۵۱۲۳۴ چیه", "جریمه‌ام چقدره؟", "۱۲۵٬۰۰۰٬۰۰۰ تومان"),
    ("payment", "جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟", "کی باید پرداخت کنم؟", "برای پرداخت جریمه پرونده"),
    ("appeal_deadline", "جلسه رسیدگی پرونده ۱۴۰۳۰۵۱۲۳۴ کیه؟", "مهلتش کی تموم میشه؟", "مهلت اعتراض به رأی پرونده"),
]


@pytest.mark.parametrize(("intent", "first", "second", "says"), DIALOGUES, ids=[d[0] for d in DIALOGUES])
async def test_a_question_naming_no_case_is_about_the_case_named_before(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore,
        intent: str, first: str, second: str, says: str) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state)
    # With nothing said before, the same question is a choice between the two cases.
    _choice(await person.says(second), A, B)

    _about(await person.says(first), A, B)
    follow_up = _about(await person.says(second), A, B)
    assert says in follow_up


async def test_naming_another_case_switches_and_the_next_question_follows_it(
        db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(db, secret)
    person = await _bound(db, secret, intent_model, state)
    assert "۱۲۵٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    assert "مهلت اعتراض" in _about(await person.says("مهلتش کی تموم میشه؟"), A, B)
    # A new full question with its own case is never captured by the context...
    assert "۳۰٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۹۹۹۹ چقدره؟"), B, A)
    # ...and becomes the context.
    assert "برای پرداخت جریمه پرونده" in _about(await person.says("کی باید پرداخت کنم؟"), B, A)
    assert "جلسه رسیدگی" in _about(await person.says("جلسه‌اش کیه؟"), B, A)


async def test_elliptical_follow_ups_borrow_the_question_or_the_case(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state, STAFF_CHAT_ID=STAFF_CHAT)
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۹۹۹۹ چقدره؟"), B, A)
    # «و مهلتش؟»: the same case, the deadline.
    assert "مهلت اعتراض به رأی پرونده" in _about(await person.says("و مهلتش؟"), B, A)
    assert "۳۰٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("و جریمه‌اش؟"), B, A)
    # The model reads «جلسه‌اش چی؟» as a request for help; as a follow-up it asks the hearing date.
    assert "جلسه رسیدگی پرونده" in _about(await person.says("جلسه‌اش چی؟"), B, A)
    # «پرونده X چی؟» asks the previous question about another named case.
    assert "جلسه رسیدگی پرونده" in _about(await person.says("پرونده ۱۴۰۳۰۵۱۲۳۴ چی؟"), A, B)
    # «پروندم چی شد؟» asks where the (same) case stands, not the previous question again.
    assert "رأی صادر شده" in _about(await person.says("پروندم چی شد؟"), A, B)
    assert person.sender.to(STAFF_CHAT) == []


async def test_that_other_one_is_the_citizens_other_case(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state, STAFF_CHAT_ID=STAFF_CHAT)
    assert "۱۲۵٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    # The previous question (the fine) about the other case. The model alone reads «اون یکی چی؟» as
    # a request for a human: nothing may be forwarded to the staff.
    assert "۳۰٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("اون یکی چی؟"), B, A)
    assert person.sender.to(STAFF_CHAT) == []
    # The other one of the other one is the first again; a topic in it is the question asked.
    assert "مهلت اعتراض به رأی پرونده" in _about(await person.says("مهلت اعتراض اون یکی چی؟"), A, B)
    assert "مهلت اعتراض به رأی پرونده" in _about(await person.says("پرونده دیگم چی؟"), B, A)


async def test_its_stays_on_the_last_case_a_question_of_its_own_need_not(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret, bare_case=True)
    person = await _bound(sqlite_db, secret, intent_model, state)
    _about(await person.says("جلسه رسیدگی پرونده ۱۴۰۳۰۸۸۸۸۸ کیه؟"), D, A, B)
    # «جریمه‌اش»: its fine, and it has no ruling yet.
    assert "هنوز رأیی صادر نشده" in _about(await person.says("جریمه‌اش چقدره؟"), D, A, B)
    # «جریمه‌ام»: my fine, which the last case cannot answer: the cases that can are offered.
    _choice(await person.says("جریمه‌ام چقدره؟"), A, B)


async def test_with_three_cases_the_other_ones_are_offered(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret, third_case=True)
    person = await _bound(sqlite_db, secret, intent_model, state)
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B, C)
    offer = await person.says("اون یکی چی؟")
    _choice(offer, B, C)
    assert A not in "".join(_case_buttons(offer))
    button = next(b for m in offer.messages for row in m.buttons for b in row if C in b.label)
    assert "۴٬۰۰۰٬۰۰۰ تومان" in _about(await person.taps(button.data), C, A, B)
    # The tapped case is now the context.
    assert "مهلت اعتراض به رأی پرونده" in _about(await person.says("و مهلتش؟"), C, A, B)


async def test_questions_of_their_own_are_not_captured(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state)
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    # A question about every case lists every case.
    listing = await person.says("وضعیت همه پرونده‌هام چیه؟")
    assert A in _text(listing) and B in _text(listing)
    _choice(listing, A, B)
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    # Another citizen's case is refused as before, and the context stays on A.
    assert "در میان پرونده‌های شما نیست" in _text(await person.says(f"جریمه پرونده {STRANGERS_CASE} چقدره؟"))
    # Small talk and general questions are answered as before, and leave the context alone.
    assert _text(await person.says("سلام")).startswith("سلام")
    assert "نحوه اعتراض" in _text(await person.says("چطوری اعتراض کنم؟"))
    assert "مهلت اعتراض به رأی پرونده" in _about(await person.says("و مهلتش؟"), A, B)


async def test_a_suggested_question_under_an_answer_is_about_its_case(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state)
    fine = await person.says("جریمه پرونده ۱۴۰۳۰۵۹۹۹۹ چقدره؟")
    payment_button = fine.messages[0].buttons[0][0]
    assert payment_button.label == texts.INTENT_BUTTON["payment"]
    assert "برای پرداخت جریمه پرونده" in _about(await person.taps(payment_button.data), B, A)


async def test_the_context_is_forgotten_after_thirty_minutes(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    clock = Clock()
    person = await _bound(sqlite_db, secret, intent_model, state, clock)
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    clock.advance(minutes=29)
    _about(await person.says("مهلتش کی تموم میشه؟"), A, B)  # and the 30 minutes start again
    clock.advance(minutes=29)
    _about(await person.says("و جریمه‌اش؟"), A, B)
    clock.advance(minutes=31)
    _choice(await person.says("جریمه‌ام چقدره؟"), A, B)
    _choice(await person.says("جریمه‌ام چقدره؟"), A, B)  # a choice offered is no case to follow


async def test_an_elliptical_message_with_nothing_to_lean_on_is_not_sent_to_a_human(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state, STAFF_CHAT_ID=STAFF_CHAT)
    # The model alone reads «اون یکی چی؟» as a request for a human; with no case talked about yet,
    # where each case stands is listed instead.
    listing = await person.says("اون یکی چی؟")
    assert "رأی صادر شده" in _text(listing)
    _choice(listing, A, B)
    # «جلسه‌اش چی؟» (read by the model as a request for help) asks the hearing date: which case?
    _choice(await person.says("جلسه‌اش چی؟"), A, B)
    assert person.sender.to(STAFF_CHAT) == []


async def test_opening_a_notice_makes_its_case_the_context(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state)
    cards = [m for m in person.inbox() if m.buttons and B in m.html]
    assert len(cards) == 1
    opened = await person.taps(cards[0].buttons[0][0].data)
    assert opened.tap_answer == texts.TAP_SERVICE_RECORDED
    # Opened today: the appeal period has started, with its last day.
    deadline = _about(await person.says("مهلتش کی تموم میشه؟"), B, A)
    assert "تا پایان" in deadline
    assert "۳۰٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("جریمه‌ام چقدره؟"), B, A)
    assert "۱۲۵٬۰۰۰٬۰۰۰ تومان" in _about(await person.says("اون یکی چی؟"), A, B)


async def test_logout_and_cancel_forget_the_context(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state)
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    await person.command("cancel")
    _choice(await person.says("جریمه‌ام چقدره؟"), A, B)

    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    assert _text(await person.command("logout")) == texts.LOGGED_OUT
    # Logged out: no case at all is answered, whatever the chat talked about before.
    unbound = _text(await person.says("مهلتش کی تموم میشه؟"))
    assert A not in unbound and B not in unbound
    await person.says(NID)
    await person.shares(MOBILE)
    _choice(await person.says("جریمه‌ام چقدره؟"), A, B)


async def test_the_context_is_per_chat_and_leaves_the_other_steps_alone(
        sqlite_db: Database, secret: bytes, intent_model: IntentModel, state: StateStore) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, state, STAFF_USER_IDS="801")
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    # A second chat of the same citizen logs in (its own steps) and has no context of its own.
    other_chat = Citizen(person.app, person.sender, user_id=802)
    await other_chat.says(NID)
    assert "هویت شما تأیید شد" in _text(await other_chat.shares(MOBILE))
    _choice(await other_chat.says("جریمه‌ام چقدره؟"), A, B)
    # (That a step with data, saved or cleared, never touches the context: tests/services/test_followups.py;
    # staff broadcast drafts live in the staff chat only, never in a citizen's.)
    assert "مهلت اعتراض به رأی پرونده" in _about(await person.says("و مهلتش؟"), A, B)


async def test_a_finglish_follow_up(sqlite_db: Database, secret: bytes, intent_model: IntentModel) -> None:
    await _seed(sqlite_db, secret)
    person = await _bound(sqlite_db, secret, intent_model, MemoryStateStore())
    _about(await person.says("جریمه پرونده ۱۴۰۳۰۵۱۲۳۴ چقدره؟"), A, B)
    assert "برای پرداخت جریمه پرونده" in _about(await person.says("kei bayad pardakht konam?"), A, B)
