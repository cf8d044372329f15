"""Paying a fine in the chat on Bale: `eblagh run` with aiogram and python-telegram-bot against the
loopback Bot API, whose control side plays the citizen paying (tests/botapi/payments.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.engine import EngineOptions
from bot.runner import RunOptions
from handlers import texts
from handlers.callbacks import Action
from services.law.calendar import format_rials
from storage.database import Database
from storage.models import Ruling
from storage.payment_models import Payment
from tests.bot.run_kit import Person, plain, running, settings_for, until
from tests.bot.test_run_contract import CITIZEN, FINE, MOBILE, NID, assert_no_html_on_bale, log_in, seed
from tests.botapi import FakeBotAPI
from tests.botapi.payments import TEST_PROVIDER_TOKEN
from tests.botapi.records import ChatMessage

pytestmark = pytest.mark.parametrize("framework", ["aiogram", "ptb"])
QUICK = RunOptions(poll_timeout=1, sweep_interval=0.3,
                   engine=EngineOptions(sweep_interval=0.1, duty_interval=0.5, reconcile_interval=0.2))


@pytest.fixture
async def api(request: pytest.FixtureRequest) -> AsyncIterator[FakeBotAPI]:
    """The loopback server as Bale documents its Bot API (no parse_mode, no chat_instance, ...), or as
    Telegram for the tests that ask for it with `platform`."""
    platform = request.node.callspec.params.get("platform", "bale") if hasattr(request.node, "callspec") else "bale"
    async with FakeBotAPI(platform=platform) as server:
        yield server


def bale(api: FakeBotAPI, secret: bytes, framework: str, **extra: Any):  # type: ignore[no-untyped-def]
    return settings_for(api, secret, framework=framework, mode="polling", platform="bale", **extra)


async def payments(db: Database) -> list[Payment]:
    async with db.session() as session:
        return list((await session.exec(select(Payment).order_by(Payment.id))).all())  # type: ignore[arg-type]


async def open_ruling(person: Person) -> ChatMessage:
    """Log in, open the pushed ruling; the message that follows its text (fine, service, deadline)."""
    # A loaded machine may take a while to start the runner; the journey's own timings come after.
    await until(lambda: person.api.requests["getUpdates"] > 0, timeout=60, what="the runner polling")
    await log_in(person, NID, MOBILE)
    card = await person.expect("۱۴۰۳")
    await person.tap(card, person.button(card, Action.OPEN_NOTICE))
    return await person.expect("مهلت اعتراض")


async def invoice_after_tap(person: Person, message: ChatMessage) -> ChatMessage:
    count = len(person.api.payments.invoices_in(person.user_id))
    assert await person.tap(message, person.button(message, Action.PAY)) == texts.INVOICE_SENT
    await until(lambda: len(person.api.payments.invoices_in(person.user_id)) > count, what="invoice")
    invoice = person.api.payments.invoices_in(person.user_id)[-1]
    return person.api.message(person.user_id, invoice.message_id)


async def test_a_citizen_pays_the_fine_in_the_chat(api: FakeBotAPI, sqlite_db: Database, secret: bytes,
                                                    intent_model: object, framework: str) -> None:
    ids = await seed(sqlite_db, secret)
    settings = bale(api, secret, framework, BALE_PAYMENT_PROVIDER_TOKEN=TEST_PROVIDER_TOKEN)
    person = Person(api, CITIZEN)
    api.payments.new_status = "pending"  # Bale has not settled it yet when first asked
    async with running(settings, sqlite_db, secret, model=intent_model, options=QUICK):
        summary = await open_ruling(person)
        assert (texts.BUTTON_PAY_FINE, f"p:{ids['citizen']}") in summary.buttons[0]
        api.send_text(CITIZEN, "جریمه من چقدره؟")
        answer = await person.expect("جریمه پرونده")
        assert answer.buttons[0] == [(texts.BUTTON_PAY_FINE, f"p:{ids['citizen']}")]

        invoice_message = await invoice_after_tap(person, answer)
        invoice = api.payments.invoice(CITIZEN, invoice_message.message_id)
        assert (invoice.currency, invoice.amount, invoice.label) == ("IRR", FINE, texts.INVOICE_LABEL)
        assert "۱۴۰۳" in invoice.title and len(invoice.title) <= 32
        assert "pre_checkout_query" in api.allowed_updates

        outcome = await api.payments.pay(CITIZEN, invoice_message.message_id, repeat=3)
        assert outcome.ok and outcome.latency is not None and outcome.latency < 10
        receipt = await person.expect("کد رهگیری")
        assert plain(format_rials(FINE)) in (receipt.text or "")
        assert outcome.tracking_code and outcome.tracking_code[:4].translate(str.maketrans(
            "0123456789", "۰۱۲۳۴۵۶۷۸۹")) in (receipt.text or "")
        await until(lambda: api.pending_updates() == [], what="all updates fetched")

        # Reconciliation: pending until Bale settles the transaction, then confirmed.
        await until(lambda: len(api.payments.inquiries) >= 1, what="an inquiry")
        [row] = await payments(sqlite_db)
        assert row.state == "pending" and row.transaction_id == outcome.transaction_id
        api.payments.transactions[outcome.transaction_id or ""]["status"] = "succeed"
        async with sqlite_db.session() as session:  # no need to wait out the backoff in a test
            await session.execute(update(Payment).values(next_check_at=row.paid_at))
        await until(lambda: api.payments.inquiries.count(outcome.transaction_id or "") >= 2, what="a second inquiry")

        # Nothing is due any more: the button says so instead of invoicing again.
        await person.tap(answer, person.button(answer, Action.PAY))
        await person.expect(texts.PAY_NOTHING_DUE[:30])
    [row] = await payments(sqlite_db)
    assert row.state == "confirmed" and row.amount_rials == FINE
    assert [m.text for m in person.inbox].count(receipt.text) == 1  # answered once for three updates
    assert api.unanswered_callbacks == [] and api.payments.late == []
    api.assert_nothing_refused()
    assert api.unanswered_callbacks == []
    assert_no_html_on_bale(api)


async def test_a_checkout_is_refused_for_a_paid_ruling_a_changed_amount_and_a_forged_one(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, framework: str) -> None:
    await seed(sqlite_db, secret)
    settings = bale(api, secret, framework, BALE_PAYMENT_PROVIDER_TOKEN=TEST_PROVIDER_TOKEN)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret, options=QUICK):
        summary = await open_ruling(person)
        first = await invoice_after_tap(person, summary)
        second = await invoice_after_tap(person, summary)

        forged = await api.payments.pay(CITIZEN, first.message_id, amount=1_000)
        assert forged.answered and not forged.ok and forged.error_message == texts.PRECHECKOUT_CHANGED
        assert (await api.payments.pay(CITIZEN, first.message_id)).ok
        await person.expect("کد رهگیری")
        paid = await api.payments.pay(CITIZEN, second.message_id)
        assert not paid.ok and paid.error_message == texts.PRECHECKOUT_PAID and paid.updates == 0

        # The fine is raised after an invoice went out: that invoice is refused as changed.
        async with sqlite_db.session() as session:
            await session.execute(update(Ruling).values(fine_amount_rials=FINE * 2))
        third = await invoice_after_tap(person, summary)
        assert api.payments.invoice(CITIZEN, third.message_id).amount == FINE
        async with sqlite_db.session() as session:
            await session.execute(update(Ruling).values(fine_amount_rials=FINE * 3))
        changed = await api.payments.pay(CITIZEN, third.message_id)
        assert not changed.ok and changed.error_message == texts.PRECHECKOUT_CHANGED
        assert all(a.latency < 10 for a in api.payments.answers.values())
    states = [p.state for p in await payments(sqlite_db)]
    assert states[0] in ("pending", "confirmed") and states[1:] == ["invoiced", "invoiced"]
    api.assert_nothing_refused()
    assert api.unanswered_callbacks == []
    assert_no_html_on_bale(api)


@pytest.mark.parametrize("platform", ["bale", "telegram"])
async def test_without_a_bale_provider_token_there_is_no_pay_button(
        api: FakeBotAPI, sqlite_db: Database, secret: bytes, intent_model: object, framework: str,
        platform: str) -> None:
    await seed(sqlite_db, secret)
    # On Telegram the token is ignored; on Bale it is simply not set.
    extra = {"BALE_PAYMENT_PROVIDER_TOKEN": TEST_PROVIDER_TOKEN} if platform == "telegram" else {}
    settings = settings_for(api, secret, framework=framework, mode="polling", platform=platform, **extra)
    person = Person(api, CITIZEN)
    async with running(settings, sqlite_db, secret, model=intent_model, options=QUICK):
        summary = await open_ruling(person)
        api.send_text(CITIZEN, "چطوری جریمه رو پرداخت کنم؟")
        answer = await person.expect("دبیرخانه کمیسیون ماده ۱۰۰ منطقه")
    for message in (summary, answer):
        assert all(data.split(":")[0] != Action.PAY.value for row in message.buttons for _, data in row)
    if platform == "telegram":  # Bale's getUpdates takes no allowed_updates (docs/bale.md)
        assert "pre_checkout_query" not in api.allowed_updates
    assert api.payments.invoices == {}
    api.assert_nothing_refused()
    assert api.unanswered_callbacks == []
    assert_no_html_on_bale(api)
