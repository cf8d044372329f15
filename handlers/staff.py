"""Staff commands beside the conversation (a `Plugin`): `/broadcast [segment]` and `/broadcast_status ID`.

They work only in the staff chat (STAFF_CHAT_ID), and there only for users in STAFF_USER_IDS when
that list is set (empty: every member of the staff chat is staff). Anywhere else, and for anyone
else, they get the ordinary unknown-command answer, so the feature is not revealed.

`/broadcast` asks for the text, shows it back with the recipient count and confirm / cancel buttons,
and queues it on confirmation. A draft belongs to the staff member who started it: in the shared
staff chat, another member's message is not its text and another member's tap does not send it.
"""

from __future__ import annotations

from handlers import render, staff_texts
from handlers.callbacks import Action, encode
from handlers.events import Chat, CommandReceived, Response, TextReceived
from handlers.outbox_cards import broadcast_card, segment_label
from nlp.digits import to_ascii_digits
from services.broadcasts import (
    CASE_STATUSES,
    BroadcastError,
    BroadcastProblem,
    BroadcastService,
    Segment,
    check_text,
)
from services.conversation.state import ChatState, StateStore, Step
from services.messaging import Button, OutgoingMessage

PAYLOAD = "bc"  # CONFIRM / CANCEL payload of a broadcast preview


def problem_text(error: BroadcastError) -> str:
    template = staff_texts.BROADCAST_PROBLEMS[error.problem]
    if error.problem is BroadcastProblem.TEXT_TOO_LONG:
        return template.format(length=render.fa(error.detail))
    if error.problem is BroadcastProblem.UNKNOWN_STATUS:
        return template.format(statuses="، ".join(CASE_STATUSES))
    return template


class StaffCommands:
    def __init__(self, *, staff_chat_id: int | None, staff_ids: frozenset[int], state: StateStore,
                 broadcasts: BroadcastService) -> None:
        self._staff_chat_id = staff_chat_id
        self._staff = staff_ids
        self._state = state
        self._broadcasts = broadcasts

    def _is_staff(self, chat: Chat) -> bool:
        if self._staff_chat_id is None or chat.chat_id != self._staff_chat_id:
            return False
        return not self._staff or chat.user_id in self._staff

    async def _draft_of(self, chat: Chat) -> ChatState | None:
        """The chat's pending broadcast draft when it is this staff member's, else None."""
        state = await self._state.load(chat.platform, chat.chat_id)
        if state.step is not Step.AWAITING_BROADCAST_TEXT or state.data.get("by") != str(chat.user_id):
            return None
        return state

    async def command(self, event: CommandReceived) -> Response | None:
        if not self._is_staff(event.chat):
            return None
        if event.name == "broadcast":
            return await self._start(event.chat, event.args)
        if event.name == "broadcast_status":
            return await self._status(event.args)
        return None

    async def text(self, event: TextReceived) -> Response | None:
        chat = event.chat
        if not self._is_staff(chat):
            return None
        state = await self._draft_of(chat)
        if state is None:
            return None
        segment = Segment.parse(state.data.get("segment", "all"))
        try:
            text = check_text(event.text)
        except BroadcastError as error:
            return Response([OutgoingMessage(problem_text(error))])
        count = await self._broadcasts.count_recipients(segment)
        if count == 0:
            await self._state.clear(chat.platform, chat.chat_id)
            return Response([OutgoingMessage(staff_texts.BROADCAST_NO_RECIPIENTS)])
        await self._state.save(chat.platform, chat.chat_id,
                               ChatState(Step.AWAITING_BROADCAST_TEXT,
                                         {"segment": str(segment), "text": text, "by": str(chat.user_id)}))
        buttons = ((Button(staff_texts.BUTTON_CONFIRM_BROADCAST, encode(Action.CONFIRM, PAYLOAD)),
                    Button(staff_texts.BUTTON_CANCEL_BROADCAST, encode(Action.CANCEL, PAYLOAD))),)
        summary = staff_texts.BROADCAST_PREVIEW.format(segment=segment_label(segment), count=render.fa(count))
        # The text exactly as citizens will get it, then the count and the buttons.
        return Response([broadcast_card(text), OutgoingMessage(summary, buttons=buttons)])

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None:
        if payload != PAYLOAD or action not in (Action.CONFIRM, Action.CANCEL) or not self._is_staff(chat):
            return None
        state = await self._draft_of(chat)
        draft = state.data.get("text") if state is not None else None
        if action is Action.CANCEL:
            if state is not None:
                await self._state.clear(chat.platform, chat.chat_id)
            return Response([OutgoingMessage(staff_texts.BROADCAST_DRAFT_CANCELLED)], tap_answer="")
        if draft is None:
            return Response(tap_answer=staff_texts.BROADCAST_NOTHING_PENDING)
        # Cleared first, so a second tap on the same preview cannot queue it twice.
        await self._state.clear(chat.platform, chat.chat_id)
        assert state is not None
        segment = Segment.parse(state.data.get("segment", "all"))
        progress = await self._broadcasts.create(text=draft, segment=segment, at=None,
                                                 created_by=f"{chat.platform}:{chat.user_id}")
        reply = staff_texts.BROADCAST_QUEUED.format(id=render.fa(progress.id), count=render.fa(progress.recipients),
                                                    id_latin=progress.id)
        return Response([OutgoingMessage(reply)], tap_answer=staff_texts.TAP_BROADCAST_QUEUED)

    async def _start(self, chat: Chat, args: str) -> Response:
        try:
            segment = Segment.parse(args or "all")
        except BroadcastError as error:
            return Response([OutgoingMessage(problem_text(error))])
        await self._state.save(chat.platform, chat.chat_id,
                               ChatState(Step.AWAITING_BROADCAST_TEXT, {"segment": str(segment), "by": str(chat.user_id)}))
        return Response([OutgoingMessage(staff_texts.BROADCAST_ASK_TEXT.format(segment=segment_label(segment)))])

    async def _status(self, args: str) -> Response:
        raw = to_ascii_digits(args.strip())
        if not raw.isdigit():
            return Response([OutgoingMessage(staff_texts.BROADCAST_STATUS_USAGE)])
        progress = await self._broadcasts.status(int(raw))
        if progress is None:
            return Response([OutgoingMessage(staff_texts.BROADCAST_NOT_FOUND)])
        fa = render.fa
        return Response([OutgoingMessage(staff_texts.BROADCAST_STATUS.format(
            id=fa(progress.id), state=staff_texts.BROADCAST_STATES.get(progress.state, progress.state),
            recipients=fa(progress.recipients), sent=fa(progress.sent), blocked=fa(progress.blocked),
            failed=fa(progress.failed), pending=fa(progress.pending)))])
