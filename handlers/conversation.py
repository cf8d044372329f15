"""The conversation: one incoming event and the chat's state in, the replies out.

Framework-free: the terminal chat, aiogram and python-telegram-bot all call `Conversation.handle`.
Authentication is a small state machine (national ID -> own contact -> bound); everything else
reads the citizen's data through the services.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from handlers import render, texts
from handlers.callbacks import Action, Tap, decode, encode, notice_id_of
from handlers.events import (
    ButtonTapped,
    Chat,
    CommandReceived,
    ContactShared,
    Event,
    PaymentSucceeded,
    PreCheckout,
    Response,
    TextReceived,
)
from handlers.payments import pay_button
from nlp.digits import strip_invisible, to_ascii_digits
from nlp.identifiers import clean_national_id
from services.auth import AuthOutcome, AuthService
from services.conversation.chat_scope import GroupNotes
from services.conversation.followups import CaseContext, FollowUps
from services.conversation.state import ChatState, StateStore, Step
from services.messaging import Button, OutgoingMessage
from services.notices import NoticeService, OpenRefusal

log = logging.getLogger(__name__)

# A message that is only digits (and separators) of about the right length reads as a national ID.
_LOOKS_LIKE_ID = re.compile(r"^[\s\d\-_.\u200c]{8,16}$")


class QuestionAnswerer(Protocol):
    """Answers free text (issue: Persian questions). Absent, a short fallback is used."""

    async def answer(self, chat: Chat, text: str, citizen_id: int | None, recalled: CaseContext | None) -> Response:
        """`recalled`: the case the chat last talked about, if recent and this citizen's (FollowUps.recent)."""
        ...


class TapHandler(Protocol):
    """Handles taps of actions the core does not own (suggested intents, case choices, staff)."""

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None: ...


class Plugin(Protocol):
    """A feature beside the core (staff commands, ...), asked first; None means "not mine"."""

    async def command(self, event: CommandReceived) -> Response | None: ...

    async def text(self, event: TextReceived) -> Response | None: ...

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None: ...


@dataclass(frozen=True)
class ConversationSettings:
    appeal_days: int = 10
    lockout_minutes: int = 60
    # The staff chat: only the plugins (staff commands, staff replies) act there, never citizen features.
    staff_chat_id: int | None = None


class PaymentHandler(Protocol):
    """Fines paid in the chat (handlers.payments.PaymentFlow); absent without a provider token."""

    async def succeeded(self, event: PaymentSucceeded) -> Response: ...


class Conversation:
    def __init__(self, *, auth: AuthService, notices: NoticeService, state: StateStore,
                 settings: ConversationSettings, group_notes: GroupNotes,
                 questions: QuestionAnswerer | None = None, extra_taps: TapHandler | None = None,
                 plugins: Sequence[Plugin] = (), payments: PaymentHandler | None = None,
                 followups: FollowUps | None = None) -> None:
        self._followups = followups  # the case context of follow-up questions, beside the state
        self._auth = auth
        self._group_notes = group_notes
        self._notices = notices
        self._state = state
        self._settings = settings
        self._questions = questions
        self._extra_taps = extra_taps
        self._plugins = tuple(plugins)
        self._payments = payments

    async def handle(self, event: Event, bound: int | None) -> Response:
        """`bound`: the citizen the chat is bound to (None: not bound), as the caller read it at the start
        of this update (services/delivery/outgoing.py), so it is read once per update and never kept."""
        try:
            if self._is_staff_chat(event.chat):
                return await self._in_staff_chat(event)
            if not event.chat.private:
                return await self._in_group(event)
            if isinstance(event, CommandReceived):
                return await self._on_command(event, bound)
            if isinstance(event, ContactShared):
                return await self._on_contact(event, bound)
            if isinstance(event, ButtonTapped):
                return await self._on_tap(event, bound)
            if isinstance(event, PaymentSucceeded):
                return await self._payments.succeeded(event) if self._payments else Response()
            if isinstance(event, PreCheckout):
                return Response()  # answered by the runner at once, never queued behind a chat
            return await self._on_text(event, bound)
        except Exception:
            log.exception("conversation failed on %s", type(event).__name__)
            reply = Response([OutgoingMessage(texts.SOMETHING_WENT_WRONG)])
            if isinstance(event, ButtonTapped):
                reply.tap_answer = ""
            return reply

    # Outside a citizen's private chat ---------------------------------------------------------------

    def _is_staff_chat(self, chat: Chat) -> bool:
        return self._settings.staff_chat_id is not None and chat.chat_id == self._settings.staff_chat_id

    async def _in_staff_chat(self, event: Event) -> Response:
        """Only the staff plugins act here; what they leave gets the answer a stranger would."""
        if isinstance(event, CommandReceived):
            answer = await self._first_plugin_answer(lambda plugin: plugin.command(event))
            return answer or Response([OutgoingMessage(texts.UNKNOWN_COMMAND)])
        if isinstance(event, TextReceived):
            return await self._first_plugin_answer(lambda plugin: plugin.text(event)) or Response()
        if not isinstance(event, ButtonTapped):
            return Response()  # a contact or a payment has no business in the staff chat
        tap = decode(event.data)
        reply = None
        if tap is not None and tap.action is not Action.OPEN_NOTICE:
            reply = await self._first_plugin_answer(lambda plugin: plugin.tap(event.chat, tap.action, tap.payload, None))
        if reply is None:
            return Response(tap_answer=_group_tap_refusal(tap))
        if reply.tap_answer is None:
            reply.tap_answer = ""
        return reply

    async def _in_group(self, event: Event) -> Response:
        """A group, supergroup or channel: no login, no data, no service; one note a group, ever."""
        chat = event.chat
        if isinstance(event, ButtonTapped):
            tap = decode(event.data)
            notice_id = notice_id_of(tap) if tap is not None and tap.action is Action.OPEN_NOTICE else None
            if notice_id is not None:
                # Refused by the use case itself, which keeps the attempt in the audit trail.
                await self._notices.open(platform=chat.platform, chat_id=chat.chat_id, user_id=chat.user_id,
                                         chat_kind=chat.kind, notice_id=notice_id)
            return Response(tap_answer=_group_tap_refusal(tap))
        if await self._group_notes.first_time(chat.platform, chat.chat_id):
            return Response([OutgoingMessage(texts.GROUP_PRIVATE_ONLY)])
        return Response()

    # Commands -----------------------------------------------------------------------------------

    async def _first_plugin_answer(self, ask: Callable[[Plugin], Awaitable[Response | None]]) -> Response | None:
        for plugin in self._plugins:
            answer = await ask(plugin)
            if answer is not None:
                return answer
        return None

    async def _on_command(self, event: CommandReceived, bound: int | None) -> Response:
        answer = await self._first_plugin_answer(lambda plugin: plugin.command(event))
        if answer is not None:
            return answer
        chat = event.chat
        name = event.name.lower()
        if name == "start":
            return await self._start(chat, event.args, bound)
        if name == "help":
            return Response([OutgoingMessage(texts.HELP, buttons=render.main_menu())])
        if name in ("notices", "notice"):
            return await self._list_notices(chat)
        if name == "logout":
            await self._state.clear(chat.platform, chat.chat_id)
            await self._forget_case(chat)
            if await self._auth.logout(chat.platform, chat.chat_id):
                return Response([OutgoingMessage(texts.LOGGED_OUT, remove_keyboard=True)])
            return Response([OutgoingMessage(texts.NOT_LOGGED_IN)])
        if name == "cancel":
            await self._state.clear(chat.platform, chat.chat_id)
            await self._forget_case(chat)
            return Response([OutgoingMessage(texts.CANCELLED, remove_keyboard=True)])
        return Response([OutgoingMessage(texts.UNKNOWN_COMMAND)])

    async def _start(self, chat: Chat, args: str, bound: int | None) -> Response:
        if bound is not None:
            return Response([OutgoingMessage(texts.WELCOME_BACK.format(name_part=""), buttons=render.main_menu())])
        await self._state.save(chat.platform, chat.chat_id, ChatState(Step.AWAITING_NATIONAL_ID))
        if args.strip() and _LOOKS_LIKE_ID.match(to_ascii_digits(strip_invisible(args))):
            return await self._national_id(chat, args)
        return Response([OutgoingMessage(texts.WELCOME, remove_keyboard=True)])

    # Authentication -----------------------------------------------------------------------------

    async def _national_id(self, chat: Chat, raw: str) -> Response:
        check = await self._auth.check_national_id(chat.platform, chat.chat_id, raw)
        if check.problem is not None:
            await self._state.save(chat.platform, chat.chat_id, ChatState(Step.AWAITING_NATIONAL_ID))
            reason = texts.NATIONAL_ID_PROBLEM[check.problem].format(
                length=render.fa(len(clean_national_id(raw))))
            return Response([OutgoingMessage(reason)])
        if check.locked:
            return Response([self._locked_message()])
        assert check.nid_hash is not None and check.nid_masked is not None
        await self._state.save(chat.platform, chat.chat_id,
                               ChatState(Step.AWAITING_CONTACT, {"nid_hash": check.nid_hash,
                                                                 "nid_masked": check.nid_masked}))
        return Response([OutgoingMessage(texts.ASK_CONTACT.format(masked=render.fa(check.nid_masked)),
                                         request_contact=texts.BUTTON_SHARE_CONTACT)])

    async def _on_contact(self, event: ContactShared, bound: int | None) -> Response:
        chat = event.chat
        state = await self._state.load(chat.platform, chat.chat_id)
        if state.step is not Step.AWAITING_CONTACT or "nid_hash" not in state.data:
            if bound is not None:
                return Response([OutgoingMessage(texts.BOUND_FALLBACK, buttons=render.main_menu(),
                                                 remove_keyboard=True)])
            await self._state.save(chat.platform, chat.chat_id, ChatState(Step.AWAITING_NATIONAL_ID))
            return Response([OutgoingMessage(texts.CONTACT_UNEXPECTED, remove_keyboard=True)])
        result = await self._auth.verify_contact(
            platform=chat.platform, chat_id=chat.chat_id, sender_user_id=chat.user_id,
            nid_hash=state.data["nid_hash"], phone=event.phone, contact_user_id=event.contact_user_id,
            forwarded=event.forwarded, private=event.private, nid_masked=state.data.get("nid_masked", ""))
        if result.outcome is AuthOutcome.BOUND:
            await self._state.clear(chat.platform, chat.chat_id)
            name_part = f"، {render.esc(result.full_name)}" if result.full_name else ""
            body = texts.BOUND.format(name_part=name_part)
            if result.queued_notices:
                body += texts.BOUND_WITH_NOTICES.format(count=render.fa(result.queued_notices))
            return Response([OutgoingMessage(body, remove_keyboard=True),
                             OutgoingMessage(texts.BOUND_FALLBACK, buttons=render.main_menu())])
        if result.outcome is AuthOutcome.LOCKED:
            await self._state.clear(chat.platform, chat.chat_id)
            return Response([self._locked_message()])
        if result.outcome is AuthOutcome.NOT_PRIVATE:
            await self._state.clear(chat.platform, chat.chat_id)
            return Response([OutgoingMessage(texts.GROUP_PRIVATE_ONLY, remove_keyboard=True)])
        if result.outcome is AuthOutcome.NOT_OWN_CONTACT:
            return Response([OutgoingMessage(texts.CONTACT_NOT_OWN, request_contact=texts.BUTTON_SHARE_CONTACT)])
        if result.outcome is AuthOutcome.INVALID_PHONE:
            return Response([OutgoingMessage(texts.CONTACT_INVALID_PHONE, request_contact=texts.BUTTON_SHARE_CONTACT)])
        # A mismatch: start over from the national ID, without saying whether it exists.
        await self._state.save(chat.platform, chat.chat_id, ChatState(Step.AWAITING_NATIONAL_ID))
        return Response([OutgoingMessage(texts.CONTACT_MISMATCH, remove_keyboard=True),
                         OutgoingMessage(texts.ASK_NATIONAL_ID)])

    def _locked_message(self) -> OutgoingMessage:
        return OutgoingMessage(texts.LOCKED.format(minutes=render.fa(self._settings.lockout_minutes)),
                               remove_keyboard=True)

    # Free text ----------------------------------------------------------------------------------

    async def _on_text(self, event: TextReceived, bound: int | None) -> Response:
        answer = await self._first_plugin_answer(lambda plugin: plugin.text(event))
        if answer is not None:
            return answer
        chat = event.chat
        text = event.text.strip()
        state, context = await self._state.load_with_context(chat.platform, chat.chat_id)
        looks_like_id = bool(_LOOKS_LIKE_ID.match(to_ascii_digits(strip_invisible(text))))
        if state.step is Step.AWAITING_NATIONAL_ID:
            return await self._national_id(chat, text)
        if state.step is Step.AWAITING_CONTACT:
            if looks_like_id and len(clean_national_id(text)) == 10:
                return await self._national_id(chat, text)
            return Response([OutgoingMessage(texts.CONTACT_TYPED_INSTEAD, request_contact=texts.BUTTON_SHARE_CONTACT)])
        if bound is None and looks_like_id:
            return await self._national_id(chat, text)
        if self._questions is not None:
            recalled = self._followups.recent(context, bound) if self._followups is not None else None
            return await self._questions.answer(chat, text, bound, recalled)
        if bound is None:
            return Response([OutgoingMessage(texts.UNBOUND_TEXT)])
        return Response([OutgoingMessage(texts.BOUND_FALLBACK, buttons=render.main_menu())])

    # Taps ---------------------------------------------------------------------------------------

    async def _on_tap(self, event: ButtonTapped, bound: int | None) -> Response:
        chat = event.chat
        tap = decode(event.data)
        if tap is None:
            return Response(tap_answer=texts.UNKNOWN_BUTTON)
        if tap.action is Action.OPEN_NOTICE:
            notice_id = notice_id_of(tap)
            if notice_id is None:
                return Response(tap_answer=texts.UNKNOWN_BUTTON)
            reply = await self._open_notice(chat, notice_id)
            return reply
        if tap.action is Action.LIST_NOTICES:
            reply = await self._list_notices(chat)
        elif tap.action is Action.HELP:
            reply = Response([OutgoingMessage(texts.HELP, buttons=render.main_menu())])
        elif tap.action is Action.LOGIN:
            reply = await self._start(chat, "", bound)
        else:
            extra = await self._first_plugin_answer(
                lambda plugin: plugin.tap(chat, tap.action, tap.payload, bound))
            if extra is None and self._extra_taps is not None:
                extra = await self._extra_taps.tap(chat, tap.action, tap.payload, bound)
            if extra is None:
                return Response(tap_answer=texts.UNKNOWN_BUTTON)
            reply = extra
        if reply.tap_answer is None:
            reply.tap_answer = ""
        return reply

    async def _open_notice(self, chat: Chat, notice_id: int) -> Response:
        opened = await self._notices.open(platform=chat.platform, chat_id=chat.chat_id, user_id=chat.user_id,
                                          chat_kind=chat.kind, notice_id=notice_id)
        if opened is OpenRefusal.NOT_PRIVATE:
            return Response(tap_answer=texts.NOTICE_PRIVATE_ONLY)
        if opened is OpenRefusal.NOT_BOUND:
            return Response([OutgoingMessage(texts.NEED_LOGIN, buttons=_login_button())], tap_answer=texts.NEED_LOGIN)
        if isinstance(opened, OpenRefusal):
            return Response(tap_answer=texts.NOTICE_NOT_YOURS)
        if self._followups is not None:
            # «مهلتش کی تموم میشه؟» after opening a ruling is about that ruling's case.
            await self._followups.remember(chat.platform, chat.chat_id, opened.citizen_id,
                                           case_number=opened.view.case_number, intent="ruling")
        messages = [render.full_text(opened.view, opened.text)]
        summary = render.service_summary(opened.view, just_recorded=opened.first_view,
                                         appeal_days=self._settings.appeal_days)
        if summary:
            buttons = render.main_menu()
            if self._payments is not None and opened.view.fine_amount_rials:
                buttons = (pay_button(notice_id), *buttons)
            messages.append(OutgoingMessage(summary, buttons=buttons))
        return Response(messages, tap_answer=texts.TAP_SERVICE_RECORDED if opened.first_view else "")

    async def _forget_case(self, chat: Chat) -> None:
        if self._followups is not None:
            await self._followups.forget(chat.platform, chat.chat_id)

    async def _list_notices(self, chat: Chat) -> Response:
        views = await self._notices.list_for_chat(chat.platform, chat.chat_id)
        if views is None:
            return Response([OutgoingMessage(texts.NEED_LOGIN, buttons=_login_button())])
        return Response([render.notice_list(views)])


def _group_tap_refusal(tap: Tap | None) -> str:
    if tap is not None and tap.action is Action.OPEN_NOTICE:
        return texts.NOTICE_PRIVATE_ONLY
    return texts.TAP_PRIVATE_ONLY


def _login_button() -> tuple[tuple[Button, ...], ...]:
    return ((Button(texts.BUTTON_LOGIN, encode(Action.LOGIN)),),)
