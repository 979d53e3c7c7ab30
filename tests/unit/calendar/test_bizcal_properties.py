"""Property tests of working-time arithmetic, checked also against a minute-by-minute reference."""

from __future__ import annotations

import datetime as dt
from functools import cache
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24app.calendar import BusinessCalendar, DayKind, WorkSchedule, default_russian_calendar

CAL = default_russian_calendar()
ZONES = ["Europe/Moscow", "Europe/Berlin", "Asia/Vladivostok", "America/New_York", "UTC"]
US = dt.timedelta(microseconds=1)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def _bc(schedule: tuple) -> BusinessCalendar:
    tz, weekdays, hours, breaks, shortened_by, observe = schedule
    return BusinessCalendar(
        WorkSchedule(
            timezone=tz,
            weekdays=frozenset(weekdays),
            hours=hours,
            breaks=breaks,
            shortened_by=shortened_by,
            observe_calendar=observe,
        ),
        CAL,
    )


@st.composite
def schedules(draw) -> tuple:
    tz = draw(st.sampled_from(ZONES))
    weekdays = tuple(sorted(draw(st.sets(st.integers(1, 7), min_size=1))))
    start = draw(st.integers(0, 20 * 60))
    end = draw(st.integers(start + 60, min(start + 14 * 60, 1440)))
    breaks: tuple = ()
    if draw(st.booleans()) and end - start >= 120:
        b0 = draw(st.integers(start + 30, end - 60))
        b1 = draw(st.integers(b0 + 1, min(b0 + 90, end - 15)))
        breaks = ((b0, b1),)
    shortened_by = draw(st.sampled_from([0, 60]))
    observe = draw(st.booleans())
    return (tz, weekdays, (start, end), breaks, shortened_by, observe)


moscow_default = st.just(("Europe/Moscow", (1, 2, 3, 4, 5), (540, 1080), ((780, 840),), 60, True))
any_schedule = st.one_of(moscow_default, schedules())
instants = st.datetimes(
    min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 20), timezones=st.just(dt.UTC)
)
minute_instants = instants.map(lambda d: d.replace(second=0, microsecond=0))
minutes = st.integers(0, 4000)


def _ref_working(bc: BusinessCalendar, moment: dt.datetime) -> bool:
    """Independent check of one instant: its local wall clock against the day's wall intervals."""
    local = moment.astimezone(bc.tz)
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(a <= minute < b for a, b in bc.schedule.day_intervals(local.date(), CAL))


@SETTINGS
@given(any_schedule, instants, minutes, minutes)
def test_additivity(schedule, start, a, b):
    bc = _bc(schedule)
    assert bc.add_working_minutes(start, a + b) == bc.add_working_minutes(bc.add_working_minutes(start, a), b)


@SETTINGS
@given(any_schedule, instants, minutes)
def test_between_inverts_add(schedule, start, n):
    bc = _bc(schedule)
    end = bc.add_working_minutes(start, n)
    assert bc.working_minutes_between(start, end) == n
    assert bc.working_minutes_between(end, start) == -n


@SETTINGS
@given(any_schedule, instants, st.integers(1, 4000))
def test_results_lie_in_working_time(schedule, start, n):
    bc = _bc(schedule)
    end = bc.add_working_minutes(start, n)
    # the earliest instant: the microsecond just before it is working time
    assert bc.is_working_time(end - US)
    assert _ref_working(bc, end - US)
    nxt = bc.next_working_moment(start)
    assert bc.is_working_time(nxt)
    assert nxt >= start
    assert bc.working_minutes_between(start, nxt) == 0


@SETTINGS
@given(any_schedule, instants, st.integers(0, 30))
def test_add_working_days_round_trip(schedule, start, k):
    bc = _bc(schedule)
    end = bc.add_working_days(start, k)
    assert bc.working_days_between(start, end) == k
    assert bc.is_working_time(end) or bc.is_working_time(end - US)
    if k:
        assert bc.add_working_days(start, k - 1) < end
        assert bc.working_days_between(start, end - US) == k - 1


@SETTINGS
@given(any_schedule, minute_instants, st.integers(0, 3 * 24 * 60))
def test_between_matches_minute_by_minute_reference(schedule, start, span):
    bc = _bc(schedule)
    end = start + dt.timedelta(minutes=span)
    expected = sum(_ref_working(bc, start + dt.timedelta(minutes=i)) for i in range(span))
    assert bc.working_minutes_between(start, end) == expected


@SETTINGS
@given(any_schedule, instants, minutes, st.sampled_from(ZONES))
def test_time_zone_invariance(schedule, start, n, zone):
    bc = _bc(schedule)
    other = start.astimezone(ZoneInfo(zone))
    assert bc.add_working_minutes(start, n) == bc.add_working_minutes(other, n)
    assert bc.add_working_days(start, n % 20) == bc.add_working_days(other, n % 20)
    assert bc.next_working_moment(start) == bc.next_working_moment(other)
    assert bc.is_working_time(start) == bc.is_working_time(other)


@st.composite
def non_working_dates(draw) -> dt.date:
    day = draw(st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 12, 31)))
    kinds = (DayKind.HOLIDAY, DayKind.DAY_OFF)
    while CAL.day_kind(day) not in kinds:
        day += dt.timedelta(days=1)
        if day.year > 2027:
            day = dt.date(2024, 1, 1)
    return day


@SETTINGS
@given(st.one_of(moscow_default, schedules().filter(lambda s: s[5])), non_working_dates(), minutes)
def test_holidays_never_counted(schedule, day, n):
    bc = _bc(schedule)
    tz = bc.tz
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=tz)
    next_midnight = midnight + dt.timedelta(days=1)
    assert bc.working_minutes_between(midnight, next_midnight) == 0
    assert not bc.is_working_day(day)
    # nothing added ever ends inside a holiday
    end = bc.add_working_minutes(midnight - dt.timedelta(hours=5), n + 1)
    assert CAL.day_kind((end - US).astimezone(tz).date()) not in (DayKind.HOLIDAY, DayKind.DAY_OFF)
