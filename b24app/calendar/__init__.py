"""Business calendar: the production calendar (holidays, transfers, shortened days), work schedules and
working-time arithmetic. Pure logic: no I/O, no clock, no Flask, no database.

Typical use by a feature::

    from b24app.calendar import BusinessCalendar, parse_schedule, russian_calendar

    calendar = russian_calendar(settings["calendar"])          # default + the portal's overrides
    company = parse_schedule(settings["schedule"])              # the company schedule
    user = parse_schedule(settings["users"]["17"], base=company)  # a user's own schedule
    bc = BusinessCalendar(user, calendar)                       # reuse: it caches per year
    due = bc.add_working_hours(now, 4)
"""

from b24app.calendar.business import BusinessCalendar, business_calendar_from_settings
from b24app.calendar.errors import CalendarValidationError, Issue, NaiveDatetimeError, NoWorkingTimeError
from b24app.calendar.production import (
    CalendarOverrides,
    DayKind,
    ProductionCalendar,
    YearCalendar,
    default_russian_calendar,
    parse_overrides,
    russian_calendar,
    statutory_year_ru,
)
from b24app.calendar.schedule import WorkSchedule, parse_schedule

__all__ = [
    "BusinessCalendar",
    "CalendarOverrides",
    "CalendarValidationError",
    "DayKind",
    "Issue",
    "NaiveDatetimeError",
    "NoWorkingTimeError",
    "ProductionCalendar",
    "WorkSchedule",
    "YearCalendar",
    "business_calendar_from_settings",
    "default_russian_calendar",
    "parse_overrides",
    "parse_schedule",
    "russian_calendar",
    "statutory_year_ru",
]
