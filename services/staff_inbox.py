"""The dashboard's inbox: citizens' questions handed to a human, oldest first, and the staff's answers.

An answer from the dashboard takes the path of one from the staff chat as far as the web process can:
it is recorded on the handoff (which leaves the inbox) and its message to the citizen is queued; the
process that holds the messenger (`eblagh run` or `eblagh worker`) sends it, and the page shows the
message's state (queued -> sent, or failed / blocked with the reason) instead of the staff chat's note.

The message is one of the delivery engine's (kind staff_reply, as from the staff chat), queued in the
transaction that records the answer; there is no staff chat to notify, so no settle note is queued.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.clock import Clock
from services.messaging import TEXT_LIMIT, OutgoingMessage
from services.staff_accounts import StaffMember
from storage import audit, staff_inbox
from storage.database import Database
from storage.staff_inbox import OpenQuestion, SentReply

# Room left for the wrapper text the citizen's message puts around the answer.
REPLY_LIMIT = TEXT_LIMIT - 200

__all__ = ["REPLY_LIMIT", "InboxError", "OpenQuestion", "ReplyQueued", "SentReply", "StaffInbox"]


class InboxError(ValueError):
    pass


@dataclass(frozen=True)
class ReplyQueued:
    reply_id: int
    handoff_id: int


class StaffInbox:
    def __init__(self, db: Database, clock: Clock, reply: Callable[[str], OutgoingMessage]) -> None:
        self._db = db
        self._clock = clock
        self._reply = reply  # the citizen's message around an answer (Persian: from handlers)

    async def questions(self, limit: int = 100) -> list[OpenQuestion]:
        async with self._db.session() as session:
            return await staff_inbox.open_questions(session, limit)

    async def open_count(self) -> int:
        async with self._db.session() as session:
            return await staff_inbox.count_open(session)

    async def replies(self, limit: int = 20) -> list[SentReply]:
        async with self._db.session() as session:
            return await staff_inbox.recent_replies(session, limit)

    async def send_staff_reply(self, handoff_id: int, text: str, staff: StaffMember) -> ReplyQueued:
        """Record the answer and queue its message to the citizen, in one transaction."""
        answer = text.strip()
        if not answer:
            raise InboxError("empty")
        if len(answer) > REPLY_LIMIT:
            raise InboxError("too_long")
        now = self._clock()
        async with self._db.session() as session:
            handoff = await staff_inbox.get_handoff(session, handoff_id)
            if handoff is None:
                raise InboxError("unknown")
            reply = await staff_inbox.add_reply(session, handoff, staff_id=staff.id, author=staff.username,
                                                text=answer, body=self._reply(answer).html, now=now)
            assert reply.id is not None
            audit.record_event(session, actor=staff.actor, action="handoff_answered", subject=str(handoff_id),
                               detail={"via": "dashboard", "reply": reply.id}, at=now)
            return ReplyQueued(reply.id, handoff_id)
