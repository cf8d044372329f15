"""The update pipeline on its own: every tap answered even when handling fails; duplicates skipped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.app import build_app
from bot.chat_lock import MemoryChatLocks
from bot.messengers.updates import Incoming, RawUpdate
from bot.patient_sender import PatientSender
from bot.pipeline import UpdatePipeline
from bot.runtime import Runtime
from bot.settings import Settings
from bot.update_ledger import DatabaseUpdateLedger
from handlers.events import ButtonTapped, Chat
from services.messaging import OutgoingMessage, SentMessage
from services.privacy import Hasher
from storage.database import Database
from tests.journey import Clock


class Client:
    """Reads every update as a tap by user 7 (the library is not the point here)."""

    def parse(self, raw: RawUpdate) -> Incoming:
        return Incoming(raw["update_id"], ButtonTapped(Chat("telegram", 7, 7), "o:1", 3), f"q{raw['update_id']}")

    async def get_updates(self, offset: int | None, long_poll: int) -> list[RawUpdate]:
        return []

    async def set_webhook(self, url: str, secret_token: str | None) -> None: ...

    async def delete_webhook(self) -> None: ...

    async def set_commands(self, commands: Sequence[tuple[str, str]]) -> None: ...


class Messenger:
    platform = "telegram"

    def __init__(self) -> None:
        self.answers: list[tuple[str, str]] = []
        self.sent: list[Any] = []

    async def send(self, chat_id: int, message: OutgoingMessage) -> SentMessage:
        self.sent.append((chat_id, message))
        return SentMessage(len(self.sent))

    async def answer_tap(self, callback_id: str, text: str = "") -> None:
        self.answers.append((callback_id, text))

    async def close(self) -> None: ...


async def test_a_tap_is_answered_even_when_handling_fails(sqlite_db: Database, secret: bytes) -> None:
    # The conversation's database is unreachable (a closed loopback port): dispatch itself raises.
    broken = Database("postgresql://postgres@127.0.0.1:1/nowhere")
    settings = Settings(_env_file=None, SECRET_KEY=secret.decode())  # type: ignore[call-arg]
    app = build_app(Runtime(settings=settings, database=broken, hasher=Hasher(secret)), clock=Clock())
    messenger = Messenger()
    ledger = DatabaseUpdateLedger(sqlite_db, "telegram:1", Clock())
    pipeline = UpdatePipeline(app, Client(), PatientSender(messenger), MemoryChatLocks(), ledger, "telegram:1")
    try:
        assert await pipeline.accept({"update_id": 11})
        await pipeline.settle()
        assert messenger.answers == [("q11", "")] and pipeline.stats.failed == 1
        assert await ledger.is_handled(11)
        # The same update again (a webhook retry): skipped, not answered twice.
        assert not await pipeline.accept(json.loads('{"update_id": 11}'))
        await pipeline.settle()
        assert messenger.answers == [("q11", "")] and pipeline.stats.duplicates == 1
    finally:
        await broken.close()


async def test_a_polled_batch_skips_what_was_handled_and_each_update_is_handled_once(
        sqlite_db: Database, secret: bytes) -> None:
    settings = Settings(_env_file=None, SECRET_KEY=secret.decode())  # type: ignore[call-arg]
    app = build_app(Runtime(settings=settings, database=sqlite_db, hasher=Hasher(secret)), clock=Clock())
    messenger = Messenger()
    ledger = DatabaseUpdateLedger(sqlite_db, "telegram:1", Clock())
    pipeline = UpdatePipeline(app, Client(), PatientSender(messenger), MemoryChatLocks(), ledger, "telegram:1")
    await ledger.mark_handled(21)  # handled before a restart; the unconfirmed batch comes back

    # 22 comes twice: in the batch, and again (a redelivery) while the chat's queue still holds it.
    assert await pipeline.accept_batch([{"update_id": 21}, {"update_id": 22}, {"update_id": 23},
                                        {"update_id": 22}]) == 2
    assert not await pipeline.accept({"update_id": 23})
    await pipeline.settle()
    assert [callback for callback, _ in messenger.answers] == ["q22", "q23"]
    assert pipeline.stats.handled == 2 and pipeline.stats.duplicates == 3
    assert await ledger.handled_among([21, 22, 23, 24]) == {21, 22, 23}
    # After handling, the ledger (not the queue) refuses them.
    assert await pipeline.accept_batch([{"update_id": 22}, {"update_id": 24}]) == 1
    await pipeline.settle()
    assert [callback for callback, _ in messenger.answers] == ["q22", "q23", "q24"]


class CountingClient(Client):
    def __init__(self) -> None:
        self.parsed: list[int] = []

    def parse(self, raw: RawUpdate) -> Incoming:
        self.parsed.append(raw["update_id"])
        return super().parse(raw)


async def test_an_update_is_parsed_once_where_it_is_accepted_and_handled(sqlite_db: Database, secret: bytes) -> None:
    settings = Settings(_env_file=None, SECRET_KEY=secret.decode())  # type: ignore[call-arg]
    app = build_app(Runtime(settings=settings, database=sqlite_db, hasher=Hasher(secret)), clock=Clock())
    messenger = Messenger()
    ledger = DatabaseUpdateLedger(sqlite_db, "telegram:1", Clock())
    client = CountingClient()
    pipeline = UpdatePipeline(app, client, PatientSender(messenger), MemoryChatLocks(), ledger, "telegram:1")
    assert await pipeline.accept_batch([{"update_id": 31}, {"update_id": 32}]) == 2
    await pipeline.settle()
    assert client.parsed == [31, 32] and pipeline.stats.handled == 2

    # Queued by another process (a shared queue): parsed from its payload when handled here.
    locks = MemoryChatLocks()
    here = UpdatePipeline(app, client, PatientSender(messenger), locks, ledger, "telegram:1")
    assert await locks.submit("telegram:1:7", 33, json.dumps({"update_id": 33}))
    here.drain_soon("telegram:1:7")
    await here.settle()
    assert client.parsed == [31, 32, 33] and here.stats.handled == 1
    assert [callback for callback, _ in messenger.answers] == ["q31", "q32", "q33"]
