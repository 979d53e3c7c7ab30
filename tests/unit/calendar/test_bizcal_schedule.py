"""Work schedules: parsing, per-user overrides, validation, and the intervals of a day."""

from __future__ import annotations

import datetime as dt

import pytest

from b24app.calendar import (
    CalendarValidationError,
    WorkSchedule,
    default_russian_calendar,
    parse_schedule,
)

D = dt.date
CAL = default_russian_calendar()


def test_default_schedule():
    s = WorkSchedule()
    assert s.timezone == "Europe/Moscow"
    assert s.regular_intervals() == ((540, 780), (840, 1080))
    assert s.day_intervals(D(2026, 3, 10), CAL) == ((540, 780), (840, 1080))
    assert s.day_intervals(D(2026, 3, 9), CAL) == ()  # transferred day off
    assert s.day_intervals(D(2026, 3, 14), CAL) == ()  # Saturday
    # shortened pre-holiday day ends one hour earlier
    assert s.day_intervals(D(2026, 4, 30), CAL) == ((540, 780), (840, 1020))
    # a transferred working Saturday works the usual hours
    assert s.day_intervals(D(2025, 11, 1), CAL) == ((540, 780), (840, 1020))  # and it is shortened
    assert s.day_intervals(D(2024, 12, 28), CAL) == ((540, 780), (840, 1080))


def test_parse_full_schedule_round_trip():
    data = {
        "timezone": "Asia/Yekaterinburg",
        "weekdays": ["пн", "вт", "ср", "чт", "пт", "сб"],
        "hours": "08:30-17:30",
        "breaks": [["12:00", "12:45"]],
        "shortened_by_minutes": 60,
        "exceptions": {"2026-03-06": ["10:00-16:00"], "2026-03-10": [], "2026-03-09": "off"},
        "observe_calendar": True,
    }
    s = parse_schedule(data)
    assert s.weekdays == frozenset({1, 2, 3, 4, 5, 6})
    assert s.hours == (510, 1050)
    assert s.breaks == ((720, 765),)
    assert s.day_intervals(D(2026, 3, 6), CAL) == ((600, 960),)
    assert s.day_intervals(D(2026, 3, 10), CAL) == ()
    # six-day schedule: an ordinary Saturday is working, holidays still are not
    assert s.day_intervals(D(2026, 3, 14), CAL) == ((510, 720), (765, 1050))
    assert s.day_intervals(D(2026, 6, 12), CAL) == ()
    assert parse_schedule(s.to_dict()) == s


def test_user_schedule_inherits_and_overrides():
    company = parse_schedule({"exceptions": {"2026-12-30": []}})
    user = parse_schedule(
        {"timezone": "Asia/Vladivostok", "hours": {"start": "10:00", "end": "19:00"},
         "exceptions": {"2026-07-01": ["10:00-12:00"]}},
        base=company,
    )
    assert user.timezone == "Asia/Vladivostok"
    assert user.hours == (600, 1140)
    assert user.breaks == company.breaks
    assert user.weekdays == company.weekdays
    assert set(user.exceptions) == {D(2026, 12, 30), D(2026, 7, 1)}
    assert parse_schedule(None, base=company) == company


def test_exception_overrides_a_holiday_and_is_not_shortened():
    s = parse_schedule({"exceptions": {"2026-01-05": ["10:00-14:00"], "2026-04-30": ["09:00-18:00"]}})
    assert s.day_intervals(D(2026, 1, 5), CAL) == ((600, 840),)
    assert s.day_intervals(D(2026, 4, 30), CAL) == ((540, 1080),)


def test_without_calendar_only_weekdays_count():
    s = parse_schedule({"weekdays": [1, 2, 3, 4, 5, 6, 7], "hours": "00:00-24:00", "breaks": [],
                        "observe_calendar": False})
    assert s.day_intervals(D(2026, 1, 1), CAL) == ((0, 1440),)


def test_shortening_can_eat_into_the_morning():
    s = parse_schedule({"hours": "09:00-14:30", "breaks": ["14:00-14:15"], "shortened_by_minutes": 90})
    assert s.day_intervals(D(2026, 4, 30), CAL) == ((540, 765),)  # 15 min after the break + 75 before it


def _codes(exc: CalendarValidationError) -> set[tuple[str, str]]:
    return {(i.field, i.code) for i in exc.issues}


def test_schedule_validation_errors():
    with pytest.raises(CalendarValidationError) as e:
        parse_schedule(
            {
                "timezone": "Mars/Olympus",
                "weekdays": [0, "xx", 3],
                "hours": "18:00-09:00",
                "breaks": ["25:00-26:00"],
                "shortened_by_minutes": "60",
                "exceptions": {"2026-02-30": [], "2026-03-06": ["10:00-12:00", "11:00-13:00"]},
                "observe_calendar": "yes",
                "color": "red",
            }
        )
    codes = _codes(e.value)
    assert ("weekdays", "bad_weekday") in codes
    assert ("breaks", "bad_time") in codes
    assert ("shortened_by_minutes", "bad_value") in codes
    assert ("exceptions.2026-02-30", "invalid_date") in codes
    assert ("observe_calendar", "bad_value") in codes
    assert ("color", "unknown_key") in codes
    # the typed checks run at construction time
    with pytest.raises(CalendarValidationError) as e2:
        parse_schedule({"timezone": "Mars/Olympus", "hours": "18:00-09:00"})
    assert ("timezone", "unknown_timezone") in _codes(e2.value)
    assert ("hours", "bad_interval") in _codes(e2.value)
    with pytest.raises(CalendarValidationError) as e3:
        parse_schedule({"exceptions": {"2026-03-06": ["10:00-12:00", "11:00-13:00"]}})
    assert ("exceptions.2026-03-06", "overlap") in _codes(e3.value)
    with pytest.raises(CalendarValidationError) as e4:
        parse_schedule({"breaks": ["08:00-10:00"]})
    assert ("breaks", "break_outside_hours") in _codes(e4.value)
    with pytest.raises(CalendarValidationError) as e5:
        parse_schedule({"hours": "09:00-10:00", "breaks": ["09:00-10:00"]})
    assert ("breaks", "no_working_time") in _codes(e5.value)
