"""Answers to citizens' questions in Persian, from their own cases: the conversation's free-text side.

The message is analysed by the intent model (nlp/); every question in it is answered in order.
Case questions only ever read the chat's own citizen; a case number that is not theirs is refused
without saying whose it is. A follow-up question leans on the case the chat last talked about
(handlers/followups.py; the context is kept by services/conversation/followups.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from handlers import followups, render, texts
from handlers.callbacks import Action, encode
from handlers.events import Chat, Response
from handlers.payments import pay_button
from nlp.intents import OUT_OF_SCOPE, Analysis
from services.cases import CaseService, CaseView, CitizenOverview, RulingView
from services.conversation.flood import Admission, FloodGuard
from services.conversation.followups import CaseContext, FollowUps
from services.handoff import HandoffService
from services.law.calendar import format_rials, jalali_date, tehran_date
from services.law.service_dates import Commission, ServiceKind
from services.messaging import Button, OutgoingMessage
from services.offices import OfficeDirectory

CASE_INTENTS = frozenset({"case_status", "hearing_date", "ruling", "fine_amount", "payment", "appeal_deadline"})
SMALL_TALK = frozenset({"greeting", "thanks", "help"})
MAX_ANSWERS = 3
Keyboard = tuple[tuple[Button, ...], ...]


class Understanding(Protocol):
    def analyze(self, text: str) -> Analysis: ...


@dataclass(frozen=True)
class AnswerSettings:
    appeal_days: int = 10
    staff_chat_id: int | None = None
    payments: bool = False  # fines can be paid in the chat (BALE_PAYMENT_PROVIDER_TOKEN)


class Answers:
    """Implements the conversation's QuestionAnswerer and TapHandler."""

    def __init__(self, *, model: Understanding, cases: CaseService, offices: OfficeDirectory,
                 handoffs: HandoffService, settings: AnswerSettings, clock: Callable[[], datetime],
                 followups: FollowUps | None = None, flood: FloodGuard | None = None) -> None:
        self._model = model
        self._followups = followups
        self._flood = flood
        self._cases = cases
        self._offices = offices
        self._handoffs = handoffs
        self._settings = settings
        self._clock = clock

    # The QuestionAnswerer side ------------------------------------------------------------------

    async def answer(self, chat: Chat, text: str, citizen_id: int | None, recalled: CaseContext | None) -> Response:
        analysis = self._model.analyze(text)
        overview = await self._cases.overview(citizen_id) if citizen_id is not None else None
        case_numbers = [str(e.value) for e in analysis.entities if e.type == "case_number"]
        plan = followups.plan(text, _intents_to_answer(analysis), case_numbers, recalled, overview)
        intents = plan.intents
        if not intents:
            return Response([self._not_understood(analysis)])
        response = Response()
        asked: tuple[str, Sequence[CaseView] | None] | None = None
        for intent in intents[:MAX_ANSWERS]:
            if intent == "human":
                await self._handoff(response, chat, citizen_id, overview, text)
                continue
            among = plan.cases_for(intent, _relevant)
            response.messages.append(self._one(intent, overview, case_numbers, among))
            asked = (intent, among) if intent in CASE_INTENTS else asked
        if asked is not None:
            await self._remember(chat, overview, asked[0], case_numbers, asked[1])
        return response

    # The TapHandler side ------------------------------------------------------------------------

    async def tap(self, chat: Chat, action: Action, payload: str, citizen_id: int | None) -> Response | None:
        if action not in (Action.INTENT, Action.CASE):
            return None
        overview = await self._cases.overview(citizen_id) if citizen_id is not None else None
        if action is Action.INTENT:
            if payload == "human":
                return Response([OutgoingMessage(texts.HUMAN_ASK_WHAT if self._settings.staff_chat_id
                                                 else texts.HUMAN_UNAVAILABLE)])
            if payload not in texts.INTENT_BUTTON and payload not in SMALL_TALK:
                return None
            # A suggested question under an answer about one case is about that case.
            last = followups.last_case(await self._recall(chat, citizen_id), overview)
            among = (last,) if last is not None else None
            await self._remember(chat, overview, payload, [], among)
            return Response([self._one(payload, overview, [], among)])
        intent, _, index = payload.partition(":")
        if intent not in CASE_INTENTS or not index.isdigit() or overview is None:
            return None
        position = int(index)
        if position >= len(overview.cases):
            return None
        # The index points into the tapping citizen's own cases, so forged data cannot reach others'.
        case = overview.cases[position]
        await self._remember(chat, overview, intent, [case.case_number], None)
        return Response([self._for_case(intent, case)])

    # The follow-up context ----------------------------------------------------------------------

    async def _recall(self, chat: Chat, citizen_id: int | None) -> CaseContext | None:
        if self._followups is None:
            return None
        return await self._followups.recall(chat.platform, chat.chat_id, citizen_id)

    async def _remember(self, chat: Chat, overview: CitizenOverview | None, intent: str,
                        case_numbers: Sequence[str], among: Sequence[CaseView] | None) -> None:
        """Keep a case question of this turn and the one case it was answered about (None: a choice)."""
        if self._followups is None or overview is None or not overview.cases or intent not in CASE_INTENTS:
            return
        subject = _subject(intent, overview, case_numbers, among)
        if case_numbers and subject is None:
            return  # a case number that is not theirs changes nothing
        await self._followups.remember(chat.platform, chat.chat_id, overview.citizen_id,
                                       case_number=subject.case_number if subject else None, intent=intent)

    # One intent ---------------------------------------------------------------------------------

    def _one(self, intent: str, overview: CitizenOverview | None, case_numbers: Sequence[str],
             among: Sequence[CaseView] | None = None) -> OutgoingMessage:
        name_part = f"، {render.esc(overview.full_name)}" if overview and overview.full_name else ""
        if intent == "greeting":
            return OutgoingMessage(texts.GREETING.format(name_part=name_part), buttons=_main_buttons(overview))
        if intent == "thanks":
            return OutgoingMessage(texts.THANKS.format(name_part=name_part), buttons=_main_buttons(overview))
        if intent == "help":
            return OutgoingMessage(texts.HELP, buttons=_main_buttons(overview))
        if intent == "appeal_howto":
            return OutgoingMessage(texts.APPEAL_HOWTO_GENERAL.format(days=render.fa(self._settings.appeal_days)),
                                   buttons=_intent_buttons(["appeal_deadline", "contact"]))
        if intent == "contact":
            return self._contact(overview)
        if intent == "account":
            if overview is None:
                return OutgoingMessage(texts.ACCOUNT_UNBOUND, buttons=_login_buttons())
            return OutgoingMessage(texts.ACCOUNT_BOUND.format(masked=render.fa(overview.nid_masked),
                                                              name_part=f" ({render.esc(overview.full_name)})"
                                                              if overview.full_name else ""))
        if overview is None:
            general = texts.UNBOUND_GENERAL.get(intent, texts.UNBOUND_TEXT)
            return OutgoingMessage(general.format(days=render.fa(self._settings.appeal_days)) + texts.INVITE_LOGIN,
                                   buttons=_login_buttons())
        if intent == "notices":
            return OutgoingMessage(texts.NOTICES_EMPTY) if not overview.cases else self._notices_hint()
        return self._about_cases(intent, overview, case_numbers, among)

    def _about_cases(self, intent: str, overview: CitizenOverview, case_numbers: Sequence[str],
                     among: Sequence[CaseView] | None = None) -> OutgoingMessage:
        """`among`: the cases a follow-up is about (one: answered; several: offered); None: all."""
        if not overview.cases:
            return OutgoingMessage(texts.NO_CASES)
        subject = _subject(intent, overview, case_numbers, among)
        if subject is not None:
            return self._for_case(intent, subject)
        if case_numbers:
            numbers = "، ".join(render.fa(c.case_number) for c in overview.cases)
            return OutgoingMessage(texts.CASE_NOT_YOURS.format(case_number=render.fa(case_numbers[0]),
                                                               numbers=numbers))
        relevant = _candidates(intent, overview, among)
        buttons = tuple(
            (Button(texts.BUTTON_CASE.format(case_number=render.fa(c.case_number)),
                    encode(Action.CASE, f"{intent}:{overview.cases.index(c)}")),)
            for c in relevant[:10]
        )
        if intent == "case_status":
            # Where each case stands fits in a few lines; the buttons open one in detail.
            lines = [texts.CASE_STATUS_LINE.format(case_number=render.fa(c.case_number),
                                                   status=render.esc(texts.CASE_STATUS.get(c.status, c.status)))
                     for c in relevant[:10]]
            return OutgoingMessage("\n".join(lines), buttons=buttons)
        return OutgoingMessage(texts.PICK_CASE.format(count=render.fa(len(relevant))), buttons=buttons)

    def _for_case(self, intent: str, case: CaseView) -> OutgoingMessage:
        number = render.fa(case.case_number)
        ruling = case.latest_ruling
        if intent == "case_status":
            status = texts.CASE_STATUS.get(case.status, case.status)
            body = texts.CASE_STATUS_LINE.format(case_number=number, status=render.esc(status))
            if case.violation:
                body += texts.CASE_VIOLATION.format(violation=render.esc(case.violation))
            if case.hearing_at is not None and case.hearing_at > self._clock():
                body += "\n" + texts.HEARING_UPCOMING.format(case_number=number, when=render.moment(case.hearing_at))
            if ruling is not None:
                body += "\n" + self._ruling_line(case, ruling)
            return OutgoingMessage(body, buttons=_open_button(ruling))
        if intent == "hearing_date":
            if case.hearing_at is None:
                return OutgoingMessage(texts.HEARING_NONE.format(case_number=number))
            when = render.moment(case.hearing_at)
            if case.hearing_at > self._clock():
                body = texts.HEARING_UPCOMING.format(case_number=number, when=when)
                if case.status in ("awaiting_defense", "hearing_scheduled"):
                    body += texts.HEARING_DEFENSE
                return OutgoingMessage(body)
            return OutgoingMessage(texts.HEARING_PAST.format(case_number=number, when=when))
        if ruling is None:
            return OutgoingMessage(texts.RULING_NONE.format(case_number=number))
        if intent == "ruling":
            body = self._ruling_line(case, ruling)
            if ruling.summary:
                body += texts.RULING_SUMMARY.format(summary=render.esc(ruling.summary))
            if not ruling.viewed:
                body += texts.RULING_UNOPENED
            return OutgoingMessage(body, buttons=_open_button(ruling))
        if intent in ("fine_amount", "payment"):
            fined = next((r for r in reversed(case.rulings) if r.fine_amount_rials), None)
            if fined is None or fined.fine_amount_rials is None:
                if intent == "payment":
                    return OutgoingMessage(texts.PAYMENT_NONE)
                kind_part = f" (رأی: {render.esc(render.kind_label(ruling.kind))})"
                return OutgoingMessage(texts.FINE_NONE.format(case_number=number, kind_part=kind_part))
            amount = render.esc(format_rials(fined.fine_amount_rials))
            in_chat = self._settings.payments and fined.notice_id is not None
            template = texts.FINE_AMOUNT if intent == "fine_amount" else \
                texts.PAYMENT_IN_CHAT if in_chat else texts.PAYMENT
            buttons = _intent_buttons(["payment" if intent == "fine_amount" else "appeal_deadline"])
            if in_chat and fined.notice_id is not None:
                buttons = (pay_button(fined.notice_id), *buttons)
            return OutgoingMessage(template.format(case_number=number, amount=amount), buttons=buttons)
        return self._deadline(case, ruling)

    def _ruling_line(self, case: CaseView, ruling: RulingView) -> str:
        return texts.RULING_LINE.format(commission=render.esc(render.commission_label(ruling.commission)),
                                        case_number=render.fa(case.case_number),
                                        kind=render.esc(render.kind_label(ruling.kind)),
                                        issued=jalali_date(ruling.issued_on))

    def _deadline(self, case: CaseView, ruling: RulingView) -> OutgoingMessage:
        number = render.fa(case.case_number)
        info = ruling.service
        if Commission(ruling.commission) is Commission.APPEAL:
            if info.court_deadline is None:
                return OutgoingMessage(texts.DEADLINE_FINAL_UNSERVED.format(case_number=number))
            return OutgoingMessage(texts.DEADLINE_FINAL.format(case_number=number,
                                                               deadline=render.day_long(info.court_deadline)))
        if info.kind is ServiceKind.PENDING or info.appeal_deadline is None:
            deemed_part = ""
            if info.deemed_at is not None:
                deemed_part = texts.DEADLINE_DEEMED_PART.format(deemed=render.day_long(tehran_date(info.deemed_at)))
            return OutgoingMessage(texts.DEADLINE_NOT_STARTED.format(case_number=number, deemed_part=deemed_part,
                                                                     days=render.fa(self._settings.appeal_days)),
                                   buttons=_open_button(ruling))
        today = tehran_date(self._clock())
        days_left = (info.appeal_deadline - today).days
        deadline = render.day_long(info.appeal_deadline)
        if days_left < 0:
            return OutgoingMessage(texts.DEADLINE_PASSED.format(case_number=number, deadline=deadline)
                                   + render.deadline_caveat(info))
        left = texts.DEADLINE_TODAY if days_left == 0 else texts.DEADLINE_DAYS_LEFT.format(days=render.fa(days_left))
        body = texts.DEADLINE_OPEN.format(case_number=number, deadline=deadline, left=left) + render.deadline_caveat(info)
        return OutgoingMessage(body, buttons=_intent_buttons(["appeal_howto", "contact"]))

    def _contact(self, overview: CitizenOverview | None) -> OutgoingMessage:
        district = None
        if overview is not None:
            district = overview.district or next((c.district for c in overview.cases if c.district), None)
        office = self._offices.for_district(district)
        if office is None:
            return OutgoingMessage(texts.CONTACT_GENERAL)
        body = texts.CONTACT_OFFICE.format(name=render.esc(office.name), address=render.esc(office.address),
                                           phone=render.esc(office.phone), hours=render.esc(office.hours))
        if office.sample:
            body += texts.CONTACT_SAMPLE_NOTE
        return OutgoingMessage(body)

    def _notices_hint(self) -> OutgoingMessage:
        return OutgoingMessage(texts.BOUND_FALLBACK, buttons=render.main_menu())

    async def _handoff(self, response: Response, chat: Chat, citizen_id: int | None,
                       overview: CitizenOverview | None, question: str) -> None:
        staff_chat = self._settings.staff_chat_id
        if staff_chat is None:
            response.messages.append(OutgoingMessage(texts.HUMAN_UNAVAILABLE))
            return
        if citizen_id is None and self._flood is not None:
            # Before login a chat reaches staff a few times an hour; logging in lifts the limit.
            verdict = await self._flood.reach_human(chat.platform, chat.chat_id)
            if verdict.admission is not Admission.PASS:
                minutes = -(-verdict.seconds_left(self._clock()) // 60)
                response.messages.append(OutgoingMessage(
                    texts.HUMAN_LIMIT_UNBOUND.format(limit=render.fa(self._flood.policy.handoffs_unbound),
                                                     minutes=render.fa(minutes)),
                    buttons=_login_buttons() + _intent_buttons(["contact"])))
                return
        question = render.printable(question)
        if overview is not None:
            who = texts.STAFF_WHO_BOUND.format(
                masked=render.fa(overview.nid_masked), name=render.esc(render.printable(overview.full_name)),
                cases="، ".join(render.fa(c.case_number) for c in overview.cases) or "—")
        else:
            who = texts.STAFF_WHO_UNBOUND.format(platform=render.esc(chat.platform))

        def forward(handoff_id: int) -> OutgoingMessage:
            return OutgoingMessage(texts.STAFF_FORWARD.format(handoff_id=render.fa(handoff_id), who=who,
                                                              question=render.esc(question)))

        # Queued with the question; the citizen hears "forwarded" only once the staff chat has every part
        # of it (handlers/relay_notes.py, sent by the delivery engine).
        await self._handoffs.open(platform=chat.platform, chat_id=chat.chat_id, user_id=chat.user_id,
                                  citizen_id=citizen_id, question=question, staff_chat_id=staff_chat, forward=forward)

    def _not_understood(self, analysis: Analysis) -> OutgoingMessage:
        closest = [intent for part in analysis.parts for intent, _ in part.top
                   if intent in texts.INTENT_BUTTON]
        best_is_ours = bool(analysis.parts and analysis.parts[0].top
                            and analysis.parts[0].top[0][0] != OUT_OF_SCOPE)
        if best_is_ours and closest:
            return OutgoingMessage(texts.LOW_CONFIDENCE, buttons=_intent_buttons(list(dict.fromkeys(closest))[:3]))
        return OutgoingMessage(texts.OUT_OF_SCOPE, buttons=_intent_buttons(["case_status", "appeal_deadline", "human"]))


def _intents_to_answer(analysis: Analysis) -> list[str]:
    """Each understood question once, in order; small talk only when nothing else was asked."""
    found = [p.intent for p in analysis.parts if p.intent != OUT_OF_SCOPE]
    substantive = [i for i in found if i not in SMALL_TALK]
    chosen = substantive or found[:1]
    return list(dict.fromkeys(chosen))


def _candidates(intent: str, overview: CitizenOverview, among: Sequence[CaseView] | None) -> list[CaseView]:
    pool = list(overview.cases) if among is None else list(among)
    return [c for c in pool if _relevant(intent, c)] or pool


def _subject(intent: str, overview: CitizenOverview, case_numbers: Sequence[str],
             among: Sequence[CaseView] | None) -> CaseView | None:
    """The one case a case question is answered about; None when there is a choice (or no such case)."""
    if case_numbers:
        return next((c for c in overview.cases if c.case_number in case_numbers), None)
    relevant = _candidates(intent, overview, among)
    return relevant[0] if len(relevant) == 1 else None


def _relevant(intent: str, case: CaseView) -> bool:
    if intent in ("fine_amount", "payment"):
        return any(r.fine_amount_rials for r in case.rulings)
    if intent == "appeal_deadline":
        # Only a first-instance ruling has an appeal deadline; a final one has none to ask about.
        latest = case.latest_ruling
        return latest is not None and latest.commission == Commission.FIRST.value
    if intent == "ruling":
        return bool(case.rulings)
    if intent == "hearing_date":
        return case.hearing_at is not None
    return True


def _intent_buttons(intents: Sequence[str]) -> Keyboard:
    return tuple((Button(texts.INTENT_BUTTON[i], encode(Action.INTENT, i)),) for i in intents
                 if i in texts.INTENT_BUTTON)


def _main_buttons(overview: CitizenOverview | None) -> Keyboard:
    if overview is None:
        return _login_buttons() + _intent_buttons(["help"])
    return ((Button(texts.INTENT_BUTTON["case_status"], encode(Action.INTENT, "case_status")),
             Button(texts.INTENT_BUTTON["appeal_deadline"], encode(Action.INTENT, "appeal_deadline"))),
            (Button(texts.BUTTON_MY_NOTICES, encode(Action.LIST_NOTICES)),
             Button(texts.INTENT_BUTTON["human"], encode(Action.INTENT, "human"))))


def _login_buttons() -> Keyboard:
    return ((Button(texts.BUTTON_LOGIN, encode(Action.LOGIN)),),)


def _open_button(ruling: RulingView | None) -> Keyboard:
    if ruling is None or ruling.notice_id is None:
        return ()
    label = texts.BUTTON_OPEN_AGAIN if ruling.viewed else texts.BUTTON_OPEN_NOTICE
    return ((Button(label, encode(Action.OPEN_NOTICE, ruling.notice_id)),),)
