"""The composition root: settings in, a wired application out. Nothing imports bot."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bot.runtime import Runtime
from bot.settings import Settings
from handlers.answers import Answers, AnswerSettings, Understanding
from handlers.conversation import Conversation, ConversationSettings, Plugin
from handlers.payments import PaymentFlow
from handlers.staff import StaffCommands
from handlers.staff_replies import StaffReplies
from nlp import IntentModel
from services.auth import AuthPolicy, AuthService
from services.broadcasts import BroadcastService
from services.cases import CaseService
from services.clock import Clock, system_clock
from services.conversation.chat_scope import GroupNotes
from services.conversation.flood import FloodGuard, MemoryWindowCounter, WindowCounter
from services.conversation.followups import FollowUps
from services.conversation.state import MemoryStateStore, StateStore
from services.delivery.outgoing import Outgoing
from services.handoff import HandoffService
from services.law.holidays import HolidayCalendar
from services.law.policy import LawPolicy
from services.notices import NoticeService
from services.offices import OfficeDirectory
from services.payments import PaymentService


@dataclass
class App:
    runtime: Runtime
    law: LawPolicy
    auth: AuthService
    notices: NoticeService
    outgoing: Outgoing
    conversation: Conversation
    state: StateStore
    handoffs: HandoffService
    staff_chat_id: int | None
    flood: FloodGuard
    # Set when a message is queued (a handoff, a staff reply): the engine in this process looks at once.
    wake: asyncio.Event
    clock: Clock
    # Fines paid in the chat: set only on Bale with BALE_PAYMENT_PROVIDER_TOKEN.
    payments: PaymentFlow | None = None


def law_policy(runtime: Runtime) -> LawPolicy:
    settings = runtime.settings
    return LawPolicy(rule=settings.service_rule, deemed_days=settings.deemed_service_days,
                     appeal_days=settings.appeal_days, holidays=HolidayCalendar.load())


def load_intent_model(settings: Settings, cache_dir: Path | None = None) -> IntentModel:
    """The intent model, trained on first use and cached in the data folder."""
    return IntentModel.load(cache_dir=cache_dir or settings.data_dir / "cache")


def build_app(runtime: Runtime, *, clock: Clock = system_clock, state: StateStore | None = None,
              model: Understanding | None = None, plugins: Sequence[Plugin] = (),
              counter: WindowCounter | None = None) -> App:
    """Wire the conversation. Without `model` the free-text answers are left out (a short fallback).

    `counter` keeps the flood limits' counts (in this process unless given, e.g. on Redis).
    """
    settings = runtime.settings
    db = runtime.database
    law = law_policy(runtime)
    auth = AuthService(db, runtime.hasher, AuthPolicy(
        max_failures_per_chat=settings.auth_max_failures_per_chat,
        alert_chats_per_id=settings.auth_alert_chats_per_id,
        window=timedelta(minutes=settings.auth_lockout_minutes)), clock)
    notices = NoticeService(db, law, clock)
    outgoing = Outgoing(db, clock)
    wake = asyncio.Event()
    state = state or MemoryStateStore()
    handoffs = HandoffService(db, clock, on_queued=wake.set)
    payments = PaymentFlow(PaymentService(db, clock)) if settings.payment_token else None
    followups = FollowUps(state, clock)
    flood = FloodGuard(counter or MemoryWindowCounter(), clock, exempt_chat_id=settings.staff_chat_id)
    answers = None
    if model is not None:
        answers = Answers(model=model, cases=CaseService(db, law, clock), offices=OfficeDirectory.load(),
                          handoffs=handoffs, clock=clock, followups=followups, flood=flood,
                          settings=AnswerSettings(appeal_days=settings.appeal_days,
                                                  staff_chat_id=settings.staff_chat_id,
                                                  payments=payments is not None))
    conversation = Conversation(
        auth=auth, notices=notices, state=state,
        settings=ConversationSettings(appeal_days=settings.appeal_days,
                                      lockout_minutes=settings.auth_lockout_minutes,
                                      staff_chat_id=settings.staff_chat_id),
        group_notes=GroupNotes(db, clock), questions=answers, extra_taps=answers, payments=payments,
        # StaffCommands before StaffReplies: in the staff chat a pending draft's text is the broadcast's,
        # and StaffReplies owns every other plain message there.
        plugins=[*plugins,
                 StaffCommands(staff_chat_id=settings.staff_chat_id, staff_ids=settings.staff_ids, state=state,
                               broadcasts=BroadcastService(db, clock)),
                 StaffReplies(handoffs, staff_chat_id=settings.staff_chat_id, staff_ids=settings.staff_ids),
                 *([payments] if payments is not None else [])],
        followups=followups)
    return App(runtime, law, auth, notices, outgoing, conversation, state, handoffs, settings.staff_chat_id,
               flood, wake, clock, payments)
