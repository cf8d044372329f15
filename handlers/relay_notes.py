"""What whoever wrote hears once a relayed message went: the citizen about a question forwarded to
staff, staff about an answer sent to a citizen. The delivery engine sends the note when it has
recorded the outcome (services/handoff.py `relay_settlers`)."""

from __future__ import annotations

from handlers import render, texts
from services.messaging import OutgoingMessage, Undelivered


class RelayNoteTexts:
    def forwarded(self, handoff_id: int, failure: Undelivered | None) -> OutgoingMessage:
        if failure is None:
            return OutgoingMessage(texts.HUMAN_FORWARDED)
        return OutgoingMessage(texts.HUMAN_NOT_FORWARDED.format(handoff_id=render.fa(handoff_id)))

    def replied(self, handoff_id: int, failure: Undelivered | None) -> OutgoingMessage:
        number = render.fa(handoff_id)
        if failure is None:
            return OutgoingMessage(texts.STAFF_REPLY_SENT.format(handoff_id=number))
        return OutgoingMessage(texts.STAFF_REPLY_NOT_SENT.format(
            handoff_id=number, reason=texts.STAFF_REPLY_UNDELIVERED[failure.value]))
