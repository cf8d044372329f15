"""A stateful property test of the conversation: several people, private and group chats, forged and
stale taps, logout and login, restarts, over a real SQLite database and the app as bot/app.py wires it.

Invariants after every step: nothing failed inside (no «something went wrong»); no chat ever shows a
case number or fine of a citizen other than the one its person logs in as (a group: of nobody);
every receipt comes from the bound person in their own private chat; every tap is answered.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import func, select

from handlers import texts
from handlers.callbacks import Action, encode
from handlers.events import Response
from nlp.digits import to_persian_digits
from services.law.calendar import format_rials
from services.messaging import ChatKind, OutgoingMessage
from services.privacy import Hasher
from storage.database import Database
from storage.models import Notice, Receipt
from tests.bot.run_kit import plain
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app

SECRET = b"stateful-secret-key-for-tests-only"
# Three people, each the citizen of one file: (user id, national ID, mobile, case number, fine in Rials).
PEOPLE = (
    (1001, "0012345679", "09121234567", "1403100001", 111_000_000),
    (1002, "0499370899", "09351112233", "1403200002", 222_000_000),
    (1003, "1234567891", "09131112233", "1403300003", 333_000_000),
)
USERS = tuple(p[0] for p in PEOPLE)
GROUP, STAFF_CHAT = -100_7001, -100_7002
QUESTIONS = ("جریمه من چقدره؟", "پروندم به کجا رسید", "مهلت اعتراضم کی تموم میشه", "سلام",
             "وضعیت پرونده ۱۴۰۳۲۰۰۰۰۲ چیه؟", "قیمت دلار چنده")


def _marks(case_number: str, fine: int) -> tuple[str, ...]:
    """What would give a citizen's file away in a chat's text."""
    return (case_number, to_persian_digits(case_number), plain(format_rials(fine)),
            to_persian_digits(f"{fine:,}").replace(",", "٬"))


class ChatScope(RuleBasedStateMachine):
    template: ClassVar[Path]
    workdir: ClassVar[Path]
    model: ClassVar[Any]
    _runs = itertools.count()

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        path = self.workdir / f"run{next(self._runs)}.db"
        shutil.copyfile(self.template, path)
        self.db = Database(f"sqlite:///{path}")
        self.clock = Clock()
        self.sender = RecordingSender()
        self.notice_ids: dict[int, int] = {}  # notice id -> its owner's user id
        self.run(self._seed())
        self.app = self._build()
        self.checked = 0  # messages of `self.sender.sent` already checked

    def _build(self):  # type: ignore[no-untyped-def]
        return make_app(self.db, SECRET, self.clock, model=self.model, STAFF_CHAT_ID=STAFF_CHAT,
                        STAFF_USER_IDS=str(USERS[2]))

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    async def _seed(self) -> None:
        async with self.db.session() as session:
            for user_id, nid, mobile, case_number, fine in PEOPLE:
                citizen = await create_citizen(session, Hasher(SECRET), national_id=nid, mobile=mobile)
                case = await create_case(session, citizen, case_number=case_number)
                for _ in range(2 if user_id == USERS[0] else 1):
                    ruling = await create_ruling(session, case, fine_amount_rials=fine)
                    notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
                    assert notice.id is not None
                    self.notice_ids[notice.id] = user_id

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()

    # People and chats ---------------------------------------------------------------------------

    def person(self, user_id: int, where: str) -> Citizen:
        if where == "private":
            return Citizen(self.app, self.sender, user_id=user_id)
        if where == "group":
            return Citizen(self.app, self.sender, user_id=user_id, chat_id=GROUP, kind=ChatKind.SUPERGROUP)
        return Citizen(self.app, self.sender, user_id=user_id, chat_id=STAFF_CHAT, kind=ChatKind.GROUP)

    def seen_buttons(self) -> list[str]:
        return [b.data for _, m in self.sender.sent for row in m.buttons for b in row]

    def after(self, response: Response) -> Response:
        # Replies are in `self.sender.sent` (dispatch sent them); nothing may have failed inside.
        assert all(m.html != texts.SOMETHING_WENT_WRONG for m in response.messages)
        return response

    users = st.sampled_from(USERS)
    places = st.sampled_from(["private", "private", "group", "staff"])

    @rule(user=users, where=places)
    def start(self, user: int, where: str) -> None:
        self.after(self.run(self.person(user, where).command("start")))

    @rule(user=users, where=places)
    def log_in(self, user: int, where: str) -> None:
        """The whole login with the person's own ID and phone (as the single steps rarely line up)."""
        _, nid, mobile, *_ = next(p for p in PEOPLE if p[0] == user)
        person = self.person(user, where)
        for step in (person.command("start"), person.says(nid), person.shares(mobile)):
            self.after(self.run(step))

    @rule(user=users, where=places, whose=st.sampled_from(PEOPLE))
    def send_national_id(self, user: int, where: str, whose: tuple[Any, ...]) -> None:
        self.after(self.run(self.person(user, where).says(whose[1])))

    @rule(user=users, where=places, right_phone=st.booleans())
    def share_own_contact(self, user: int, where: str, right_phone: bool) -> None:
        mobile = next(p[2] for p in PEOPLE if p[0] == user) if right_phone else "09120000000"
        self.after(self.run(self.person(user, where).shares(mobile)))

    @rule(user=users, where=places, question=st.sampled_from(QUESTIONS))
    def ask(self, user: int, where: str, question: str) -> None:
        self.after(self.run(self.person(user, where).says(question)))

    @rule(user=users, where=places, name=st.sampled_from(["notices", "logout", "help", "cancel", "broadcast"]))
    def command(self, user: int, where: str, name: str) -> None:
        self.after(self.run(self.person(user, where).command(name)))

    @rule(user=users, where=places, data=st.one_of(
        st.text(max_size=12),
        st.integers(-5, 40).map(lambda n: encode(Action.OPEN_NOTICE, n) if n >= 0 else f"o:{n}"),
        st.sampled_from([encode(a) for a in Action] + [encode(Action.CONFIRM, "bc"), "c:fine_amount:0", "i:ruling"])))
    def tap_forged(self, user: int, where: str, data: str) -> None:
        self._tap(user, where, data)

    @precondition(lambda self: bool(self.seen_buttons()))
    @rule(user=users, where=places, pick=st.integers(min_value=0))
    def tap_seen(self, user: int, where: str, pick: int) -> None:
        """Any button ever sent to anyone: stale ones, other people's, a card's after logout."""
        buttons = self.seen_buttons()
        self._tap(user, where, buttons[pick % len(buttons)])

    def _tap(self, user: int, where: str, data: str) -> None:
        before = self.run(self._receipts())
        response = self.after(self.run(self.person(user, where).taps(data)))
        assert response.tap_answer is not None, data
        if where != "private":
            assert self.run(self._receipts()) == before  # never service outside the private chat

    @rule()
    def deliver(self) -> None:
        self.run(deliver_due(self.app, self.sender))

    @rule()
    def restart(self) -> None:
        self.app = self._build()

    @rule(hours=st.integers(1, 300))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    # Invariants ---------------------------------------------------------------------------------

    async def _receipts(self) -> list[tuple[int, int, int | None]]:
        async with self.db.session() as session:
            rows = await session.exec(select(Receipt.notice_id, Receipt.chat_id, Receipt.user_id))
            return list(rows.all())

    @invariant()
    def receipts_only_from_the_bound_person_in_private(self) -> None:
        for notice_id, chat_id, user_id in self.run(self._receipts()):
            assert chat_id == user_id == self.notice_ids[notice_id], (notice_id, chat_id, user_id)

    @invariant()
    def no_chat_shows_another_citizens_file(self) -> None:
        new, self.checked = self.sender.sent[self.checked:], len(self.sender.sent)
        for chat_id, message in new:
            text = _text_of(message)
            for user_id, _nid, _mobile, case_number, fine in PEOPLE:
                if user_id == chat_id:
                    continue  # a person's own private chat may show their own file
                for mark in _marks(case_number, fine):
                    assert mark not in text, (chat_id, user_id, mark, text)

    @invariant()
    def no_step_failed_and_every_receipt_counted_once(self) -> None:
        async def counts() -> tuple[int, int]:
            async with self.db.session() as session:
                receipts = (await session.exec(select(func.count()).select_from(Receipt))).one()
                viewed = (await session.exec(select(func.count()).select_from(Notice).where(
                    Notice.viewed_at.is_not(None)))).one()  # type: ignore[union-attr]
                return int(receipts), int(viewed)

        receipts, viewed = self.run(counts())
        assert receipts == viewed


def _text_of(message: OutgoingMessage) -> str:
    return plain(message.html) + "".join(b.label for row in message.buttons for b in row)


def test_the_conversation_keeps_every_chat_to_its_own(sqlite_template: Path, tmp_path: Path,
                                                      intent_model: object) -> None:
    ChatScope.template, ChatScope.workdir, ChatScope.model = sqlite_template, tmp_path, intent_model
    run_state_machine_as_test(ChatScope, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
