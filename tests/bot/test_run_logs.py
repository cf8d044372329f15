"""`eblagh run` at DEBUG logs no personal data and no secret, on {aiogram, ptb} x {polling, webhook}.

Every logger (root, aiogram, telegram/ptb, httpx, httpcore, aiohttp, sqlalchemy) is turned up to
DEBUG and captured while the citizen journeys run against the loopback Bot API: login after a
wrong contact, the pushed ruling, opening it, questions, a question for a human, and a stranger who
types the citizen's national ID and mobile into the chat. The capture must hold no full national ID,
no full mobile in any form, no token secret and no webhook secret.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from handlers import texts
from handlers.callbacks import Action
from nlp.digits import to_persian_digits
from storage.database import Database
from tests.bot.run_kit import WEBHOOK_SECRET, Person, running, settings_for, until
from tests.bot.test_run_contract import CITIZEN, MOBILE, NID, OTHER, log_in, seed
from tests.botapi import FakeBotAPI

STAFF_CHAT = -100500
LOGGERS = ("", "aiogram", "telegram", "telegram.ext", "httpx", "httpcore", "aiohttp", "aiohttp.access",
           "aiohttp.client", "aiohttp.server", "aiohttp.web", "sqlalchemy", "sqlalchemy.engine", "sqlalchemy.pool",
           "asyncio", "redis", "bot", "handlers", "services", "storage", "nlp")

pytestmark = pytest.mark.parametrize(
    ("framework", "mode"), [(f, m) for f in ("aiogram", "ptb") for m in ("polling", "webhook")])


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as server:
        yield server


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, formatted with its arguments, as a deployment's handler would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in LOGGERS}
    root.addHandler(handler)
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _forms_of(digits: str) -> list[str]:
    """The ways a run of digits can show up in a log line: ASCII, Persian, JSON-escaped Persian."""
    persian = to_persian_digits(digits)
    return [digits, persian, json.dumps(persian)[1:-1], json.dumps(persian)[1:-1].upper()]


def _leaks(log: str, server: FakeBotAPI) -> list[str]:
    mobile_core = MOBILE[1:]  # 9121234567: inside 0912..., +98912..., 98912..., 00989...
    forbidden = {
        "national ID": _forms_of(NID),
        "mobile": _forms_of(mobile_core),
        "bot token secret": [server.token.split(":", 1)[1]],
        "webhook secret": [WEBHOOK_SECRET],
    }
    return [f"{what}: {form!r}" for what, forms in forbidden.items() for form in forms if form in log]


async def test_debug_logs_hold_no_personal_data_or_secrets(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, intent_model: object, captured: io.StringIO,
        framework: str, mode: str) -> None:
    await seed(sqlite_db, secret)
    api.add_user(STAFF_CHAT)
    settings = settings_for(api, secret, framework=framework, mode=mode, STAFF_CHAT_ID=STAFF_CHAT)
    person, stranger = Person(api, CITIZEN), Person(api, OTHER)
    async with running(settings, sqlite_db, secret, model=intent_model):
        # A stranger types the citizen's ID and mobile, in Persian digits and in Latin ones.
        api.send_command(OTHER, f"/start {NID}")
        await stranger.expect("شماره همراه", timeout=30)  # a cold start on a busy machine is slow
        api.share_contact(OTHER, "98" + MOBILE[1:], contact_user_id=CITIZEN)  # the citizen's contact
        await stranger.expect(texts.CONTACT_NOT_OWN[:30])
        api.share_contact(OTHER, "09350000000")  # their own
        await stranger.expect(texts.CONTACT_MISMATCH[:30])
        api.send_text(OTHER, f"کد ملی {to_persian_digits(NID)} و موبایل {to_persian_digits(MOBILE)} مال کیه؟")
        await stranger.expect("")

        # The citizen: a wrong contact first, then the login, the ruling, questions, a human.
        api.send_command(CITIZEN, "/start")
        await person.expect("کد ملی")
        api.send_text(CITIZEN, f"\u200f{to_persian_digits(NID)}")
        await person.expect("شماره همراه")
        api.share_contact(CITIZEN, MOBILE, contact_user_id=4242)
        await person.expect(texts.CONTACT_NOT_OWN[:30])
        api.share_contact(CITIZEN, "+98" + MOBILE[1:])
        await person.expect("هویت شما تأیید شد")
        card = await person.expect("۱۴۰۳")
        assert await person.tap(card, person.button(card, Action.OPEN_NOTICE)) == texts.TAP_SERVICE_RECORDED
        await person.expect("مهلت اعتراض")
        api.send_text(CITIZEN, "جریمه من چقدره؟")
        await person.expect("جریمه پرونده")
        api.send_text(CITIZEN, f"میخوام با کارشناس صحبت کنم، کد ملی من {NID} و موبایلم {MOBILE} است")
        await person.expect(texts.HUMAN_FORWARDED[:20])
        await until(lambda: api.messages(STAFF_CHAT), what="the question at the staff chat")
        # The same citizen on a second device: the ID and the mobile's last form go through too.
        await log_in(Person(api, 3003), NID, "0098" + MOBILE[1:])

    log = captured.getvalue()
    # DEBUG really was on, for our code and the libraries both.
    assert "DEBUG" in log and "sqlalchemy" in log
    assert ("telegram" in log or "httpx" in log) if framework == "ptb" else "aiogram" in log
    assert _leaks(log, api) == [], _leaks(log, api)
    # Masked, not missing: the question's parameters were logged, with the ID and mobile masked.
    assert "001****679" in log and "+98912***4567" in log
