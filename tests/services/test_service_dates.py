from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.law.calendar import parse_date, parse_datetime, tehran_date
from services.law.holidays import LAST_YEAR, HolidayCalendar
from services.law.service_dates import (
    ServiceKind,
    ServiceRule,
    appeal_deadline,
    appeal_deadline_detail,
    court_complaint_deadline,
    deemed_service_at,
    service_of,
)

CAL = HolidayCalendar.load()
DELIVERED = datetime(2025, 1, 20, 10, 0, tzinfo=UTC)  # 13:30 on 1 Bahman 1403 in Tehran
# End of 11 Bahman 1403 (2025-01-30) in Tehran: ten days after delivery, delivery day not counted.
DEEMED_END = datetime(2025, 1, 30, 20, 29, 59, 999999, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


# --- service ---------------------------------------------------------------------------------


def test_kind_values_match_the_receipts_contract() -> None:
    assert {k.value for k in ServiceKind} == {"viewed", "deemed", "delivery", "pending"}
    assert ServiceRule("view_or_deemed") is ServiceRule.VIEW_OR_DEEMED
    assert ServiceRule("delivery") is ServiceRule.DELIVERY


def test_deemed_period_ends_at_the_end_of_the_last_tehran_day() -> None:
    assert deemed_service_at(DELIVERED, 10) == DEEMED_END
    # Delivered at 00:30 Tehran on 2 Bahman: the period starts a day later.
    assert deemed_service_at(utc(2025, 1, 20, 21, 0), 10) == utc(2025, 1, 31, 20, 29, 59, 999999)
    assert deemed_service_at(DELIVERED, 0) == utc(2025, 1, 20, 20, 29, 59, 999999)
    with pytest.raises(ValueError):
        deemed_service_at(DELIVERED, -1)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=60),
)
def test_deemed_end_is_the_later_reading(delivered: datetime, days: int) -> None:
    end = deemed_service_at(delivered, days)
    assert end >= delivered + timedelta(days=days)  # even across Tehran's old DST changes
    # At most a day later (plus the hour a DST fall-back day had).
    assert end - (delivered + timedelta(days=days)) < timedelta(days=1, hours=1)


@given(
    # Tehran has had no daylight saving since 2022, so every day there is 24 hours long.
    st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=60),
)
def test_deemed_end_is_the_last_instant_of_the_tehran_day(delivered: datetime, days: int) -> None:
    end = deemed_service_at(delivered, days)
    assert tehran_date(end) == tehran_date(delivered) + timedelta(days=days)
    assert tehran_date(end + timedelta(microseconds=1)) == tehran_date(end) + timedelta(days=1)


def test_viewed_within_the_period() -> None:
    viewed = utc(2025, 1, 22, 8, 0)
    assert service_of(DELIVERED, viewed, utc(2025, 3, 1), ServiceRule.VIEW_OR_DEEMED, 10) == (
        ServiceKind.VIEWED,
        viewed,
    )


def test_viewed_on_the_last_instant_is_actual_service() -> None:
    assert service_of(DELIVERED, DEEMED_END, DEEMED_END, ServiceRule.VIEW_OR_DEEMED, 10) == (
        ServiceKind.VIEWED,
        DEEMED_END,
    )


def test_viewed_late_in_the_last_day_still_counts() -> None:
    # 23:00 Tehran on the tenth day: after delivery + 10 days exactly, before the day ends.
    viewed = utc(2025, 1, 30, 19, 30)
    assert viewed > DELIVERED + timedelta(days=10)
    assert service_of(DELIVERED, viewed, viewed, ServiceRule.VIEW_OR_DEEMED, 10)[0] is ServiceKind.VIEWED


def test_viewed_after_the_period_is_deemed_service() -> None:
    viewed = DEEMED_END + timedelta(microseconds=1)
    assert service_of(DELIVERED, viewed, utc(2025, 3, 1), ServiceRule.VIEW_OR_DEEMED, 10) == (
        ServiceKind.DEEMED,
        DEEMED_END,
    )


def test_not_viewed_is_pending_until_the_period_ends() -> None:
    before = DEEMED_END
    after = DEEMED_END + timedelta(microseconds=1)
    rule = ServiceRule.VIEW_OR_DEEMED
    assert service_of(DELIVERED, None, DELIVERED, rule, 10) == (ServiceKind.PENDING, None)
    assert service_of(DELIVERED, None, before - timedelta(seconds=1), rule, 10) == (ServiceKind.PENDING, None)
    assert service_of(DELIVERED, None, after, rule, 10) == (ServiceKind.DEEMED, DEEMED_END)


def test_never_delivered_is_pending() -> None:
    assert service_of(None, None, utc(2030, 1, 1), ServiceRule.VIEW_OR_DEEMED, 10) == (
        ServiceKind.PENDING,
        None,
    )
    assert service_of(None, None, utc(2030, 1, 1), ServiceRule.DELIVERY, 10) == (ServiceKind.PENDING, None)


def test_delivery_rule_uses_first_delivery() -> None:
    viewed = utc(2025, 1, 22)
    assert service_of(DELIVERED, viewed, utc(2025, 3, 1), ServiceRule.DELIVERY, 10) == (
        ServiceKind.DELIVERY,
        DELIVERED,
    )
    assert service_of(DELIVERED, None, DELIVERED, ServiceRule.DELIVERY, 10) == (
        ServiceKind.DELIVERY,
        DELIVERED,
    )


def test_naive_times_are_utc() -> None:
    naive = DELIVERED.replace(tzinfo=None)
    kind, at = service_of(naive, None, utc(2025, 3, 1), ServiceRule.VIEW_OR_DEEMED, 10)
    assert (kind, at) == (ServiceKind.DEEMED, DEEMED_END)


# --- appeal deadline -------------------------------------------------------------------------


def test_day_of_service_is_not_counted() -> None:
    # Served Monday 1 Bahman 1403; day 10 is Thursday 11 Bahman, a working day.
    assert appeal_deadline(DELIVERED, "first", 10, CAL) == date(2025, 1, 30)
    assert appeal_deadline(DELIVERED, "first", 1, CAL) == date(2025, 1, 21)


def test_friday_moves_to_saturday() -> None:
    served = utc(2025, 1, 21, 9, 0)  # Tuesday; +10 is Friday 2025-01-31
    assert appeal_deadline(served, "first", 10, CAL) == date(2025, 2, 1)


def test_tehran_date_of_service_counts_not_utc_date() -> None:
    # 20:00Z is still 1 Bahman in Tehran; 21:00Z is 2 Bahman, whose day 10 is a Friday.
    assert appeal_deadline(utc(2025, 1, 20, 20, 0), "first", 10, CAL) == date(2025, 1, 30)
    assert appeal_deadline(utc(2025, 1, 20, 21, 0), "first", 10, CAL) == date(2025, 2, 1)


def test_tasua_and_ashura_are_both_skipped() -> None:
    served = parse_datetime("1404/04/04 10:00")  # day 10 is Tasua (14 Tir), then Ashura
    assert appeal_deadline(served, "first", 10, CAL) == parse_date("1404/04/16")
    # Day 10 on the Friday before Tasua: Friday, Tasua, Ashura all skipped.
    served = parse_datetime("1404/04/03 10:00")
    assert appeal_deadline(served, "first", 10, CAL) == parse_date("1404/04/16")


def test_nowruz_across_the_year_end() -> None:
    # Day 10 is 29 Esfand 1404 (a Friday and a holiday); then Nowruz 1-4 Farvardin 1405, of which
    # the first two are also Eid al-Fitr.
    served = parse_datetime("1404/12/19 10:00")
    detail = appeal_deadline_detail(served, "first", 10, CAL)
    assert detail is not None
    assert detail.day == parse_date("1405/01/05")
    assert detail.certain  # Eid al-Fitr 1405 (1-2 Farvardin) is official


def test_appeal_commission_is_final() -> None:
    assert appeal_deadline(DELIVERED, "appeal", 10, CAL) is None
    assert appeal_deadline_detail(DELIVERED, "appeal", 10, CAL) is None


def test_unknown_commission_or_negative_days() -> None:
    with pytest.raises(ValueError):
        appeal_deadline(DELIVERED, "supreme", 10, CAL)
    with pytest.raises(ValueError):
        appeal_deadline(DELIVERED, "first", -1, CAL)


def test_a_deadline_on_a_holiday_moves_to_the_next_working_day() -> None:
    # Day 10 is 14 Khordad 1405 (Khomeini's death and Eid al-Ghadir), then 15 Khordad, a Friday
    # and a holiday: the deadline is Saturday 16 Khordad. Ghadir's date is official, so it is certain.
    detail = appeal_deadline_detail(parse_datetime("1405/03/04 10:00"), "first", 10, CAL)
    assert detail is not None
    assert detail.day == parse_date("1405/03/16")
    assert detail.certain and detail.estimated == ()


# 1415 (2036-37) is far past the package's confirmed years, so its lunar holidays are estimated:
# 24 Azar 1415 (Sunday 2036-12-14), Imam Sadiq's martyrdom, is one.
SADIQ_1415 = parse_date("1415/09/24")


def test_a_deadline_moved_by_an_estimated_holiday_is_flagged() -> None:
    detail = appeal_deadline_detail(parse_datetime("1415/09/14 10:00"), "first", 10, CAL)
    assert detail is not None
    assert detail.day == parse_date("1415/09/25")
    assert [h.day for h in detail.estimated] == [SADIQ_1415]
    assert detail.covered and not detail.certain


def test_an_estimated_holiday_inside_the_period_flags_it_too() -> None:
    # Day 10 is Saturday 30 Azar, a working day: the estimated holiday did not move the deadline,
    # but it lies in the period, and that is what the flag says.
    detail = appeal_deadline_detail(parse_datetime("1415/09/20 10:00"), "first", 10, CAL)
    assert detail is not None
    assert detail.day == parse_date("1415/09/30")
    assert [h.day for h in detail.estimated] == [SADIQ_1415]
    assert not detail.certain


def test_an_estimated_holiday_the_day_after_the_deadline_flags_it() -> None:
    # Day 10 is Saturday 23 Azar; if the holiday is in fact a day earlier than estimated, it falls
    # on the deadline and moves it.
    detail = appeal_deadline_detail(parse_datetime("1415/09/13 10:00"), "first", 10, CAL)
    assert detail is not None
    assert detail.day == SADIQ_1415 - timedelta(days=1)
    assert [h.day for h in detail.estimated] == [SADIQ_1415]


def test_a_period_clear_of_estimated_holidays_in_the_same_year_is_certain() -> None:
    detail = appeal_deadline_detail(parse_datetime("1415/10/01 10:00"), "first", 10, CAL)
    assert detail is not None
    assert detail.day == parse_date("1415/10/11")
    assert detail.certain


def test_outside_the_calendar_fridays_still_move_but_it_is_flagged() -> None:
    served = utc(2080, 1, 2, 9, 0)  # a Tuesday in 1458, past the covered years; +10 is a Friday
    detail = appeal_deadline_detail(served, "first", 10, CAL)
    assert detail is not None
    assert detail.day == date(2080, 1, 13)
    assert not detail.covered and not detail.certain
    assert not CAL.covers(detail.day)


def test_rolling_into_an_uncovered_year_is_flagged() -> None:
    # Day 10 is the last day of the last covered year (29 Esfand, or 30 in a leap year: a holiday
    # either way); the next day is 1 Farvardin of a year the calendar does not cover.
    nowruz = parse_date(f"{LAST_YEAR + 1}/01/01")
    last_day = nowruz - timedelta(days=1)
    assert not CAL.is_working_day(last_day)
    detail = appeal_deadline_detail(datetime.combine(last_day - timedelta(days=10), time(6), UTC), "first", 10, CAL)
    assert detail is not None
    assert detail.day >= nowruz
    assert not detail.covered and not detail.certain


SERVICE_TIMES = st.datetimes(
    min_value=datetime(2025, 3, 21), max_value=datetime(2027, 1, 31), timezones=st.just(UTC)
)


@given(SERVICE_TIMES, st.integers(min_value=0, max_value=40))
def test_deadline_is_the_first_working_day_from_the_last_day(served: datetime, days: int) -> None:
    deadline = appeal_deadline(served, "first", days, CAL)
    assert deadline is not None
    nominal = tehran_date(served) + timedelta(days=days)
    assert deadline >= nominal
    assert CAL.is_working_day(deadline)
    assert deadline.weekday() != 4
    assert not CAL.is_holiday(deadline)
    d = nominal
    while d < deadline:  # everything skipped was a Friday or a holiday
        assert not CAL.is_working_day(d)
        d += timedelta(days=1)


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=100),
)
def test_deadline_is_never_a_friday_anywhere(served: datetime, days: int) -> None:
    deadline = appeal_deadline(served, "first", days, CAL)
    assert deadline is not None
    assert deadline.weekday() != 4
    assert deadline >= tehran_date(served) + timedelta(days=days)


# --- Administrative Justice Court ------------------------------------------------------------


def test_court_complaint_three_jalali_months() -> None:
    assert court_complaint_deadline(DELIVERED) == parse_date("1404/02/01")
    assert court_complaint_deadline(parse_datetime("1404/06/31 10:00")) == parse_date("1404/09/30")
    # Tehran date, not UTC date: 21:00Z on 20 Jan is already 2 Bahman.
    assert court_complaint_deadline(utc(2025, 1, 20, 21, 0)) == parse_date("1404/02/02")


def test_court_complaint_deadline_moves_off_holidays_when_given_the_table() -> None:
    served = parse_datetime("1403/11/05 10:00")  # +3 months: 5 Ordibehesht 1404, a Friday
    assert court_complaint_deadline(served) == parse_date("1404/02/05")
    assert court_complaint_deadline(served, CAL) == parse_date("1404/02/06")
