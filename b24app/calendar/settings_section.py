"""The "calendar" section of the settings document: the company's work schedule, the portal's
changes to the production calendar, and users' own schedules. Features get a ready
:class:`BusinessCalendar` from :func:`business_calendar`.

```yaml
calendar:
  schedule: {timezone: Europe/Moscow, weekdays: [1, 2, 3, 4, 5], hours: "09:00-18:00", breaks: ["13:00-14:00"]}
  overrides: {add_holidays: ["2026-12-31"], working_days: [], shortened_days: []}
  users:
    "5": {hours: "10:00-19:00"}        # Зуева works 10-19
    "7": {timezone: Asia/Yekaterinburg}
```
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from b24app.calendar import BusinessCalendar, CalendarValidationError, parse_schedule, russian_calendar
from b24app.calendar.production import default_russian_calendar, parse_overrides
from b24app.settings.schema import Issues, Map, Obj, Raw

DEFAULT_SCHEDULE = {"timezone": "Europe/Moscow", "weekdays": [1, 2, 3, 4, 5], "hours": "09:00-18:00",
                    "breaks": ["13:00-14:00"]}


def _report(err: CalendarValidationError, path: str, issues: Issues) -> None:
    for i in err.issues:
        where = f"{path}.{i.field}" if i.field else path
        issues.add(where, f"{i.message} ({i.value})", f"{i.message_en} ({i.value})")


def _check(value: dict[str, Any], path: str, issues: Issues) -> None:
    join = (lambda k: f"{path}.{k}") if path else (lambda k: k)
    company = None
    try:
        company = parse_schedule(value.get("schedule") or {})
    except CalendarValidationError as err:
        _report(err, join("schedule"), issues)
    try:
        parse_overrides(value.get("overrides") or {}, default_russian_calendar())
    except CalendarValidationError as err:
        _report(err, join("overrides"), issues)
    for user_id, sched in (value.get("users") or {}).items():
        if not str(user_id).isdigit():
            issues.add(join(f"users.{user_id}"), "ключ — ID пользователя", "the key must be a user ID")
            continue
        try:
            parse_schedule(sched or {}, base=company)
        except CalendarValidationError as err:
            _report(err, join(f"users.{user_id}"), issues)


SCHEMA = Obj(
    fields={
        "schedule": Map(value=Raw(), default=lambda: dict(DEFAULT_SCHEDULE), description="company work schedule"),
        "overrides": Map(value=Raw(), default=dict, description="changes to the Russian production calendar"),
        "users": Map(value=Raw(), default=dict,
                     description="users' own schedules (partial; missing keys from the company's)"),
    },
    rules=(_check,),
)


@lru_cache(maxsize=256)
def _build(schedule_key: str, overrides_key: str, user_key: str) -> BusinessCalendar:
    import json

    company = parse_schedule(json.loads(schedule_key))
    sched = parse_schedule(json.loads(user_key), base=company) if user_key != "null" else company
    return BusinessCalendar(sched, russian_calendar(json.loads(overrides_key)))


def business_calendar(settings: dict[str, Any], user_id: int | None = None) -> BusinessCalendar:
    """The business calendar of the company, or of ``user_id`` when the user has a schedule."""
    import json

    cal = settings.get("calendar") or {}
    user = (cal.get("users") or {}).get(str(user_id)) if user_id is not None else None
    return _build(json.dumps(cal.get("schedule") or DEFAULT_SCHEDULE, sort_keys=True),
                  json.dumps(cal.get("overrides") or {}, sort_keys=True), json.dumps(user, sort_keys=True))
