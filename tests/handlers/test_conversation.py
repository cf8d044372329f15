"""The citizen journey through the framework-free conversation, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import func, select

from bot.messengers.fit import fit, marker
from handlers import texts
from handlers.callbacks import Action, encode
from services.messaging import TEXT_LIMIT
from services.privacy import Hasher
from storage import citizens as citizen_store
from storage.database import Database
from storage.models import AuthAttempt, Message, Notice, Receipt
from tests.botapi.rules import parse_html
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app

NID = "0012345679"
MOBILE = "09121234567"


async def _seed(db: Database, secret: bytes, *, text: str = "متن کامل رأی", commission: str = "first") -> int:
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id=NID, mobile=MOBILE,
                                       full_name="مریم رضایی")
        case = await create_case(session, citizen, case_number="1403051234")
        ruling = await create_ruling(session, case, ruling_id="R-1", text=text, commission=commission)
        notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
        assert notice.id is not None
        return notice.id


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


def _texts(response) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(m.html for m in response.messages)


async def _login(person: Citizen) -> None:
    await person.command("start")
    await person.says(NID)
    reply = await person.shares(MOBILE)
    assert "هویت شما تأیید شد" in _texts(reply)


async def test_the_whole_journey(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret)
    clock = Clock()
    app = make_app(db, secret, clock)
    person = Citizen(app, RecordingSender(), user_id=501)

    reply = await person.command("start")
    assert "کد ملی" in _texts(reply)

    reply = await person.says("۰۰۱۲۳۴۵۶۷۹")  # Persian digits are fine
    assert reply.messages[-1].request_contact == texts.BUTTON_SHARE_CONTACT
    assert "۰۰۱****۶۷۹" in _texts(reply)

    reply = await person.shares(MOBILE)
    assert "مریم رضایی" in _texts(reply)
    assert "۱ ابلاغیه" in _texts(reply)
    assert reply.messages[0].remove_keyboard

    stats = await deliver_due(app, person.sender)
    assert stats.sent == 1
    card = person.inbox()[-1]
    assert "۱۴۰۳۰۵۱۲۳۴" in card.html and "جریمه" in card.html and "۱۴۰۳/۱۱/۰۱" in card.html
    open_data = card.buttons[0][0].data
    assert open_data == encode(Action.OPEN_NOTICE, notice_id)

    clock.advance(hours=2)
    reply = await person.taps(open_data)
    assert reply.tap_answer == texts.TAP_SERVICE_RECORDED
    assert "متن کامل رأی" in _texts(reply)
    assert "مهلت اعتراض" in _texts(reply)
    assert texts.APPEAL_DEADLINE_ESTIMATED.strip() not in _texts(reply)  # 1403: every holiday is official
    assert await _count(db, Receipt) == 1

    clock.advance(days=1)
    reply = await person.taps(open_data)
    assert reply.tap_answer == ""
    assert "متن کامل رأی" in _texts(reply)
    assert await _count(db, Receipt) == 1
    async with db.session() as session:
        notice = await session.get(Notice, notice_id)
        assert notice is not None and notice.viewed_at == clock.now.replace(day=clock.now.day - 1)

    reply = await person.command("notices")
    assert texts.NOTICE_STATE_OPENED in _texts(reply)

    # Nothing is delivered twice, however often the engine runs.
    assert (await deliver_due(app, person.sender)).sent == 0
    assert await _count(db, Message) == 1

    reply = await person.command("logout")
    assert _texts(reply) == texts.LOGGED_OUT
    reply = await person.taps(open_data)
    assert "وارد شوید" in _texts(reply)


async def test_national_id_mistakes_get_their_own_reason(db: Database, secret: bytes) -> None:
    app = make_app(db, secret, Clock())
    person = Citizen(app, RecordingSender(), user_id=502)
    await person.command("start")
    assert "۵ رقم" in _texts(await person.says("12345"))
    assert "معتبر نیست" in _texts(await person.says("0012345678"))
    assert "یکسان" in _texts(await person.says("1111111111"))
    assert "فقط از رقم" in _texts(await person.says("00123a5679"))
    # Nothing was asked for yet: no contact button before a valid ID.
    assert all(m.request_contact is None for m in person.inbox())


async def test_someone_elses_contact_is_refused(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock())
    person = Citizen(app, RecordingSender(), user_id=503)
    await person.command("start")
    await person.says(NID)
    reply = await person.shares(MOBILE, owner=999)
    assert _texts(reply) == texts.CONTACT_NOT_OWN
    assert reply.messages[0].request_contact
    async with db.session() as session:
        assert await citizen_store.find_active_binding(session, "telegram", 503) is None


async def test_unknown_id_and_wrong_phone_read_the_same(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock())
    known = Citizen(app, RecordingSender(), user_id=504)
    await known.command("start")
    await known.says(NID)
    wrong_phone = _texts(await known.shares("09350000000"))

    stranger = Citizen(app, RecordingSender(), user_id=505)
    await stranger.command("start")
    await stranger.says("0499370899")  # valid checksum, not on file
    unknown_id = _texts(await stranger.shares("09350000000"))
    assert wrong_phone == unknown_id
    assert texts.CONTACT_MISMATCH in wrong_phone


async def test_failures_lock_the_chat_not_the_national_id(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock(), AUTH_MAX_FAILURES_PER_CHAT=3)
    person = Citizen(app, RecordingSender(), user_id=506)
    for _ in range(3):
        await person.says(NID)
        await person.shares("09350000000")
    reply = await person.says(NID)
    assert "تلاش‌های ناموفق" in _texts(reply)
    # The right phone does not get through a locked chat either.
    reply = await person.shares(MOBILE)
    assert "هویت شما تأیید شد" not in _texts(reply)

    # Another chat is not locked by the first one's failures on the same ID: its owner logs in.
    owner = Citizen(app, RecordingSender(), user_id=507)
    await owner.says(NID)
    await owner.shares("09350000001")  # one slip of their own first
    await _login(owner)
    assert await _count(db, AuthAttempt) == 5


async def test_a_national_id_pasted_with_invisible_marks_logs_in(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock())
    person = Citizen(app, RecordingSender(), user_id=512)
    # Not after /start: the chat is idle, so the text itself must read as a national ID.
    reply = await person.says("\u200f۰۰۱۲\u200b۳۴۵۶۷۹\u200e")
    assert reply.messages[-1].request_contact == texts.BUTTON_SHARE_CONTACT
    reply = await person.shares("\u202a+98 912 123 4567\u202c")
    assert "هویت شما تأیید شد" in _texts(reply)


async def test_a_notice_tap_from_another_citizen_is_refused(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret)
    async with db.session() as session:
        await create_citizen(session, Hasher(secret), national_id="0499370899", mobile="09351112233")
    app = make_app(db, secret, Clock())
    intruder = Citizen(app, RecordingSender(), user_id=508)
    await intruder.says("0499370899")
    await intruder.shares("09351112233")
    reply = await intruder.taps(encode(Action.OPEN_NOTICE, notice_id))
    assert reply.tap_answer == texts.NOTICE_NOT_YOURS
    assert reply.messages == []
    assert await _count(db, Receipt) == 0
    # Forged or stale data is answered too, never ignored.
    assert (await intruder.taps("o:notanumber")).tap_answer == texts.UNKNOWN_BUTTON
    assert (await intruder.taps("zz")).tap_answer == texts.UNKNOWN_BUTTON


async def test_one_citizen_in_two_chats_gets_each_notice_in_each(db: Database, secret: bytes) -> None:
    await _seed(db, secret)
    app = make_app(db, secret, Clock())
    # One person has one private chat per messenger: here on Telegram and on Bale.
    telegram, bale = RecordingSender(), RecordingSender("bale")
    await _login(Citizen(app, telegram, user_id=509))
    await _login(Citizen(app, bale, user_id=509))
    for _ in range(2):
        await deliver_due(app, telegram)
        await deliver_due(app, bale)
    assert sum("ابلاغیه رأی" in m.html for m in telegram.to(509)) == 1
    assert sum("ابلاغیه رأی" in m.html for m in bale.to(509)) == 1


async def test_a_long_ruling_is_split_and_shown_as_written(db: Database, secret: bytes) -> None:
    paragraph = "بند <الف> & بند <ب>: مساحت > ۲۰ مترمربع. " * 60
    text = "\n\n".join([paragraph] * 5)
    notice_id = await _seed(db, secret, text=text)
    app = make_app(db, secret, Clock())
    person = Citizen(app, RecordingSender(), user_id=510)
    await _login(person)
    reply = await person.taps(encode(Action.OPEN_NOTICE, notice_id))
    # The messenger port splits what is too long for one message (bot/messengers/fit.py).
    parts = fit(reply.messages[0])
    assert len(parts) > 1
    assert all(len(parse_html(p.html).text) <= TEXT_LIMIT for p in parts)
    assert "&lt;الف&gt; &amp; بند" in parts[0].html
    assert "<الف>" not in "".join(p.html for p in parts)
    shown = "".join(parse_html(p.html).text[len(marker(n, len(parts))):] for n, p in enumerate(parts, start=1))
    assert shown.endswith(text.strip())  # after the header, the ruling's text exactly as written


async def test_the_summary_flags_a_deadline_that_depends_on_an_estimated_holiday(db: Database,
                                                                                secret: bytes) -> None:
    notice_id = await _seed(db, secret)
    # Opened on 1415/09/14; day 10 is 1415/09/24, an estimated lunar holiday (Imam Sadiq's martyrdom).
    app = make_app(db, secret, Clock(now=datetime(2036, 12, 4, 6, 0, tzinfo=UTC)))
    person = Citizen(app, RecordingSender(), user_id=512)
    await _login(person)
    summary = (await person.taps(encode(Action.OPEN_NOTICE, notice_id))).messages[-1].html
    assert "۲۵ آذر ۱۴۱۵" in summary
    assert texts.APPEAL_DEADLINE_ESTIMATED.strip() in summary


async def test_an_appeal_commission_ruling_is_final(db: Database, secret: bytes) -> None:
    notice_id = await _seed(db, secret, commission="appeal")
    app = make_app(db, secret, Clock())
    person = Citizen(app, RecordingSender(), user_id=511)
    await _login(person)
    reply = await person.taps(encode(Action.OPEN_NOTICE, notice_id))
    summary = reply.messages[-1].html
    assert "قطعی" in summary and "دیوان عدالت اداری" in summary
    assert "مهلت اعتراض" not in summary
