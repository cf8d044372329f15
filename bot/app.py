"""The composition root: settings in, a wired application out. Nothing imports bot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.runtime import Runtime
from handlers import render
from handlers.conversation import Conversation, ConversationSettings, Plugin, QuestionAnswerer, TapHandler
from services.auth import AuthPolicy, AuthService
from services.clock import Clock, system_clock
from services.delivery import NoticeDelivery
from services.holidays import HolidayCalendar
from services.law import LawPolicy
from services.notices import NoticeService
from services.service_dates import ServiceRule
from services.state import MemoryStateStore, StateStore


@dataclass
class App:
    runtime: Runtime
    law: LawPolicy
    auth: AuthService
    notices: NoticeService
    delivery: NoticeDelivery
    conversation: Conversation
    state: StateStore


def law_policy(runtime: Runtime) -> LawPolicy:
    settings = runtime.settings
    return LawPolicy(rule=ServiceRule(settings.service_rule.value), deemed_days=settings.deemed_service_days,
                     appeal_days=settings.appeal_days, holidays=HolidayCalendar.load())


def build_app(runtime: Runtime, *, clock: Clock = system_clock, state: StateStore | None = None,
              questions: QuestionAnswerer | None = None, extra_taps: TapHandler | None = None,
              plugins: Sequence[Plugin] = ()) -> App:
    settings = runtime.settings
    db = runtime.database
    law = law_policy(runtime)
    auth = AuthService(db, runtime.hasher, AuthPolicy(
        max_failures_per_chat=settings.auth_max_failures_per_chat,
        max_failures_per_id=settings.auth_max_failures_per_id,
        window=timedelta(minutes=settings.auth_lockout_minutes)), clock)
    notices = NoticeService(db, law, clock)
    delivery = NoticeDelivery(db, notices, render.notice_card, clock)
    state = state or MemoryStateStore()
    conversation = Conversation(
        auth=auth, notices=notices, state=state,
        settings=ConversationSettings(appeal_days=settings.appeal_days,
                                      lockout_minutes=settings.auth_lockout_minutes),
        questions=questions, extra_taps=extra_taps, plugins=plugins)
    return App(runtime, law, auth, notices, delivery, conversation, state)
