"""Deadlines of stage tasks, stage limits (SLA), escalation steps and overdue days on the business
calendar: worked examples (holidays, shortened days, breaks, time zones, users' own schedules) and
property-based checks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24app.calendar.settings_section import business_calendar
from b24app.stages.deadlines import (
    days_overdue,
    late_hours,
    limit_due,
    parse_date,
    parse_moment,
    pay_steps_due,
    steps_due,
    task_deadline,
)
from b24app.stages.model import Limit, PayStep, Step

MSK = ZoneInfo("Europe/Moscow")
EKB = ZoneInfo("Asia/Yekaterinburg")
SETTINGS = {"calendar": {"schedule": {"timezone": "Europe/Moscow", "weekdays": [1, 2, 3, 4, 5],
                                      "hours": "09:00-18:00", "breaks": ["13:00-14:00"]},
                         "overrides": {}, "users": {"7": {"timezone": "Asia/Yekaterinburg"},
                                                    "8": {"hours": "10:00-19:00", "breaks": []}}}}
BC = business_calendar(SETTINGS)
PROPS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def msk(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=MSK)


def limit(**kw) -> Limit:
    base = {"entity": "deal", "stage": "UC_APPROVAL", "working_hours": None, "working_days": None, "date_field": "",
            "empty_date": "skip", "escalation": ()}
    base.update(kw)
    return Limit(**base)


# --- task deadlines: worked examples --------------------------------------------------------------
def test_three_working_days_skip_the_weekend_the_holiday_and_keep_the_time_of_day() -> None:
    # Friday 30.10.2026 15:00 + 3 working days: Mon 2.11, Tue 3.11 (shortened), Wed 4.11 is a holiday
    assert task_deadline(msk(2026, 10, 30, 15), {"working_days": 3}, BC) == msk(2026, 11, 5, 15)


def test_working_hours_stop_at_the_end_of_the_day_and_resume_after_the_weekend() -> None:
    # 15:00-18:00 on Friday is 3 hours; the 4th hour is Monday 09:00-10:00
    assert task_deadline(msk(2026, 10, 30, 15), {"working_hours": 4}, BC) == msk(2026, 11, 2, 10)


def test_a_shortened_pre_holiday_day_ends_at_17_00() -> None:
    # Tuesday 3.11.2026 is one hour shorter (before the 4 November holiday): 16:00 + 2 h -> Thursday 10:00
    assert task_deadline(msk(2026, 11, 3, 16), {"working_hours": 2}, BC) == msk(2026, 11, 5, 10)


def test_the_lunch_break_is_not_working_time() -> None:
    assert task_deadline(msk(2026, 11, 2, 12), {"working_hours": 2}, BC) == msk(2026, 11, 2, 15)


def test_a_task_created_at_night_counts_from_the_next_opening() -> None:
    assert task_deadline(msk(2026, 11, 2, 22, 30), {"working_hours": 1}, BC) == msk(2026, 11, 3, 10)


def test_no_deadline_when_none_is_given() -> None:
    assert task_deadline(msk(2026, 11, 2, 10), {}, BC) is None


def test_a_users_own_time_zone_moves_the_deadline() -> None:
    ekb = business_calendar(SETTINGS, 7)  # the same 09-18 schedule, but in Yekaterinburg (UTC+5)
    start = msk(2026, 11, 2, 15)  # 17:00 in Yekaterinburg
    due = task_deadline(start, {"working_hours": 2}, ekb)
    assert due == dt.datetime(2026, 11, 3, 10, tzinfo=EKB)  # 17-18 there, then 09-10 next day
    assert due.tzinfo is not None and due.utcoffset() == dt.timedelta(hours=5)


def test_a_users_own_hours_apply() -> None:
    late = business_calendar(SETTINGS, 8)  # 10:00-19:00 without a break
    assert task_deadline(msk(2026, 11, 2, 17), {"working_hours": 3}, late) == msk(2026, 11, 3, 11)


def test_the_same_instant_in_another_zone_gives_the_same_deadline() -> None:
    a = task_deadline(msk(2026, 10, 30, 15), {"working_days": 3}, BC)
    b = task_deadline(msk(2026, 10, 30, 15).astimezone(dt.UTC), {"working_days": 3}, BC)
    assert a == b


def test_portal_overrides_of_the_production_calendar_are_respected() -> None:
    s = {"calendar": {**SETTINGS["calendar"], "overrides": {"add_holidays": ["2026-11-02"]}}}
    bc = business_calendar(s)
    assert task_deadline(msk(2026, 10, 30, 15), {"working_hours": 4}, bc) == msk(2026, 11, 3, 10)


# --- stage limits ---------------------------------------------------------------------------------
def test_limit_from_the_stage_entry_in_working_hours() -> None:
    assert limit_due(limit(working_hours=4), msk(2026, 11, 2, 10), None, BC) == msk(2026, 11, 2, 15)


def test_limit_in_working_days() -> None:
    assert limit_due(limit(working_days=2), msk(2026, 10, 30, 15), None, BC) == msk(2026, 11, 3, 15)


def test_a_date_field_without_time_is_late_after_that_day() -> None:
    lim = limit(date_field="UF_CRM_SHIP")
    assert limit_due(lim, msk(2026, 11, 2, 10), "2026-11-05T00:00:00+03:00", BC) == msk(2026, 11, 6, 0)
    assert limit_due(lim, msk(2026, 11, 2, 10), "05.11.2026", BC) == msk(2026, 11, 6, 0)


def test_a_date_field_plus_working_days_skips_the_holiday() -> None:
    lim = limit(date_field="UF_CRM_SHIP", working_days=1)
    # 3.11 + 1 working day = 5.11 (4.11 is a holiday): late after 5.11
    assert limit_due(lim, None, "2026-11-03", BC) == msk(2026, 11, 6, 0)


def test_a_date_time_field_is_the_limit_itself() -> None:
    lim = limit(date_field="UF_CRM_CALL_AT")
    assert limit_due(lim, None, "2026-11-02T16:30:00+03:00", BC) == msk(2026, 11, 2, 16, 30)


def test_an_empty_date_is_not_watched_or_counted_from_the_entry_never_hung() -> None:
    assert limit_due(limit(date_field="UF_CRM_SHIP"), msk(2026, 11, 2, 10), "", BC) is None
    lim = limit(date_field="UF_CRM_SHIP", empty_date="entry", working_hours=4)
    assert limit_due(lim, msk(2026, 11, 2, 10), None, BC) == msk(2026, 11, 2, 15)


def test_a_changed_date_recalculates_the_limit() -> None:
    lim = limit(date_field="UF_CRM_SHIP")
    first = limit_due(lim, None, "2026-11-05", BC)
    later = limit_due(lim, None, "2026-11-10", BC)
    assert first is not None and later is not None and later > first


def test_parse_moment_formats() -> None:
    assert parse_moment("05.11.2026 15:30", MSK) == (msk(2026, 11, 5, 15, 30), True)
    assert parse_moment("2026-11-05", MSK) == (msk(2026, 11, 5), False)
    assert parse_moment("", MSK) is None and parse_moment(None, MSK) is None and parse_moment("nonsense", MSK) is None
    assert parse_date("2026-11-05T00:00:00+03:00", MSK) == dt.date(2026, 11, 5)
    assert parse_date("2026-11-05T23:30:00+00:00", MSK) == dt.date(2026, 11, 6)  # 02:30 in Moscow


# --- escalation -----------------------------------------------------------------------------------
STEPS = (Step(0, "notify_assignee"), Step(4, "notify_head"), Step(8, "task_for_head"))


def test_steps_come_one_by_one_in_working_hours_after_the_limit() -> None:
    due = msk(2026, 11, 2, 15)
    assert steps_due(STEPS, due, msk(2026, 11, 2, 14, 59), BC) == []
    assert steps_due(STEPS, due, msk(2026, 11, 2, 15), BC) == [0]
    assert steps_due(STEPS, due, msk(2026, 11, 3, 9, 59), BC) == [0]  # 3 h on Monday + 59 min
    assert steps_due(STEPS, due, msk(2026, 11, 3, 10), BC) == [0, 1]
    # Tuesday 3.11 is shortened (ends 17:00); the 8th hour ends at 15:00, the night does not count
    assert steps_due(STEPS, due, msk(2026, 11, 3, 14, 59), BC) == [0, 1]
    assert steps_due(STEPS, due, msk(2026, 11, 3, 15), BC) == [0, 1, 2]
    assert late_hours(due, msk(2026, 11, 3, 15), BC) == pytest.approx(8.0)


def test_no_steps_without_a_limit() -> None:
    assert steps_due(STEPS, None, msk(2026, 11, 3, 15), BC) == []


# --- overdue payments -----------------------------------------------------------------------------
PAY = (PayStep(3, "remind_manager"), PayStep(10, "lawyer_task"), PayStep(20, "move_to_claim"),
       PayStep(30, "claim_document"))


def test_days_overdue_are_calendar_days_after_the_due_date() -> None:
    assert days_overdue(dt.date(2026, 11, 2), dt.date(2026, 11, 2)) == 0
    assert days_overdue(dt.date(2026, 11, 2), dt.date(2026, 11, 12)) == 10
    assert days_overdue(None, dt.date(2026, 11, 12)) == 0


def test_working_days_overdue_skip_weekends_and_holidays() -> None:
    # after Fri 30.10: Mon 2, Tue 3, (Wed 4 holiday), Thu 5, Fri 6 -> 4 working days by Sunday 8.11
    assert days_overdue(dt.date(2026, 10, 30), dt.date(2026, 11, 8), "working", BC) == 4


def test_payment_steps_advance_with_the_days_and_stop_when_paid() -> None:
    assert pay_steps_due(PAY, 2, 1000.0) == []
    assert [s.action for s in pay_steps_due(PAY, 12, 1000.0)] == ["remind_manager", "lawyer_task"]
    assert len(pay_steps_due(PAY, 45, 1000.0)) == 4
    assert pay_steps_due(PAY, 45, 0.0) == []


# --- properties -----------------------------------------------------------------------------------
instants = st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 6, 30),
                        timezones=st.sampled_from([MSK, dt.UTC, EKB]))
calendars = st.sampled_from([BC, business_calendar(SETTINGS, 7), business_calendar(SETTINGS, 8)])


@PROPS
@given(start=instants, hours=st.floats(min_value=0, max_value=200), bc=calendars)
def test_a_deadline_in_hours_lies_exactly_that_many_working_hours_ahead(start, hours, bc) -> None:
    due = task_deadline(start, {"working_hours": hours}, bc)
    assert due >= start
    assert bc.working_hours_between(start, due) == pytest.approx(hours, abs=1e-6)


@PROPS
@given(start=instants, days=st.integers(0, 60), bc=calendars)
def test_a_deadline_in_days_lies_that_many_working_days_ahead_and_in_working_time(start, days, bc) -> None:
    due = task_deadline(start, {"working_days": days}, bc)
    assert due >= start
    assert bc.working_days_between(start, due) == days
    if days:
        assert bc.is_working_day(due.astimezone(bc.tz).date())


@PROPS
@given(a=instants, gap=st.integers(0, 10 * 24 * 3600), hours=st.floats(0, 100))
def test_a_later_start_never_gives_an_earlier_deadline(a, gap, hours) -> None:
    b = a + dt.timedelta(seconds=gap)
    assert task_deadline(b, {"working_hours": hours}, BC) >= task_deadline(a, {"working_hours": hours}, BC)


@PROPS
@given(entered=instants, hours=st.floats(0, 80), now_gap=st.integers(0, 30 * 24 * 3600))
def test_overdue_iff_the_limit_passed_and_steps_only_grow_with_time(entered, hours, now_gap) -> None:
    lim = limit(working_hours=hours, escalation=STEPS)
    due = limit_due(lim, entered, None, BC)
    assert due is not None and BC.working_hours_between(entered, due) == pytest.approx(hours, abs=1e-6)
    now = entered + dt.timedelta(seconds=now_gap)
    later = now + dt.timedelta(hours=5)
    got, got_later = steps_due(STEPS, due, now, BC), steps_due(STEPS, due, later, BC)
    assert (got != []) == (now >= due)
    assert set(got) <= set(got_later)
    assert got == list(range(len(got)))  # steps come in order


@PROPS
@given(due=st.dates(dt.date(2025, 1, 1), dt.date(2027, 1, 1)), a=st.integers(0, 400), b=st.integers(0, 400),
       owed=st.floats(0, 1e7))
def test_payment_steps_are_monotone_in_the_days_overdue(due, a, b, owed) -> None:
    lo, hi = sorted((a, b))
    d_lo = days_overdue(due, due + dt.timedelta(days=lo))
    d_hi = days_overdue(due, due + dt.timedelta(days=hi))
    assert d_lo == lo and d_hi == hi
    assert set(pay_steps_due(PAY, d_lo, owed)) <= set(pay_steps_due(PAY, d_hi, owed))
    if owed <= 0.005:
        assert pay_steps_due(PAY, d_hi, owed) == []
