"""The staff chat side of a handoff: a reply to a forwarded question goes back to its citizen."""

from __future__ import annotations

from handlers import render, texts
from handlers.callbacks import Action
from handlers.events import Chat, CommandReceived, Response, TextReceived
from services.handoff import HandoffService
from services.messaging import OutgoingMessage


class StaffReplies:
    """A conversation plugin: owns every plain message in the staff chat.

    Only a reply by staff goes to a citizen: with STAFF_USER_IDS set, a reply by any other member of
    the staff chat is ignored; without it, every member of the staff chat is staff.
    """

    def __init__(self, handoffs: HandoffService, *, staff_chat_id: int | None,
                 staff_ids: frozenset[int] = frozenset()) -> None:
        self._handoffs = handoffs
        self._staff_chat_id = staff_chat_id
        self._staff_ids = staff_ids

    async def text(self, event: TextReceived) -> Response | None:
        if self._staff_chat_id is None or event.chat.chat_id != self._staff_chat_id:
            return None
        if event.reply_to_message_id is None:
            return Response()  # staff talking among themselves: not for eblagh
        if self._staff_ids and event.chat.user_id not in self._staff_ids:
            return Response()  # a member who is not staff: their words never reach a citizen
        # Queued with the answer's record; staff hear "sent" only once the citizen has the whole answer,
        # otherwise why not (handlers/relay_notes.py, sent by the delivery engine).
        await self._handoffs.answer(staff_chat_id=event.chat.chat_id, reply_to_message_id=event.reply_to_message_id,
                                    staff_user_id=event.chat.user_id, text=render.printable(event.text),
                                    reply=_to_citizen, message_id=event.message_id)
        return Response()

    async def command(self, event: CommandReceived) -> Response | None:
        return None

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None:
        return None


def _to_citizen(answer: str) -> OutgoingMessage:
    return OutgoingMessage(texts.STAFF_REPLY_TO_CITIZEN.format(answer=render.esc(answer)))
