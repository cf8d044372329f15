"""The tamper-evident proof of service: deliveries, views and deemed service appended to a hash chain by
the real services, checked by `verify_proof` and `eblagh receipts verify`, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import delete, update
from sqlmodel import col, select

from bot.cli import main
from bot.messengers import build_messenger
from bot.runtime import Runtime
from services.delivery.duties import TimedDuties
from services.messaging import ChatKind
from services.notices import OpenedNotice
from services.privacy import Hasher
from services.proof import ProofReport, verify_proof
from services.receipts import RECEIPT_FIELDS, export_receipts
from storage import messages as message_store
from storage import notices as notice_store
from storage import proof
from storage.database import Database, upgrade
from storage.messages import Claimed
from storage.models import Citizen as CitizenRow
from storage.models import Message, Notice, Receipt
from storage.proof_models import ProofHead, ProofRecord
from storage.types import UTCDateTime
from tests.botapi import FakeBotAPI, Limits
from tests.botapi.fixtures import no_real_network  # noqa: F401 - autouse fixture
from tests.conftest import PG_HOST, _pg_admin
from tests.delivery_kit import SECRET, fleet, seed_subscribers, worker_settings
from tests.factories import create_case, create_citizen, create_ruling
from tests.journey import Citizen, Clock, RecordingSender, deliver_due, make_app

CHAT = 700
EARLIER = datetime(2025, 1, 24, 9, 30, 0, 123456, tzinfo=UTC)


@dataclass
class Served:
    """One citizen, two notices: the first delivered and opened, the second delivered and deemed served."""

    opened: int
    deemed: int
    clock: Clock


async def _serve(db: Database, secret: bytes) -> Served:
    clock = Clock()
    app = make_app(db, secret, clock)
    async with db.session() as session:
        citizen = await create_citizen(session, Hasher(secret), national_id="0012345679", mobile="09121234567")
        case = await create_case(session, citizen, case_number="1403051234")
        await create_ruling(session, case, ruling_id="R-1")
        await create_ruling(session, case, ruling_id="R-2")
    person = Citizen(app, RecordingSender(), user_id=CHAT)
    await person.says("0012345679")
    await person.shares("09121234567")
    assert (await deliver_due(app, RecordingSender())).sent == 2
    async with db.session() as session:
        first, second = (await session.exec(select(Notice.id).order_by(col(Notice.id)))).all()
    assert first is not None and second is not None
    clock.advance(hours=1)
    opened = await app.notices.open(platform="telegram", chat_id=CHAT, user_id=CHAT, notice_id=first, chat_kind=ChatKind.PRIVATE)
    assert isinstance(opened, OpenedNotice) and opened.first_view
    clock.advance(days=11)
    assert (await TimedDuties(db, clock, app.law, reminder_days_before=0).run_once()).deemed == 1
    return Served(first, second, clock)


async def _records(db: Database) -> list[ProofRecord]:
    async with db.session() as session:
        return list((await session.exec(select(ProofRecord).order_by(col(ProofRecord.seq)))).all())


async def _verify(db: Database, secret: bytes) -> ProofReport:
    return await verify_proof(db, secret)


async def test_delivery_view_and_deemed_service_are_chained_and_verify(db: Database, secret: bytes) -> None:
    served = await _serve(db, secret)
    records = await _records(db)
    assert [(r.seq, r.kind, r.notice_id) for r in records] == [
        (1, "delivered", served.opened), (2, "delivered", served.deemed), (3, "viewed", served.opened),
        (4, "deemed", served.deemed)]
    assert all(r.platform == "telegram" and r.chat_id == CHAT for r in records[:3])
    assert records[2].user_id == CHAT and records[3].chat_id is None and not any(r.backfilled for r in records)
    # Each hash is SHA-256(previous hash || canonical event); the head names the last and is sealed.
    prev = proof.GENESIS
    for record in records:
        assert record.prev_hash == prev and record.hash == proof.chain_hash(prev, record.event)
        assert record.event == proof.canonical(proof.record_fields(record))
        assert '"ruling_id":"R-' in record.event and " " not in record.event
        prev = record.hash
    async with db.session() as session:
        head = await session.get(ProofHead, 1)
        notice = await session.get(Notice, served.opened)
    assert head is not None and (head.seq, head.hash) == (4, prev) and head.seal == proof.seal(secret, 4, prev)
    assert notice is not None and records[2].occurred_at == notice.viewed_at

    report = await _verify(db, secret)
    assert report.ok and report.records == 4 and report.head_hash == prev, report.problems

    rows = [r async for r in export_receipts(db, make_app(db, secret, served.clock).law, served.clock)]
    assert RECEIPT_FIELDS[-3:] == ("proof_seq", "proof_hash", "auth_proof")
    assert list(rows[0].as_dict())[-3:] == ["proof_seq", "proof_hash", "auth_proof"]
    by_ruling = {r.ruling_id: (r.proof_seq, r.proof_hash) for r in rows}
    assert by_ruling == {"R-1": (3, records[2].hash), "R-2": (4, records[3].hash)}


async def test_a_delivery_sent_again_after_a_crash_still_verifies(db: Database, secret: bytes) -> None:
    served = await _serve(db, secret)
    async with db.session() as session:
        delivery = (await session.exec(select(Message).where(Message.kind == "notice",
                                                             Message.ref_id == served.opened))).one()
        assert delivery.id is not None
        claimed = Claimed(delivery.id, delivery.lane, delivery.kind, served.opened, delivery.platform,
                          delivery.chat_id, delivery.attempts)
        await message_store.mark_sent(session, [(claimed, 99, served.clock())])
    records = await _records(db)
    assert [r.kind for r in records][-1] == "delivered" and records[-1].source_id == delivery.id
    report = await _verify(db, secret)
    assert report.ok, report.problems


Tamper = Callable[[Database, Served, bytes], Awaitable[None]]


async def _alter_view_time(db: Database, served: Served, secret: bytes) -> None:
    async with db.session() as session:
        await session.execute(update(Notice).where(col(Notice.id) == served.opened).values(viewed_at=EARLIER))


async def _move_delivery_to_another_chat(db: Database, served: Served, secret: bytes) -> None:
    async with db.session() as session:
        await session.execute(update(Message).where(col(Message.kind) == "notice", col(Message.ref_id) == served.deemed)
                              .values(chat_id=701))


async def _alter_deemed_time(db: Database, served: Served, secret: bytes) -> None:
    async with db.session() as session:
        await session.execute(update(Notice).where(col(Notice.id) == served.deemed)
                              .values(deemed_recorded_at=EARLIER))


async def _delete_a_record(db: Database, served: Served, secret: bytes) -> None:
    async with db.session() as session:
        await session.execute(delete(ProofRecord).where(col(ProofRecord.seq) == 2))


async def _overwrite_a_hash(db: Database, served: Served, secret: bytes) -> None:
    async with db.session() as session:
        await session.execute(update(ProofRecord).where(col(ProofRecord.seq) == 3).values(hash="ab" * 32))


async def _alter_a_record_column(db: Database, served: Served, secret: bytes) -> None:
    async with db.session() as session:
        await session.execute(update(ProofRecord).where(col(ProofRecord.seq) == 1).values(chat_id=701))


TAMPERING: dict[str, tuple[Tamper, int, str]] = {
    # name: (what is done, the first broken seq, what the message says)
    "notice viewed_at": (_alter_view_time, 3, "notice viewed_at is 2025-01-24T09:30:00.123456Z"),
    "delivery chat_id": (_move_delivery_to_another_chat, 2, "chat_id is 701, the record says 700"),
    "notice deemed_recorded_at": (_alter_deemed_time, 4, "deemed_recorded_at is 2025-01-24T09:30:00.123456Z"),
    "deleted record": (_delete_a_record, 2, "missing (the chain jumps from seq 1 to 3)"),
    "record hash": (_overwrite_a_hash, 3, "is not SHA-256(prev_hash || event)"),
    "record column": (_alter_a_record_column, 1, "chat_id column is 701, its hashed event says 700"),
}


@pytest.mark.parametrize("name", list(TAMPERING))
async def test_each_kind_of_tampering_names_the_first_broken_record(db: Database, secret: bytes, name: str) -> None:
    served = await _serve(db, secret)
    tamper, seq, message = TAMPERING[name]
    await tamper(db, served, secret)
    report = await _verify(db, secret)
    assert not report.ok
    first = report.problems[0]
    assert first.seq == seq and message in first.what, [p.describe() for p in report.problems]
    if first.notice_id is not None:
        assert first.notice_id == (served.opened if seq in (1, 3) else served.deemed)


async def test_a_chain_rewritten_without_the_key_fails_on_the_head_seal(db: Database, secret: bytes) -> None:
    """Back-date the view everywhere, recompute every hash from there on: only the key can seal that."""
    served = await _serve(db, secret)
    async with db.session() as session:
        await session.execute(update(Notice).where(col(Notice.id) == served.opened).values(viewed_at=EARLIER))
        await session.execute(update(Receipt).where(col(Receipt.notice_id) == served.opened)
                              .values(viewed_at=EARLIER))
        records = list((await session.exec(select(ProofRecord).order_by(col(ProofRecord.seq)))).all())
        prev = records[1].hash
        for record in records[2:]:
            if record.kind == "viewed":
                record.occurred_at = EARLIER
            record.prev_hash = prev
            record.event = proof.canonical(proof.record_fields(record))
            record.hash = prev = proof.chain_hash(prev, record.event)
            session.add(record)
        await session.flush()
        await session.execute(update(ProofHead).values(hash=prev, seal=proof.seal(b"a guessed key", 4, prev)))
    report = await _verify(db, secret)
    assert [(p.seq, p.notice_id) for p in report.problems] == [(None, None)]
    assert "seal does not match SECRET_KEY" in report.problems[0].what
    assert (await _verify(db, b"a guessed key")).ok  # the forger's own key: consistent, but not ours


async def test_deleting_the_last_record_is_caught_by_the_head(db: Database, secret: bytes) -> None:
    await _serve(db, secret)
    async with db.session() as session:
        await session.execute(delete(ProofRecord).where(col(ProofRecord.seq) == 4))
    report = await _verify(db, secret)
    assert report.problems[0].seq is None and "names seq 4" in report.problems[0].what
    assert any("deemed_recorded_at" in p.what and p.seq is None for p in report.problems)


async def test_cli_exit_codes_through_the_entry_point(db: Database, secret: bytes, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    served = await _serve(db, secret)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("SECRET_KEY", secret.decode())
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))

    async def cli(*argv: str) -> int:
        return await asyncio.to_thread(main, list(argv))  # the command runs its own event loop

    assert await cli("receipts", "verify") == 0
    out = capsys.readouterr().out
    records = await _records(db)
    assert f"4 records verified; head seq 4, hash {records[-1].hash[:16]}" in out

    await _alter_view_time(db, served, secret)
    assert await cli("receipts", "verify") == 1
    out = capsys.readouterr().out
    assert out.startswith(f"proof chain BROKEN at seq 3 (notice {served.opened}, viewed): notice viewed_at")
    assert "0012345679" not in out and "1 problem(s) in 4 records" in out

    monkeypatch.setenv("SECRET_KEY", "another-key")
    await _restore_view(db, served)
    assert await cli("receipts", "verify") == 1
    assert "head: seal does not match SECRET_KEY" in capsys.readouterr().out


async def _restore_view(db: Database, served: Served) -> None:
    async with db.session() as session:
        record = (await session.exec(select(ProofRecord).where(ProofRecord.seq == 3))).one()
        await session.execute(update(Notice).where(col(Notice.id) == served.opened)
                              .values(viewed_at=record.occurred_at))


async def _citizens_with_notices(db: Database, chats: list[int]) -> list[int]:
    """One citizen per chat, bound to it, each with one ruling (and its notice); returns the notice ids."""
    citizen_ids = await seed_subscribers(db, chats)
    async with db.session() as session:
        for citizen_id in citizen_ids:
            citizen = await session.get(CitizenRow, citizen_id)
            assert citizen is not None
            await create_ruling(session, await create_case(session, citizen))
        notices = (await session.exec(select(Notice.id, Notice.citizen_id))).all()
    by_citizen = {c: n for n, c in notices}
    return [by_citizen[c] for c in citizen_ids]


@pytest.mark.postgres
async def test_concurrent_appends_on_postgresql_make_one_unbroken_chain(pg_db: Database, secret: bytes) -> None:
    chats = list(range(81_001, 81_021))
    notice_ids = await _citizens_with_notices(pg_db, chats)
    app = make_app(pg_db, secret, Clock())
    async with pg_db.session() as session:
        assert await message_store.fan_out(session, Clock()()) == 20
    engines = [make_app(pg_db, secret, Clock()) for _ in range(4)]

    async def open_one(chat: int, notice_id: int) -> bool:
        opened = await app.notices.open(platform="telegram", chat_id=chat, user_id=chat, notice_id=notice_id,
                                        chat_kind=ChatKind.PRIVATE)
        return isinstance(opened, OpenedNotice) and opened.first_view

    # 20 citizens open their notices at once while four delivery engines send the 20 deliveries.
    results = await asyncio.gather(*(open_one(c, n) for c, n in zip(chats, notice_ids, strict=True)),
                                   *(deliver_due(engine, RecordingSender()) for engine in engines))
    assert results[:20] == [True] * 20
    assert sum(stats.sent for stats in results[20:]) == 20  # type: ignore[union-attr]
    records = await _records(pg_db)
    assert [r.seq for r in records] == list(range(1, 41))
    assert sorted(r.kind for r in records) == ["delivered"] * 20 + ["viewed"] * 20
    report = await _verify(pg_db, secret)
    assert report.ok and report.records == 40, [p.describe() for p in report.problems]


@pytest.mark.redis
async def test_workers_record_notice_deliveries_in_the_chain(db: Database, redis_url: str, secret: bytes) -> None:
    """The worker engine (services/delivery/consumer.py) writes "sent" in batches: each one chained."""
    chats = list(range(82_001, 82_021))
    await _citizens_with_notices(db, chats)
    async with FakeBotAPI(users=chats, limits=Limits(global_per_second=100, chat_per_second=1)) as api:
        runtime = Runtime(worker_settings(db, BOT_TOKEN=api.token, BOT_API_BASE=api.base_url, REDIS_URL=redis_url,
                                          DELIVERY_RATE=100), db, Hasher(SECRET))
        sender = build_messenger(runtime.settings)
        async with fleet(runtime, sender, ["w1", "w2"]) as running:
            for chat in chats:
                await api.wait_for_messages(chat, 1, timeout=20)
            await running.halt()
        await sender.close()
    records = await _records(db)
    assert len(records) == 20 and {r.chat_id for r in records} == set(chats)
    assert {r.kind for r in records} == {"delivered"}
    report = await _verify(db, secret)
    assert report.ok, [p.describe() for p in report.problems]


# Backfill: a database upgraded from 0005 with deliveries, views and deemed service already recorded ------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def old_database(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:  # type: ignore[no-untyped-def]
    """The URL of an empty database at revision 0005 (before the proof chain)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        await asyncio.to_thread(upgrade, url, "0005")
        yield url
        return
    name = f"eblagh_old_{uuid.uuid4().hex[:10]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@{PG_HOST}:5432/{name}"
    try:
        await asyncio.to_thread(upgrade, url, "0005")
        yield url
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


T0 = datetime(2025, 1, 20, 8, 0, tzinfo=UTC)
_OLD_NOTICES = sa.table("notices", sa.column("ruling_pk", sa.BigInteger), sa.column("citizen_id", sa.BigInteger),
                        sa.column("created_at", UTCDateTime()))
_OLD_DELIVERIES = sa.table(
    "deliveries", sa.column("notice_id", sa.BigInteger), sa.column("platform", sa.String),
    sa.column("chat_id", sa.BigInteger), sa.column("status", sa.String), sa.column("attempts", sa.Integer),
    sa.column("sent_at", UTCDateTime()), sa.column("message_id", sa.BigInteger), sa.column("created_at", UTCDateTime()))


async def _old_facts(url: str, secret: bytes) -> dict[str, int]:
    """Rows as 0005 would have them: deliveries (sent, queued, failed), a view, deemed service, and a notice
    whose first delivery time has no sent delivery row."""
    db = Database(url)
    try:
        async with db.session() as session:
            citizen = await create_citizen(session, Hasher(secret))
            case = await create_case(session, citizen)
            ids = {}
            for name in ("viewed", "deemed", "bare", "queued"):
                ruling = await create_ruling(session, case, ruling_id=f"R-old-{name}", with_notice=False)
                await session.execute(sa.insert(_OLD_NOTICES).values(  # type: ignore[deprecated]
                    ruling_pk=ruling.id, citizen_id=case.citizen_id, created_at=T0))
                ids[name] = (await session.exec(select(Notice.id).where(Notice.ruling_pk == ruling.id))).one()

            def at(minutes: int) -> datetime:
                return T0 + timedelta(minutes=minutes, microseconds=minutes)

            def sent(name: str, chat: int, minutes: int) -> dict[str, object]:
                return {"notice_id": ids[name], "platform": "telegram", "chat_id": chat, "status": "sent",
                        "attempts": 1, "sent_at": at(minutes), "message_id": minutes}

            def other(name: str, platform: str, chat: int, status: str) -> dict[str, object]:
                return {"notice_id": ids[name], "platform": platform, "chat_id": chat, "status": status,
                        "attempts": 0, "sent_at": None, "message_id": None}

            # The table as 0005 had it (the model is now `messages`).
            await session.execute(sa.insert(_OLD_DELIVERIES), [  # type: ignore[deprecated]
                {**row, "created_at": T0} for row in (
                    sent("viewed", 1, 5), sent("viewed", 2, 3), sent("deemed", 1, 4),
                    other("queued", "telegram", 1, "queued"), other("queued", "bale", 9, "failed"))])
            session.add(Receipt(notice_id=ids["viewed"], platform="telegram", chat_id=2, user_id=2, viewed_at=at(60)))
            for name, values in (("viewed", {"first_delivered_at": at(3), "viewed_at": at(60)}),
                                 ("deemed", {"first_delivered_at": at(4), "deemed_recorded_at": at(20_000)}),
                                 ("bare", {"first_delivered_at": at(1)})):
                await session.execute(update(Notice).where(col(Notice.id) == ids[name]).values(**values))
        return ids
    finally:
        await db.close()


async def test_upgrading_from_0005_backfills_a_chain_that_verifies(old_database: str, secret: bytes) -> None:
    ids = await _old_facts(old_database, secret)
    await asyncio.to_thread(upgrade, old_database, proof_key=secret)
    db = Database(old_database, proof_key=secret)
    try:
        records = await _records(db)
        assert all(r.backfilled and '"backfilled":true' in r.event for r in records)
        # By time; a notice's first delivery first; the queued and failed deliveries are not facts.
        assert [(r.kind, r.notice_id, r.chat_id) for r in records] == [
            ("delivered", ids["bare"], None), ("delivered", ids["viewed"], 2), ("delivered", ids["deemed"], 1),
            ("delivered", ids["viewed"], 1), ("viewed", ids["viewed"], 2), ("deemed", ids["deemed"], None)]
        report = await _verify(db, secret)
        assert report.ok and report.records == 6, [p.describe() for p in report.problems]

        # The chain goes on from the backfill, and the checks still bite.
        async with db.session() as session:
            assert await notice_store.record_first_view(session, ids["bare"], platform="bale", chat_id=9,
                                                        user_id=None, at=T0 + timedelta(days=1))
        assert (await _verify(db, secret)).records == 7
        async with db.session() as session:
            await session.execute(update(Message).where(col(Message.chat_id) == 2).values(sent_at=T0))
        report = await _verify(db, secret)
        assert report.problems[0].seq == 2 and "sent_at is 2025-01-20T08:00:00.000000Z" in report.problems[0].what
    finally:
        await db.close()


async def test_the_backfill_is_deterministic_and_sealed_only_with_the_key(tmp_path, secret: bytes) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "a.db", tmp_path / "b.db"
    await asyncio.to_thread(upgrade, f"sqlite:///{first}", "0005")
    await _old_facts(f"sqlite:///{first}", secret)
    second.write_bytes(first.read_bytes())
    await asyncio.to_thread(upgrade, f"sqlite:///{first}", proof_key=secret)
    await asyncio.to_thread(upgrade, f"sqlite:///{second}")  # e.g. plain `alembic upgrade`: no key
    with_key, without_key = Database(f"sqlite:///{first}", proof_key=secret), Database(f"sqlite:///{second}",
                                                                                         proof_key=secret)
    try:
        assert [r.hash for r in await _records(with_key)] == [r.hash for r in await _records(without_key)]
        report = await _verify(without_key, secret)
        assert [p.describe() for p in report.problems] == [
            "head: not sealed with SECRET_KEY (appended or backfilled without it); run `eblagh db upgrade` with the key"]
        # The next append made with the key seals it.
        async with without_key.session() as session:
            notice_id = (await session.exec(select(Notice.id).where(col(Notice.viewed_at).is_(None))
                                            .order_by(col(Notice.id)))).first()
            assert notice_id is not None
            assert await notice_store.record_first_view(session, notice_id, platform="telegram", chat_id=1,
                                                        user_id=1, at=T0 + timedelta(days=2))
        assert (await _verify(without_key, secret)).ok
    finally:
        await with_key.close()
        await without_key.close()
