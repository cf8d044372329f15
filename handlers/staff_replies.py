"""The staff chat side of a handoff: a reply to a forwarded question goes back to its citizen."""

from __future__ import annotations

from handlers import render, texts
from handlers.callbacks import Action
from handlers.events import Chat, CommandReceived, Relay, RelayOutcome, Response, TextReceived
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
        answer = render.printable(event.text)
        reply = await self._handoffs.answer(staff_chat_id=event.chat.chat_id,
                                            reply_to_message_id=event.reply_to_message_id,
                                            staff_user_id=event.chat.user_id, text=answer)
        if reply is None:
            return Response()
        staff_user = event.chat.user_id

        async def settle(outcome: RelayOutcome) -> OutgoingMessage:
            # Staff hear "sent" only once the citizen has the whole answer, otherwise why not.
            number = render.fa(reply.handoff_id)
            if outcome.failure is None:
                return OutgoingMessage(texts.STAFF_REPLY_SENT.format(handoff_id=number))
            await self._handoffs.reply_failed(reply.handoff_id, staff_user, outcome.failure)
            return OutgoingMessage(texts.STAFF_REPLY_NOT_SENT.format(
                handoff_id=number, reason=texts.STAFF_REPLY_UNDELIVERED[outcome.failure.value]))

        to_citizen = OutgoingMessage(texts.STAFF_REPLY_TO_CITIZEN.format(answer=render.esc(answer)))
        return Response(relays=[Relay(reply.platform, reply.chat_id, to_citizen, settle)])

    async def command(self, event: CommandReceived) -> Response | None:
        return None

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None:
        return None
