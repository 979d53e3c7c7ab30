"""Working-time arithmetic by example: holidays, shortened days, time zones, DST, year boundaries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from b24app.calendar import (
    BusinessCalendar,
    NaiveDatetimeError,
    NoWorkingTimeError,
    WorkSchedule,
    parse_schedule,
    russian_calendar,
)

MSK = ZoneInfo("Europe/Moscow")
BER = ZoneInfo("Europe/Berlin")
VVO = ZoneInfo("Asia/Vladivostok")
UTC = dt.UTC


def m(y, mo, d, h=0, mi=0, tz=MSK):
    return dt.datetime(y, mo, d, h, mi, tzinfo=tz)


@pytest.fixture(scope="module")
def bc():
    return BusinessCalendar()  # Moscow, Mon-Fri 09-18, break 13-14, Russian calendar


def test_working_day_and_time(bc):
    assert bc.is_working_day(dt.date(2026, 3, 10))
    assert not bc.is_working_day(dt.date(2026, 3, 9))
    assert bc.is_working_time(m(2026, 3, 10, 9, 0))
    assert not bc.is_working_time(m(2026, 3, 10, 8, 59))
    assert not bc.is_working_time(m(2026, 3, 10, 13, 0))  # break
    assert bc.is_working_time(m(2026, 3, 10, 14, 0))
    assert not bc.is_working_time(m(2026, 3, 10, 18, 0))  # half-open
    assert bc.is_working_time(m(2026, 3, 10, 17, 59, tz=MSK))
    assert bc.is_working_time(dt.datetime(2026, 3, 10, 6, 0, tzinfo=UTC))  # 09:00 MSK


def test_next_working_moment(bc):
    assert bc.next_working_moment(m(2026, 3, 10, 10, 15)) == m(2026, 3, 10, 10, 15)
    assert bc.next_working_moment(m(2026, 3, 10, 13, 30)) == m(2026, 3, 10, 14, 0)
    assert bc.next_working_moment(m(2026, 3, 10, 18, 0)) == m(2026, 3, 11, 9, 0)
    assert bc.next_working_moment(m(2026, 3, 6, 18, 30)) == m(2026, 3, 10, 9, 0)  # 7-9 March off
    # New Year: 31 Dec 2025 .. 11 Jan 2026 are off
    assert bc.next_working_moment(m(2025, 12, 30, 18, 0)) == m(2026, 1, 12, 9, 0)


def test_add_working_days_examples(bc):
    # Friday 15:00 + 3 working days = Wednesday 15:00 of the next week
    assert bc.add_working_days(m(2026, 3, 13, 15, 0), 3) == m(2026, 3, 18, 15, 0)
    # ... skipping the 9 March day off
    assert bc.add_working_days(m(2026, 3, 6, 15, 0), 3) == m(2026, 3, 12, 15, 0)
    # outside working time: start from the next working moment (Monday 09:00)
    assert bc.add_working_days(m(2026, 3, 13, 20, 0), 3) == m(2026, 3, 19, 9, 0)
    # in the break: start from 14:00
    assert bc.add_working_days(m(2026, 3, 10, 13, 30), 1) == m(2026, 3, 11, 14, 0)
    assert bc.add_working_days(m(2026, 3, 10, 13, 30), 0) == m(2026, 3, 10, 14, 0)
    # onto a shortened day: 17:30 does not exist on 30 April, the day's end does
    assert bc.add_working_days(m(2026, 4, 29, 17, 30), 1) == m(2026, 4, 30, 17, 0)
    # across the New Year holidays
    assert bc.add_working_days(m(2025, 12, 30, 15, 0), 1) == m(2026, 1, 12, 15, 0)
    with pytest.raises(ValueError):
        bc.add_working_days(m(2026, 3, 10, 10), -1)


def test_add_working_minutes_and_hours(bc):
    assert bc.add_working_hours(m(2026, 3, 10, 16, 0), 2) == m(2026, 3, 10, 18, 0)
    assert bc.add_working_hours(m(2026, 3, 10, 16, 0), 3) == m(2026, 3, 11, 10, 0)
    assert bc.add_working_minutes(m(2026, 3, 10, 12, 30), 30) == m(2026, 3, 10, 13, 0)
    assert bc.add_working_minutes(m(2026, 3, 10, 12, 30), 31) == m(2026, 3, 10, 14, 1)
    assert bc.add_working_minutes(m(2026, 3, 10, 7, 0), 0) == m(2026, 3, 10, 7, 0)
    assert bc.add_working_minutes(m(2026, 3, 10, 7, 0), 1) == m(2026, 3, 10, 9, 1)
    # a whole working week is 40 hours
    assert bc.add_working_hours(m(2026, 3, 16, 9, 0), 40) == m(2026, 3, 20, 18, 0)
    # a year of working time: 1972 hours in 2026
    assert bc.add_working_hours(m(2026, 1, 1), 1972) == m(2026, 12, 30, 18, 0)
    with pytest.raises(ValueError):
        bc.add_working_minutes(m(2026, 3, 10, 10), -5)


def test_shortened_pre_holiday_day(bc):
    # 30 April 2026 ends at 17:00; 1-3 May off; 4 May working
    assert bc.is_working_time(m(2026, 4, 30, 16, 59))
    assert not bc.is_working_time(m(2026, 4, 30, 17, 0))
    assert bc.add_working_hours(m(2026, 4, 30, 16, 30), 1) == m(2026, 5, 4, 9, 30)
    assert bc.working_minutes_between(m(2026, 4, 30), m(2026, 5, 1)) == 7 * 60
    # 8 May (Friday) shortened, 9-11 May off
    assert bc.working_minutes_between(m(2026, 5, 4), m(2026, 5, 12)) == 8 * 60 * 5 - 60  # 4-8 May


def test_between(bc):
    assert bc.working_minutes_between(m(2026, 3, 10, 10), m(2026, 3, 10, 15)) == 240
    assert bc.working_minutes_between(m(2026, 3, 10, 15), m(2026, 3, 10, 10)) == -240
    assert bc.working_hours_between(m(2026, 1, 1), m(2027, 1, 1)) == 1972
    assert bc.working_hours_between(m(2024, 1, 1), m(2025, 1, 1)) == 1979
    assert bc.working_days_between(m(2026, 3, 13, 15), m(2026, 3, 18, 15)) == 3
    assert bc.working_days_between(m(2026, 3, 13, 15), m(2026, 3, 18, 14, 59)) == 2
    assert bc.working_days_between(m(2026, 3, 18, 15), m(2026, 3, 13, 15)) == -3
    assert bc.working_days_between(m(2026, 3, 13, 20), m(2026, 3, 14, 12)) == 0
    assert bc.working_days_in_range(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == 247


def test_year_boundary_2024_2025(bc):
    # Saturday 28 Dec 2024 is a full working day; 29 Dec .. 8 Jan are off
    assert bc.is_working_time(m(2024, 12, 28, 17, 30))
    assert bc.next_working_moment(m(2024, 12, 28, 18, 0)) == m(2025, 1, 9, 9, 0)
    assert bc.add_working_minutes(m(2024, 12, 28, 17, 0), 90) == m(2025, 1, 9, 9, 30)
    assert bc.working_minutes_between(m(2024, 12, 28, 17, 0), m(2025, 1, 9, 9, 30)) == 90


def test_inputs_in_other_zones_give_the_same_instant(bc):
    a = bc.add_working_hours(m(2026, 3, 13, 15, 0), 5)
    b = bc.add_working_hours(dt.datetime(2026, 3, 13, 12, 0, tzinfo=UTC), 5)
    c = bc.add_working_hours(m(2026, 3, 13, 22, 0, tz=VVO), 5)
    assert a == b == c
    assert a.tzinfo == MSK or str(a.tzinfo) == "Europe/Moscow"


def test_naive_datetimes_are_rejected(bc):
    with pytest.raises(NaiveDatetimeError):
        bc.is_working_time(dt.datetime(2026, 3, 10, 10, 0))
    with pytest.raises(NaiveDatetimeError):
        bc.add_working_minutes(dt.datetime(2026, 3, 10, 10, 0), 5)


def test_dst_zone_berlin():
    berlin = BusinessCalendar(parse_schedule({"timezone": "Europe/Berlin"}))
    # DST starts on Sunday 29 March 2026: Friday 17:00 CET + 2 h = Monday 10:00 CEST
    res = berlin.add_working_hours(dt.datetime(2026, 3, 27, 17, 0, tzinfo=BER), 2)
    assert res == dt.datetime(2026, 3, 30, 10, 0, tzinfo=BER)
    assert res.utcoffset() == dt.timedelta(hours=2)
    assert berlin.working_minutes_between(dt.datetime(2026, 3, 27, 17, tzinfo=BER), res) == 120
    # DST ends on Sunday 25 October 2026
    res2 = berlin.add_working_hours(dt.datetime(2026, 10, 23, 17, 0, tzinfo=BER), 2)
    assert res2 == dt.datetime(2026, 10, 26, 10, 0, tzinfo=BER)
    assert res2.utcoffset() == dt.timedelta(hours=1)


def test_round_the_clock_counts_real_time_across_dst():
    data = {"weekdays": [1, 2, 3, 4, 5, 6, 7], "hours": "00:00-24:00", "breaks": [], "observe_calendar": False}
    berlin = BusinessCalendar(parse_schedule({**data, "timezone": "Europe/Berlin"}))
    moscow = BusinessCalendar(parse_schedule({**data, "timezone": "Europe/Moscow"}))
    day_b = (dt.datetime(2026, 3, 29, tzinfo=BER), dt.datetime(2026, 3, 30, tzinfo=BER))
    assert berlin.working_minutes_between(*day_b) == 23 * 60
    day_b2 = (dt.datetime(2026, 10, 25, tzinfo=BER), dt.datetime(2026, 10, 26, tzinfo=BER))
    assert berlin.working_minutes_between(*day_b2) == 25 * 60
    day_m = (dt.datetime(2026, 3, 29, tzinfo=MSK), dt.datetime(2026, 3, 30, tzinfo=MSK))
    assert moscow.working_minutes_between(*day_m) == 24 * 60
    # adding 24 working hours across the spring-forward night lands one wall hour later
    assert berlin.add_working_hours(dt.datetime(2026, 3, 28, 12, tzinfo=BER), 24) == dt.datetime(
        2026, 3, 29, 13, tzinfo=BER
    )


def test_night_shift_inside_the_dst_gap():
    # a wall-clock interval that starts inside the spring-forward gap starts at the end of the gap
    s = parse_schedule({"timezone": "Europe/Berlin", "weekdays": [7], "hours": "02:00-06:00", "breaks": [],
                        "observe_calendar": False})
    bc = BusinessCalendar(s)
    spans = bc.day_intervals(dt.date(2026, 3, 29))
    assert spans[0][0] == dt.datetime(2026, 3, 29, 3, 0, tzinfo=BER)
    assert bc.working_minutes_between(dt.datetime(2026, 3, 29, tzinfo=BER), dt.datetime(2026, 3, 30, tzinfo=BER)) == 180


def test_user_schedule_in_another_zone():
    vvo = BusinessCalendar(parse_schedule({"timezone": "Asia/Vladivostok"}))
    moscow = BusinessCalendar()
    moment = m(2026, 3, 10, 5, 0)  # 12:00 in Vladivostok
    assert vvo.is_working_time(moment)
    assert not moscow.is_working_time(moment)
    assert vvo.next_working_moment(m(2026, 3, 10, 6, 30)) == dt.datetime(2026, 3, 10, 14, 0, tzinfo=VVO)


def test_overrides_change_the_arithmetic():
    cal = russian_calendar({"add_holidays": ["2026-03-10"], "working_days": ["2026-03-14"]})
    bc = BusinessCalendar(WorkSchedule(), cal)
    assert not bc.is_working_day(dt.date(2026, 3, 10))
    assert bc.is_working_day(dt.date(2026, 3, 14))
    assert bc.add_working_days(m(2026, 3, 6, 15), 3) == m(2026, 3, 13, 15)


def test_no_working_time_is_an_error():
    s = WorkSchedule(weekdays=frozenset(), exceptions={})
    bc = BusinessCalendar(s)
    assert not bc.is_working_day(dt.date(2026, 3, 10))
    with pytest.raises(NoWorkingTimeError):
        bc.next_working_moment(m(2026, 3, 10, 10))
    with pytest.raises(NoWorkingTimeError):
        bc.add_working_minutes(m(2026, 3, 10, 10), 1)
    # only an exception date works
    s2 = WorkSchedule(weekdays=frozenset(), exceptions={dt.date(2026, 8, 3): ((600, 660),)})
    bc2 = BusinessCalendar(s2)
    assert bc2.next_working_moment(m(2026, 3, 10, 10)) == m(2026, 8, 3, 10)
    assert bc2.add_working_minutes(m(2026, 3, 10, 10), 60) == m(2026, 8, 3, 11)


def test_scan_of_100k_items_is_fast(bc):
    import time

    start = m(2026, 1, 5, 10, 17)
    t0 = time.perf_counter()
    for i in range(100_000):
        created = start + dt.timedelta(minutes=7 * i)
        due = bc.add_working_hours(created, 16)
        bc.working_minutes_between(created, due)
    assert time.perf_counter() - t0 < 20  # about 1.5 s on the CI machine; a minute-walk would take minutes


def test_business_calendar_from_settings():
    from b24app.calendar import CalendarValidationError, business_calendar_from_settings

    bc = business_calendar_from_settings(
        {"add_holidays": ["2026-03-10"]},
        {"hours": "10:00-19:00"},
        {"timezone": "Asia/Vladivostok"},
    )
    assert bc.schedule.timezone == "Asia/Vladivostok" and bc.schedule.hours == (600, 1140)
    assert not bc.is_working_day(dt.date(2026, 3, 10))
    assert bc.next_working_moment(dt.datetime(2026, 3, 10, 12, tzinfo=VVO)) == dt.datetime(2026, 3, 11, 10, tzinfo=VVO)
    company_only = business_calendar_from_settings(None, None)
    assert company_only.schedule == WorkSchedule()
    with pytest.raises(CalendarValidationError):
        business_calendar_from_settings({"working_days": ["2026-03-10"]})
