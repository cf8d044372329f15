"""The legal position of one notice: how and when it was served, and until when it can be appealed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.law.holidays import HolidayCalendar
from services.law.service_dates import (
    Commission,
    ServiceKind,
    ServiceRule,
    appeal_deadline_detail,
    court_complaint_deadline,
    deemed_service_at,
    service_of,
)


@dataclass(frozen=True)
class LawPolicy:
    rule: ServiceRule
    deemed_days: int
    appeal_days: int
    holidays: HolidayCalendar


@dataclass(frozen=True)
class ServiceInfo:
    kind: ServiceKind
    service_at: datetime | None
    appeal_deadline: date | None  # first-instance rulings, once served
    court_deadline: date | None  # appeal-commission rulings (final), once served
    deemed_at: datetime | None  # when an unopened notice will be (or was) deemed served
    final: bool
    # False when the appeal deadline may move: a day looked at lies in a year the holiday calendar
    # does not cover, or an estimated holiday is involved (then deadline_estimated is True too).
    deadline_certain: bool = True
    deadline_estimated: bool = False


def service_info(policy: LawPolicy, *, commission: str, first_delivered_at: datetime | None,
                 viewed_at: datetime | None, now: datetime) -> ServiceInfo:
    kind, served_at = service_of(first_delivered_at, viewed_at, now, policy.rule, policy.deemed_days)
    final = Commission(commission) is Commission.APPEAL
    deemed_at = None
    if policy.rule is ServiceRule.VIEW_OR_DEEMED and first_delivered_at is not None:
        deemed_at = deemed_service_at(first_delivered_at, policy.deemed_days)
    if served_at is None:
        return ServiceInfo(kind, None, None, None, deemed_at, final)
    if final:
        return ServiceInfo(kind, served_at, None, court_complaint_deadline(served_at, policy.holidays),
                           deemed_at, final)
    detail = appeal_deadline_detail(served_at, commission, policy.appeal_days, policy.holidays)
    assert detail is not None
    return ServiceInfo(kind, served_at, detail.day, None, deemed_at, final, detail.certain,
                       bool(detail.estimated))
