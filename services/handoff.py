"""Questions for a human: forwarded to the staff chat; a staff reply to it goes back to the citizen.

Both are messages of the delivery engine, queued in the transaction that records them: a question is
never lost, and the forward and the reply are paced, retried and recovered like any message. Whoever
wrote is told how it went only once it went: the note ("forwarded", "sent", or why not) is queued
by the settle hooks below, in the transaction that records the outcome. A long question arrives in
several staff-chat messages; a reply to any of them reaches the citizen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from services.clock import Clock
from services.delivery.lanes import Outcome, Settler
from services.messaging import OutgoingMessage, Undelivered
from storage import handoffs, messages
from storage.database import Database
from storage.messages import Claimed
from storage.models import ForwardStatus, MessageKind

__all__ = ["ForwardStatus", "HandoffReply", "HandoffService", "RelayNotes", "relay_settlers"]


@dataclass(frozen=True)
class HandoffReply:
    platform: str
    chat_id: int
    handoff_id: int


class RelayNotes(Protocol):
    """The notes for whoever wrote (Persian texts: they come from handlers through the composition root)."""

    def forwarded(self, handoff_id: int, failure: Undelivered | None) -> OutgoingMessage: ...

    def replied(self, handoff_id: int, failure: Undelivered | None) -> OutgoingMessage: ...


class HandoffService:
    def __init__(self, db: Database, clock: Clock, on_queued: Callable[[], None] = lambda: None) -> None:
        self._db = db
        self._clock = clock
        self._on_queued = on_queued

    async def open(self, *, platform: str, chat_id: int, user_id: int | None, citizen_id: int | None,
                   question: str, staff_chat_id: int | None = None,
                   forward: Callable[[int], OutgoingMessage] | None = None) -> int:
        """Record the question and, with `forward` (its text for the staff chat, given its number), queue it."""
        now = self._clock()
        async with self._db.session() as session:
            handoff = await handoffs.open_handoff(session, platform=platform, chat_id=chat_id, user_id=user_id,
                                                  citizen_id=citizen_id, question=question, now=now)
            assert handoff.id is not None
            if forward is not None and staff_chat_id is not None:
                await messages.queue(session, kind=MessageKind.HANDOFF, ref_id=handoff.id, platform=platform,
                                     chat_id=staff_chat_id, body=forward(handoff.id).html, now=now,
                                     notify_chat_id=chat_id)
        if forward is not None:
            self._on_queued()
        return handoff.id

    async def forwarded(self, handoff_id: int, staff_chat_id: int, message_ids: Sequence[int]) -> None:
        """The staff chat has the whole question, in these messages."""
        async with self._db.session() as session:
            await handoffs.settle_forward(session, handoff_id, staff_chat_id, message_ids, ForwardStatus.FORWARDED,
                                          None, self._clock())

    async def forward_failed(self, handoff_id: int, staff_chat_id: int, reason: Undelivered,
                             arrived: Sequence[int] = ()) -> None:
        """The question did not (wholly) reach the staff chat; parts that did still route replies."""
        async with self._db.session() as session:
            await handoffs.settle_forward(session, handoff_id, staff_chat_id, arrived, ForwardStatus.FAILED,
                                          reason.value, self._clock())

    async def answer(self, *, staff_chat_id: int, reply_to_message_id: int, staff_user_id: int, text: str,
                     reply: Callable[[str], OutgoingMessage] | None = None,
                     message_id: int | None = None) -> HandoffReply | None:
        """Record a staff reply to a forwarded question and, with `reply` (the citizen's message), queue it;
        None when it replies to something else. `message_id` is the staff member's own message."""
        now = self._clock()
        async with self._db.session() as session:
            handoff = await handoffs.record_answer(session, staff_chat_id=staff_chat_id,
                                                   reply_to_message_id=reply_to_message_id,
                                                   staff_user_id=staff_user_id, text=text, now=now)
            if handoff is None:
                return None
            assert handoff.id is not None
            if reply is not None:
                await messages.queue(session, kind=MessageKind.STAFF_REPLY,
                                     ref_id=message_id if message_id is not None else -handoff.id,
                                     platform=handoff.platform, chat_id=handoff.chat_id, body=reply(text).html,
                                     now=now, origin_id=handoff.id, notify_chat_id=staff_chat_id)
            found = HandoffReply(handoff.platform, handoff.chat_id, handoff.id)
        if reply is not None:
            self._on_queued()
        return found


def relay_settlers(notes: RelayNotes, clock: Clock) -> dict[str, Settler]:
    """What the engine does once a forward or a reply has gone (or not), in the same transaction."""

    async def forwarded(session: AsyncSession, claimed: Claimed, outcome: Outcome) -> None:
        handoff_id = claimed.ref_id
        failure = outcome.failure
        await handoffs.settle_forward(session, handoff_id, claimed.chat_id, outcome.message_ids,
                                      ForwardStatus.FORWARDED if failure is None else ForwardStatus.FAILED,
                                      None if failure is None else failure.value, clock())
        await _note(session, claimed, notes.forwarded(handoff_id, failure))

    async def replied(session: AsyncSession, claimed: Claimed, outcome: Outcome) -> None:
        handoff_id = claimed.origin_id or 0
        if outcome.failure is not None:
            handoff = await handoffs.get(session, handoff_id)
            handoffs.reply_not_delivered(session, handoff_id, handoff.answered_by if handoff else None,
                                         outcome.failure.value, clock())
        await _note(session, claimed, notes.replied(handoff_id, outcome.failure))

    async def _note(session: AsyncSession, claimed: Claimed, note: OutgoingMessage) -> None:
        if claimed.notify_chat_id is not None:
            await messages.queue(session, kind=MessageKind.NOTE, ref_id=claimed.id, platform=claimed.platform,
                                 chat_id=claimed.notify_chat_id, body=note.html, now=clock())

    return {MessageKind.HANDOFF.value: forwarded, MessageKind.STAFF_REPLY.value: replied}
