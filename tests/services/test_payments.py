"""Fines paid in the chat, at the service level, on SQLite and PostgreSQL; inquireTransaction through a
real aiogram messenger against the loopback Bot API."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.commands.exporting import write_rows
from bot.commands.payments import payment_rows
from bot.messengers.aiogram_adapter import AiogramMessenger, build_bot
from bot.runtime import Runtime
from bot.settings import Settings
from services.payments import (
    PAYMENT_FIELDS,
    Invoiced,
    PaymentService,
    ReconcilePolicy,
    Reconciler,
    StartRefusal,
    Verdict,
)
from services.privacy import Hasher
from storage.database import Database
from storage.models import Notice, Ruling
from storage.payment_models import Payment, PaymentState
from tests.botapi import FakeBotAPI
from tests.factories import create_case, create_citizen, create_ruling

FINE = 1_250_000_000
USER, OTHER_USER = 1001, 2002


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 2, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def seed(db: Database, secret: bytes) -> dict[str, int]:
    hasher, ids = Hasher(secret), {}
    async with db.session() as session:
        for key in ("mine", "theirs"):
            citizen = await create_citizen(session, hasher)
            case = await create_case(session, citizen)
            ruling = await create_ruling(session, case, fine_amount_rials=FINE)
            notice = (await session.exec(select(Notice).where(Notice.ruling_pk == ruling.id))).one()
            assert citizen.id and notice.id and ruling.id
            ids[key], ids[f"{key}_citizen"], ids[f"{key}_ruling"] = notice.id, citizen.id, ruling.id
    return ids


async def start(service: PaymentService, ids: dict[str, int], notice: str = "mine") -> Invoiced | StartRefusal:
    return await service.start(citizen_id=ids["mine_citizen"], notice_id=ids[notice], platform="bale",
                               chat_id=USER, user_id=USER)


async def pay(service: PaymentService, invoice: Invoiced, transaction: str = "tx-1"):  # type: ignore[no-untyped-def]
    return await service.record(payload=invoice.token, user_id=USER, currency="IRR", amount=invoice.amount_rials,
                                transaction_id=transaction, tracking_code=f"trk-{transaction}")


async def test_an_invoice_is_for_what_is_due_on_the_citizens_own_ruling(db: Database, secret: bytes) -> None:
    ids = await seed(db, secret)
    service = PaymentService(db, Clock())
    assert await start(service, ids, "theirs") == StartRefusal.NOT_YOURS
    invoice = await start(service, ids)
    assert isinstance(invoice, Invoiced) and invoice.amount_rials == FINE
    # The payload is opaque and short: nothing of the ruling or the citizen in it.
    assert invoice.token.startswith("p_") and len(invoice.token.encode()) <= 32
    # 128 random bits (a row id or citizen id is not in it by construction; a digit may be, by chance).
    assert re.fullmatch(r"p_[A-Za-z0-9_-]{22}", invoice.token) and invoice.ruling_id not in invoice.token

    recorded = await pay(service, invoice)
    assert recorded is not None and recorded.first
    assert await start(service, ids) == StartRefusal.NOTHING_DUE


async def test_the_pre_checkout_verdict(db: Database, secret: bytes) -> None:
    ids = await seed(db, secret)
    service = PaymentService(db, Clock())
    first, second = await start(service, ids), await start(service, ids)
    assert isinstance(first, Invoiced) and isinstance(second, Invoiced)

    async def verdict(payload: str, *, user: int = USER, currency: str = "IRR", amount: int = FINE) -> Verdict:
        return await service.verdict(payload=payload, user_id=user, currency=currency, amount=amount)

    assert await verdict(first.token) is Verdict.OK
    assert await verdict("p_forged-payload-000000") is Verdict.UNKNOWN
    assert await verdict(f"R-{ids['mine']}") is Verdict.UNKNOWN
    assert await verdict(first.token, user=OTHER_USER) is Verdict.UNKNOWN
    assert await verdict(first.token, currency="USD") is Verdict.UNKNOWN
    assert await verdict(first.token, amount=FINE - 10) is Verdict.CHANGED

    assert await pay(service, first) is not None
    assert await verdict(first.token) is Verdict.PAID  # this invoice itself
    assert await verdict(second.token) is Verdict.PAID  # another invoice of a paid ruling

    # The commission raises the fine: the older invoice is refused as changed.
    async with db.session() as session:
        await session.execute(update(Ruling).where(Ruling.id == ids["mine_ruling"])  # type: ignore[arg-type]
                              .values(fine_amount_rials=FINE * 2))
    third = await start(service, ids)
    assert isinstance(third, Invoiced) and third.amount_rials == FINE
    async with db.session() as session:
        await session.execute(update(Ruling).where(Ruling.id == ids["mine_ruling"])  # type: ignore[arg-type]
                              .values(fine_amount_rials=FINE * 3))
    assert await verdict(third.token) is Verdict.CHANGED


async def test_a_payment_is_recorded_once_however_often_it_comes(db: Database, secret: bytes) -> None:
    ids = await seed(db, secret)
    service = PaymentService(db, Clock())
    invoice = await start(service, ids)
    assert isinstance(invoice, Invoiced)
    outcomes = [await pay(service, invoice, "tx-77") for _ in range(3)]
    assert [o.first for o in outcomes if o] == [True, False, False]
    assert {o.tracking_code for o in outcomes if o} == {"trk-tx-77"}
    assert await service.record(payload="p_unknown", user_id=USER, currency="IRR", amount=1,
                                transaction_id="tx-x", tracking_code="t") is None
    async with db.session() as session:
        rows = (await session.exec(select(Payment))).all()
    assert [(r.state, r.transaction_id, r.amount_rials) for r in rows] == [("pending", "tx-77", FINE)]


@pytest.fixture
async def messenger(botapi: FakeBotAPI) -> AsyncIterator[AiogramMessenger]:
    bot = AiogramMessenger(build_bot(botapi.token, botapi.base_url), "bale")
    yield bot
    await bot.close()


async def test_reconciliation_confirms_fails_and_gives_up(db: Database, secret: bytes, botapi: FakeBotAPI,
                                                          messenger: AiogramMessenger) -> None:
    ids = await seed(db, secret)
    clock = Clock()
    service = PaymentService(db, clock)
    for times, transaction in enumerate(("41", "42", "43"), start=1):
        async with db.session() as session:  # the fine grows, so each payment has a FINE still due
            await session.execute(update(Ruling).values(fine_amount_rials=FINE * times))
        invoice = await start(service, ids)
        assert isinstance(invoice, Invoiced)
        await pay(service, invoice, transaction)
    transactions = botapi.payments.transactions
    transactions["41"] = {"id": "41", "status": "pending", "userID": USER, "amount": FINE}
    transactions["42"] = {"id": "42", "status": "failed", "userID": USER, "amount": FINE}
    # "43" is unknown to Bale: every inquiry is refused, and the retries are bounded.
    reconciler = Reconciler(db, clock, ReconcilePolicy(max_checks=3, first_delay=timedelta(seconds=30)))

    stats = await reconciler.run_once(messenger)
    assert (stats.confirmed, stats.failed, stats.retry) == (0, 1, 2)
    assert sorted(botapi.payments.inquiries) == ["41", "42", "43"]
    assert (await reconciler.run_once(messenger)).retry == 0  # nothing due before the backoff ends

    transactions["41"]["status"] = "succeed"
    clock.now += timedelta(seconds=31)
    stats = await reconciler.run_once(messenger)
    assert (stats.confirmed, stats.retry) == (1, 1)
    clock.now += timedelta(hours=2)
    assert (await reconciler.run_once(messenger)).gave_up == 1
    clock.now += timedelta(hours=2)
    before = len(botapi.payments.inquiries)
    await reconciler.run_once(messenger)
    assert len(botapi.payments.inquiries) == before  # bounded: no inquiry after the last

    async with db.session() as session:
        states = {p.transaction_id: (p.state, p.checks, p.confirmed_at is not None)
                  for p in (await session.exec(select(Payment))).all()}
    assert states == {"41": ("confirmed", 2, True), "42": ("failed", 1, False), "43": ("pending", 3, False)}


async def test_the_export(db: Database, secret: bytes) -> None:
    ids = await seed(db, secret)
    service = PaymentService(db, Clock())
    invoice = await start(service, ids)
    assert isinstance(invoice, Invoiced)
    await start(service, ids)  # an invoice never paid: not a payment
    await pay(service, invoice, "tx-9")
    runtime = Runtime(settings=Settings(_env_file=None), database=db, hasher=Hasher(secret))

    out = io.StringIO()
    assert await write_rows(runtime, payment_rows, "jsonl", PAYMENT_FIELDS, out) == 1
    [record] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert tuple(record) == PAYMENT_FIELDS
    assert record["ruling_id"] == invoice.ruling_id and record["case_number"] == invoice.case_number
    assert record["amount_rials"] == FINE and record["transaction_id"] == "tx-9"
    assert record["tracking_code"] == "trk-tx-9" and record["status"] == PaymentState.PENDING.value
    assert record["paid_at"] == "2025-02-01T08:00:00+00:00"
    assert "*" in record["national_id_masked"]

    runtime = Runtime(settings=Settings(_env_file=None), database=Database(db.url), hasher=Hasher(secret))
    out = io.StringIO()
    assert await write_rows(runtime, payment_rows, "csv", PAYMENT_FIELDS, out) == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["transaction_id"] for r in rows] == ["tx-9"] and rows[0]["amount_rials"] == str(FINE)
