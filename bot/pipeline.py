"""One path for every update, however it arrived (long polling or webhook):

    accept: skip if already handled -> parse -> queue on its chat -> drain the chat in the background
            (a pre_checkout_query is answered at once instead: the messenger waits 10 s at most);
            a polled batch asks the ledger once for all its updates
    drain:  per chat, in update_id order, one at a time (bot.chat_lock / storage.redis_chat_lock)
    handle: skip if handled meanwhile (only where another process could have) -> dispatch -> answer the
            tap (always) -> mark handled

Every tap gets exactly one answerCallbackQuery, even when the conversation or a send fails. An
update is marked handled after its replies went out, so a crash repeats at most the one in hand.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from bot.app import App
from bot.chat_lock import ChatLocks
from bot.dispatch import dispatch
from bot.messengers.updates import BotApiClient, Incoming, RawUpdate, update_id_of
from bot.patient_sender import PatientSender
from bot.reply_timer import ReplyTimer
from bot.update_ledger import UpdateLedger
from handlers import texts
from handlers.events import ButtonTapped, PreCheckout
from services.messaging import SendError

log = logging.getLogger(__name__)

# Updates parsed on accept and kept for their handling in this process, so each is parsed once (the
# library's model validation is a tenth of an answer's CPU). Bounded: an update another process drains
# (a shared Redis queue) is never handled here, and the oldest entry goes first.
PARSED_KEPT = 4096


@dataclass
class PipelineStats:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    handled: int = 0
    failed: int = 0


class UpdatePipeline:
    def __init__(self, app: App, client: BotApiClient, sender: PatientSender, locks: ChatLocks,
                 ledger: UpdateLedger, bot_key: str) -> None:
        self._app = app
        self._client = client
        self._sender = sender
        self._locks = locks
        self._ledger = ledger
        self._bot_key = bot_key
        self._tasks: set[asyncio.Task[None]] = set()
        self._parsed: dict[int, Incoming] = {}  # update_id -> its parse on accept, until handled here
        self.stats = PipelineStats()
        self.replies = ReplyTimer()  # accepted -> replies sent, for the metrics (bot/metrics_server.py)

    async def accept_batch(self, raws: list[RawUpdate]) -> int:
        """`accept` for a polled batch, with one question to the ledger for all of it; how many were queued."""
        ids = [update_id for update_id in map(update_id_of, raws) if update_id is not None]
        handled = await self._ledger.handled_among(ids) if ids else set()
        queued = 0
        for raw in raws:
            queued += await self.accept(raw, handled=update_id_of(raw) in handled)
        return queued

    async def accept(self, raw: RawUpdate, *, handled: bool | None = None) -> bool:
        """Take an update in; True when it was queued for handling (False: duplicate or ignored).

        `handled`: what the ledger said of it just now (accept_batch); None to ask it here.
        Returns once the update is safely queued, before it is handled: a webhook can answer 200.
        """
        update_id = update_id_of(raw)
        if update_id is None:
            self.stats.ignored += 1
            return False
        if handled is None:
            handled = await self._ledger.is_handled(update_id)
        if handled:
            self.stats.duplicates += 1
            log.info("update %s was already handled; skipped", update_id)
            return False
        incoming = self._client.parse(raw)
        if incoming.event is None:
            # Nothing for the conversation; a tap without usable data is still answered.
            if incoming.callback_id is not None:
                await self._answer(incoming.callback_id, "")
            await self._ledger.mark_handled(update_id)
            self.stats.ignored += 1
            return False
        if isinstance(incoming.event, PreCheckout):
            self._spawn(self._pre_checkout(update_id, incoming.event))
            self.stats.accepted += 1
            return True
        chat = f"{self._bot_key}:{incoming.event.chat.chat_id}"
        self._keep_parsed(update_id, incoming)  # before submitting: a holder may take it before submit returns
        if not await self._locks.submit(chat, update_id, json.dumps(raw, ensure_ascii=False)):
            self._parsed.pop(update_id, None)
            self.stats.duplicates += 1
            return False
        self.stats.accepted += 1
        self.replies.start(update_id)
        self.drain_soon(chat)
        return True

    def _keep_parsed(self, update_id: int, incoming: Incoming) -> None:
        self._parsed[update_id] = incoming
        if len(self._parsed) > PARSED_KEPT:
            del self._parsed[next(iter(self._parsed))]

    def drain_soon(self, chat: str) -> None:
        self._spawn(self._drain(chat))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pre_checkout(self, update_id: int, event: PreCheckout) -> None:
        """Answer a pre_checkout_query now, beside the chat queues: a refusal when anything fails."""
        started = time.monotonic()
        payments = self._app.payments
        try:
            refusal = await payments.pre_checkout(event) if payments is not None else texts.PRECHECKOUT_UNKNOWN
        except Exception:
            log.exception("pre-checkout %s could not be checked; refused", update_id)
            refusal = texts.PRECHECKOUT_UNKNOWN
        try:
            await self._sender.answer_pre_checkout(event.query_id, refusal)
        except SendError as error:
            log.warning("pre-checkout not answered: %s %s", type(error).__name__, error.detail)
        else:
            log.info("pre-checkout %s answered %s in %.0f ms", update_id, "ok" if refusal is None else "no",
                     (time.monotonic() - started) * 1000)
        try:
            await self._ledger.mark_handled(update_id)
            self.stats.handled += 1
        except Exception:
            log.exception("pre-checkout %s not marked handled", update_id)

    async def _drain(self, chat: str) -> None:
        try:
            await self._locks.drain(chat, self._handle)
        except Exception:
            # Infrastructure trouble (database, Redis): the update stays queued for the next sweep.
            log.exception("chat queue %s stopped; it will be retried", chat.rsplit(":", 1)[0])

    async def _handle(self, update_id: int, payload: str) -> None:
        # Handled meanwhile? Only a shared queue can say yes: another process may have drained it. An
        # in-process queue keeps an update until it is marked and refuses it twice, and `accept` asked
        # the ledger when it came in, so asking again would only cost a query per update. A queue that
        # keeps the ledger itself (Redis) skips handled updates and marks finished ones as it drains.
        marks = self._locks.marks_handled
        parsed = self._parsed.pop(update_id, None)
        if self._locks.durable and not marks and await self._ledger.is_handled(update_id):
            self.stats.duplicates += 1
            return
        incoming = parsed or self._client.parse(json.loads(payload))
        await self._run(incoming)
        self.replies.stop(update_id)
        if not marks:
            await self._ledger.mark_handled(update_id)
        self.stats.handled += 1

    async def _run(self, incoming: Incoming) -> None:
        event = incoming.event
        assert event is not None
        tap_answer = ""
        try:
            response = await dispatch(self._app, event, self._sender)
            tap_answer = response.tap_answer or ""
        except Exception:
            self.stats.failed += 1
            log.exception("update %s failed", incoming.update_id)
        finally:
            if isinstance(event, ButtonTapped) and incoming.callback_id is not None:
                await self._answer(incoming.callback_id, tap_answer)

    async def _answer(self, callback_id: str, text: str) -> None:
        try:
            await self._sender.answer_tap(callback_id, text[:200])
        except SendError as error:
            log.warning("tap not answered: %s %s", type(error).__name__, error.detail)

    async def sweep(self) -> None:
        """Drain chats left with queued updates (a holder that stopped, a failed drain)."""
        for chat in await self._locks.pending_chats():
            if chat.startswith(f"{self._bot_key}:"):
                self.drain_soon(chat)

    async def settle(self) -> None:
        """Wait until everything accepted so far is handled (or its drain has given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
