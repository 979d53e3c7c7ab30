from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from b24app.calendar.settings_section import business_calendar
from b24app.settings import document


def test_calendar_section_defaults_and_errors() -> None:
    doc = document.defaults()
    assert doc["calendar"]["schedule"]["hours"] == "09:00-18:00"
    _, issues = document.check({"calendar": {"schedule": {"hours": "25:00-18:00", "colour": 1},
                                             "overrides": {"add_holidays": ["not a date"]},
                                             "users": {"abc": {}, "5": {"timezone": 7}}}})
    paths = [i.path for i in issues]
    assert any(p.startswith("calendar.schedule") for p in paths)
    assert any(p.startswith("calendar.overrides") for p in paths)
    assert "calendar.users.abc" in paths
    assert any(p.startswith("calendar.users.5") for p in paths)


def test_business_calendar_per_user() -> None:
    doc, _ = document.check({"calendar": {"users": {"5": {"hours": "10:00-19:00"}}}})
    msk = ZoneInfo("Europe/Moscow")
    monday_9 = dt.datetime(2026, 11, 23, 9, 30, tzinfo=msk)
    assert business_calendar(doc).is_working_time(monday_9)
    assert not business_calendar(doc, 5).is_working_time(monday_9)
    assert business_calendar(doc, 5).is_working_time(monday_9.replace(hour=18, minute=30))
    new_year = dt.datetime(2027, 1, 1, 12, tzinfo=msk)
    assert not business_calendar(doc).is_working_time(new_year)
