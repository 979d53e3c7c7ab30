"""The shipped Russian production calendar and the portal's overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from b24app.calendar import (
    CalendarValidationError,
    DayKind,
    default_russian_calendar,
    parse_overrides,
    russian_calendar,
    statutory_year_ru,
)

D = dt.date


@pytest.fixture(scope="module")
def cal():
    return default_russian_calendar()


# Published totals of the 5-day week (40-hour week) calendars.
@pytest.mark.parametrize(
    ("year", "working_days", "hours"),
    [(2024, 248, 1979), (2025, 247, 1972), (2026, 247, 1972)],
)
def test_published_totals(cal, year, working_days, hours):
    summary = cal.year_summary(year)
    assert summary["working_days"] == working_days
    assert summary["hours"] == hours
    assert summary["provisional"] is False
    assert "Постановление" in summary["source"]


def test_2027_is_provisional_and_statutory(cal):
    assert cal.is_provisional(2027)
    assert not cal.is_provisional(2026)
    y = cal.year(2027)
    gen = statutory_year_ru(2027)
    assert dict(y.holidays) == dict(gen.holidays)
    assert y.days_off == gen.days_off == {D(2027, 5, 3), D(2027, 5, 10), D(2027, 6, 14)}
    assert y.shortened == gen.shortened
    assert cal.year_summary(2027)["working_days"] == 249


def test_years_without_data_are_generated_and_provisional(cal):
    assert cal.is_provisional(2030)
    assert cal.day_kind(D(2030, 1, 1)) is DayKind.HOLIDAY
    assert cal.day_kind(D(2030, 11, 4)) is DayKind.HOLIDAY


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        # 2024 (decree 1314)
        (D(2024, 1, 1), DayKind.HOLIDAY),
        (D(2024, 1, 7), DayKind.HOLIDAY),
        (D(2024, 1, 9), DayKind.WORKING),
        (D(2024, 4, 27), DayKind.WORKING_WEEKEND),
        (D(2024, 4, 29), DayKind.DAY_OFF),
        (D(2024, 4, 30), DayKind.DAY_OFF),
        (D(2024, 5, 10), DayKind.DAY_OFF),
        (D(2024, 11, 2), DayKind.WORKING_WEEKEND),
        (D(2024, 12, 28), DayKind.WORKING_WEEKEND),
        (D(2024, 12, 30), DayKind.DAY_OFF),
        (D(2024, 12, 31), DayKind.DAY_OFF),
        # 2025 (decree 1335)
        (D(2025, 1, 9), DayKind.WORKING),
        (D(2025, 2, 24), DayKind.WORKING),
        (D(2025, 5, 2), DayKind.DAY_OFF),
        (D(2025, 5, 8), DayKind.DAY_OFF),
        (D(2025, 6, 13), DayKind.DAY_OFF),
        (D(2025, 11, 1), DayKind.WORKING_WEEKEND),
        (D(2025, 11, 3), DayKind.DAY_OFF),
        (D(2025, 12, 31), DayKind.DAY_OFF),
        # 2026 (decree 1466 + art. 112 part 2)
        (D(2026, 1, 9), DayKind.DAY_OFF),
        (D(2026, 1, 12), DayKind.WORKING),
        (D(2026, 2, 23), DayKind.HOLIDAY),
        (D(2026, 3, 8), DayKind.HOLIDAY),
        (D(2026, 3, 9), DayKind.DAY_OFF),
        (D(2026, 5, 11), DayKind.DAY_OFF),
        (D(2026, 6, 12), DayKind.HOLIDAY),
        (D(2026, 11, 4), DayKind.HOLIDAY),
        (D(2026, 12, 31), DayKind.DAY_OFF),
        (D(2026, 3, 14), DayKind.WEEKEND),
    ],
)
def test_day_kinds(cal, day, kind):
    assert cal.day_kind(day) is kind


def test_shortened_days(cal):
    assert cal.is_shortened(D(2024, 11, 2))  # working Saturday took over the shortened 30 April
    assert not cal.is_shortened(D(2024, 12, 28))  # full day: it replaces a full 30 December
    assert not cal.is_shortened(D(2024, 4, 30))  # day off now
    assert cal.is_shortened(D(2026, 4, 30))
    assert not cal.is_shortened(D(2026, 2, 20))  # 23 Feb 2026 is a Monday: no pre-holiday working day
    assert not cal.is_shortened(D(2026, 12, 30))  # 31 December 2026 is a transferred day off


def test_statutory_generator_agrees_with_the_decree_years(cal):
    # 2026: the decree only moved 3 and 4 January; everything else follows from the Labour Code.
    gen = statutory_year_ru(2026)
    shipped = cal.year(2026)
    assert gen.days_off | {D(2026, 1, 9), D(2026, 12, 31)} == shipped.days_off
    assert gen.shortened - {D(2026, 12, 31)} == shipped.shortened


def test_holiday_names(cal):
    assert cal.holiday_name(D(2026, 1, 7)) == "Рождество Христово"
    assert cal.holiday_name(D(2026, 6, 12)) == "День России"
    assert cal.holiday_name(D(2026, 6, 15)) is None


def test_overrides_apply():
    cal = russian_calendar(
        {
            "add_holidays": [{"date": "2026-12-30", "name": "Корпоратив"}, "2026-07-03"],
            "remove_holidays": ["2026-01-09"],
            "working_days": ["2026-03-14"],
            "shortened_days": ["2026-12-29"],
            "remove_shortened_days": ["2026-11-03"],
        }
    )
    assert cal.day_kind(D(2026, 12, 30)) is DayKind.HOLIDAY
    assert cal.holiday_name(D(2026, 12, 30)) == "Корпоратив"
    assert cal.day_kind(D(2026, 7, 3)) is DayKind.HOLIDAY
    assert cal.day_kind(D(2026, 1, 9)) is DayKind.WORKING
    assert cal.day_kind(D(2026, 3, 14)) is DayKind.WORKING_WEEKEND
    assert cal.is_shortened(D(2026, 12, 29))
    assert not cal.is_shortened(D(2026, 11, 3))
    assert cal.year_summary(2026)["working_days"] == 247 - 2 + 1 + 1
    # round trip through the settings form
    again = russian_calendar(cal.overrides.to_dict())
    assert again.overrides == cal.overrides


def test_removing_a_weekend_holiday_makes_it_an_ordinary_weekend():
    cal = russian_calendar({"remove_holidays": ["2026-01-03"]})  # a Saturday
    assert cal.day_kind(D(2026, 1, 3)) is DayKind.WEEKEND


def _codes(exc: CalendarValidationError) -> list[tuple[str, str, str]]:
    return [(i.field, i.value, i.code) for i in exc.issues]


def test_override_errors_name_the_date_and_the_reason():
    base = default_russian_calendar()
    with pytest.raises(CalendarValidationError) as e:
        parse_overrides(
            {
                "add_holidays": ["2026-01-01", "2026-02-30", "2026-07-03", "2026-07-03"],
                "remove_holidays": ["2026-03-10", "2026-07-03"],
                "working_days": ["2026-03-09", "2026-03-11", "2026-03-14"],
                "shortened_days": ["2026-03-15", "2026-04-30"],
                "remove_shortened_days": ["2026-04-29"],
                "extra": [],
            },
            base,
        )
    got = _codes(e.value)
    assert ("extra", "extra", "unknown_key") in got
    assert ("add_holidays", "2026-01-01", "already_non_working") in got
    assert ("add_holidays", "2026-02-30", "invalid_date") in got
    assert ("add_holidays", "2026-07-03", "duplicate") in got
    assert ("remove_holidays", "2026-07-03", "conflict") in got
    assert ("remove_holidays", "2026-03-10", "not_a_holiday") in got
    assert ("working_days", "2026-03-09", "is_holiday") in got
    assert ("working_days", "2026-03-11", "already_working") in got
    assert ("shortened_days", "2026-03-15", "not_working") in got
    assert ("shortened_days", "2026-04-30", "already_shortened") in got
    assert ("remove_shortened_days", "2026-04-29", "not_shortened") in got
    assert ("working_days", "2026-03-14", "already_working") not in got
    # every issue has a Russian and an English text, and str() names the date
    for issue in e.value.issues:
        assert issue.message and issue.message_en
    assert "2026-03-10" in str(e.value)
    assert e.value.to_list()[0]["field"]


def test_override_shape_errors():
    base = default_russian_calendar()
    with pytest.raises(CalendarValidationError) as e:
        parse_overrides({"add_holidays": "2026-01-01", "working_days": [20260314, "1899-01-01"]}, base)
    got = _codes(e.value)
    assert ("add_holidays", "2026-01-01", "not_a_list") in got
    assert ("working_days", "20260314", "invalid_date") in got
    assert ("working_days", "1899-01-01", "year_out_of_range") in got
    with pytest.raises(CalendarValidationError):
        parse_overrides(["2026-01-01"], base)  # type: ignore[arg-type]


def test_empty_overrides():
    cal = russian_calendar(None)
    assert cal.overrides.is_empty()
    assert russian_calendar({}).overrides.is_empty()
