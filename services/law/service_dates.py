"""The law on service (ابلاغ) and deadlines, as pure functions of times and the holiday calendar.

All instants are aware UTC datetimes (naive ones are taken as UTC); days are Tehran civil dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.law.calendar import add_jalali_months, as_utc, end_of_tehran_day, tehran_date
from services.law.holidays import Holiday, HolidayCalendar
from storage.vocabulary import Commission

__all__ = ["Commission", "ServiceKind", "ServiceRule"]

COURT_COMPLAINT_MONTHS = 3


class ServiceRule(StrEnum):
    VIEW_OR_DEEMED = "view_or_deemed"
    DELIVERY = "delivery"


class ServiceKind(StrEnum):
    VIEWED = "viewed"
    DEEMED = "deemed"
    DELIVERY = "delivery"
    PENDING = "pending"


def deemed_service_at(first_delivered_at: datetime, deemed_days: int) -> datetime:
    """The instant deemed service happens: the end of the deemed_days-th day after first delivery.

    Days are Tehran civil days and the day of delivery is not counted, like every period in this
    law; the period ends at the last instant of its last day (23:59:59.999999 Tehran), in UTC.
    The other reading, first_delivered_at + deemed_days exactly, ends earlier on that same day;
    we take the later of the two because it never deems a citizen served while, by any reading,
    they still had time to open the notice. (The max() only matters across a daylight-saving
    change, which Tehran kept until 2022: a day one hour short can end before delivery + N days.)
    """
    if deemed_days < 0:
        raise ValueError(f"deemed_days must be >= 0, got {deemed_days}")
    delivered = as_utc(first_delivered_at)
    last_day = tehran_date(delivered) + timedelta(days=deemed_days)
    return max(end_of_tehran_day(last_day), delivered + timedelta(days=deemed_days))


def service_of(
    first_delivered_at: datetime | None,
    viewed_at: datetime | None,
    now: datetime,
    rule: ServiceRule,
    deemed_days: int,
) -> tuple[ServiceKind, datetime | None]:
    """The kind of service and its instant, or (pending, None) while not yet served.

    view_or_deemed: a view within the deemed period is actual service at the view time; a view
    after it changes nothing (the citizen was already deemed served); otherwise, once the period
    has ended, service is deemed at its end. delivery: the first delivery is service; a view with
    no recorded delivery is left pending, since the rule is about arrival, which we did not see.
    """
    delivered = as_utc(first_delivered_at) if first_delivered_at is not None else None
    viewed = as_utc(viewed_at) if viewed_at is not None else None
    if rule is ServiceRule.DELIVERY:
        return (ServiceKind.DELIVERY, delivered) if delivered is not None else (ServiceKind.PENDING, None)
    deemed_end = deemed_service_at(delivered, deemed_days) if delivered is not None else None
    if viewed is not None and (deemed_end is None or viewed <= deemed_end):
        return ServiceKind.VIEWED, viewed
    # A view after the period proves the period is over even if `now` lags behind.
    if deemed_end is not None and (as_utc(now) >= deemed_end or viewed is not None):
        return ServiceKind.DEEMED, deemed_end
    return ServiceKind.PENDING, None


@dataclass(frozen=True)
class Deadline:
    day: date
    # False when some day looked at lies in a Jalali year the holiday calendar does not cover: the
    # date then only skips Fridays and the caller should warn that it may move.
    covered: bool
    # Holidays with an estimated (computed, not yet official) date that the count crosses; see
    # `appeal_deadline_detail` for which days count.
    estimated: tuple[Holiday, ...] = ()

    @property
    def certain(self) -> bool:
        """Known for sure: every day looked at is covered and no estimated holiday is involved."""
        return self.covered and not self.estimated


def next_working_day(d: date, holidays: HolidayCalendar) -> Deadline:
    """`d` itself if it is a working day, else the first working day after it."""
    covered = holidays.covers(d)
    while not holidays.is_working_day(d):
        d += timedelta(days=1)
        covered = covered and holidays.covers(d)
    return Deadline(d, covered)


def appeal_deadline_detail(
    service_at: datetime, commission: str, appeal_days: int, holidays: HolidayCalendar
) -> Deadline | None:
    """Like `appeal_deadline`, with whether the result is certain.

    The result is marked estimated when an estimated holiday falls anywhere from the day of service
    to the day after the deadline, both included, whether or not it moved the result:
    - up to the deadline, because an estimated lunar date may be a day off: one that moved the
      deadline may in fact not, and one on the day before the last may in fact fall on the last
      day and move it. Counting is in calendar days, so a one-day error deep inside the period
      changes nothing; we flag the whole period anyway because "the period holds a holiday whose
      date is not yet official" is a rule a citizen and the secretariat can check by hand, and an
      error can be larger (a Ramadan of 29 or 30 days moves both Eid al-Fitr days together);
    - the day after the deadline too, because a holiday estimated there that in fact falls a day
      earlier lands on the deadline and moves it.
    """
    kind = Commission(commission)  # ValueError for an unknown commission
    if kind is Commission.APPEAL:
        return None
    if appeal_days < 0:
        raise ValueError(f"appeal_days must be >= 0, got {appeal_days}")
    # The day of service is not counted: day 1 of the period is the day after it.
    served_on = tehran_date(service_at)
    result = next_working_day(served_on + timedelta(days=appeal_days), holidays)
    crossed = holidays.between(served_on, result.day + timedelta(days=1))
    return Deadline(result.day, result.covered, tuple(h for h in crossed if h.estimated))


def appeal_deadline(
    service_at: datetime, commission: str, appeal_days: int, holidays: HolidayCalendar
) -> date | None:
    """Last day to appeal a first-instance ruling; None for the appeal commission (final).

    Tehran date of service + appeal_days, moved past Fridays and official holidays. Outside the
    years the calendar covers only Fridays move it, and an estimated holiday may move it by a day:
    check `appeal_deadline_detail(...).certain` and warn.
    """
    detail = appeal_deadline_detail(service_at, commission, appeal_days, holidays)
    return detail.day if detail is not None else None


def court_complaint_deadline(service_at: datetime, holidays: HolidayCalendar | None = None) -> date:
    """Last day to complain to the Administrative Justice Court about a final ruling.

    Three months counted in Jalali months, the calendar the law is written in: the same day of the
    month three months after the Tehran date of service, clamped to the month's length (service on
    31 Shahrivar ends on 30 Azar). Given a holiday calendar, a Friday or holiday moves it to the next
    working day, as for every legal period.
    """
    last_day = add_jalali_months(tehran_date(service_at), COURT_COMPLAINT_MONTHS)
    if holidays is None:
        return last_day
    return next_working_day(last_day, holidays).day
