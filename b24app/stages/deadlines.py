"""Deadline arithmetic of the stages feature, on a business calendar. Pure: no I/O, no clock.

- Task deadlines: ``working_hours`` / ``working_days`` after the moment the task is created, on the
  responsible's calendar (``BusinessCalendar.add_working_*``: holidays, transfers, shortened days and
  breaks are skipped; the result is in the calendar's time zone).
- Stage limits (SLA): the limit counts from the stage entry (``working_hours``/``working_days``), or is a
  date field of the item, optionally plus working time. A date without a time (or at 00:00:00) means the
  whole day: the item is late once that local day is over. An empty date is either not watched
  (``empty_date: skip``) or counted from the stage entry (``empty_date: entry``) — never "hung".
- Escalation: step ``k`` is due once ``after_hours`` working hours have passed since the limit.
- Overdue payments: days overdue are calendar days after the due date (or working days, when set).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from b24app.calendar import BusinessCalendar
from b24app.stages.model import Limit, PayStep, Step

_DMY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")


def parse_moment(value: Any, tz: dt.tzinfo) -> tuple[dt.datetime, bool] | None:
    """A portal date or date-time as an aware datetime and whether it carries a time of day.

    Accepts ISO 8601 (``2026-11-05``, ``2026-11-05T15:00:00+03:00``) and the portal's ``05.11.2026
    [15:00[:00]]``; values without an offset are taken in ``tz``. A value at exactly 00:00:00 (in the
    offset it is written with) counts as a date without a time: that is how portals write date fields."""
    if value is None or value is False:
        return None
    text = str(value).strip()
    if not text:
        return None
    m = _DMY.match(text)
    try:
        if m:
            d, mo, y, hh, mm, ss = m.groups()
            moment = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        else:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment, (moment.hour, moment.minute, moment.second, moment.microsecond) != (0, 0, 0, 0)


def parse_date(value: Any, tz: dt.tzinfo) -> dt.date | None:
    """The local date of a portal date/date-time value."""
    got = parse_moment(value, tz)
    if got is None:
        return None
    moment, has_time = got
    if not has_time:
        return dt.date(moment.year, moment.month, moment.day)
    return moment.astimezone(tz).date()


def task_deadline(start: dt.datetime, spec: dict[str, Any], bc: BusinessCalendar) -> dt.datetime | None:
    """The deadline of a task created at ``start``: ``{working_hours: h}`` or ``{working_days: d}``."""
    if spec.get("working_hours") is not None:
        return bc.add_working_hours(start, float(spec["working_hours"]))
    if spec.get("working_days") is not None:
        return bc.add_working_days(start, int(spec["working_days"]))
    return None


def day_end(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant a local day is over (the next day's 00:00 in ``tz``)."""
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)


def nth_working_day_after(day: dt.date, n: int, bc: BusinessCalendar) -> dt.date:
    """The ``n``-th working day after ``day`` (``n == 0``: ``day`` itself)."""
    d = day
    left = n
    while left > 0:
        d += dt.timedelta(days=1)
        if bc.is_working_day(d):
            left -= 1
    return d


def limit_due(limit: Limit, entered_at: dt.datetime | None, date_value: Any,
              bc: BusinessCalendar) -> dt.datetime | None:
    """When an item in ``limit``'s stage becomes late; None when it is not watched."""
    if limit.date_field:
        got = parse_moment(date_value, bc.tz)
        if got is not None:
            moment, has_time = got
            if not has_time:
                day = dt.date(moment.year, moment.month, moment.day)
                if limit.working_days:
                    day = nth_working_day_after(day, limit.working_days, bc)
                base = day_end(day, bc.tz)
                return bc.add_working_hours(base, limit.working_hours) if limit.working_hours else base
            if limit.working_days:
                return bc.add_working_days(moment, limit.working_days)
            return bc.add_working_hours(moment, limit.working_hours or 0) if limit.working_hours else moment
        if limit.empty_date != "entry" or entered_at is None:
            return None
        if limit.working_hours is None and limit.working_days is None:
            return bc.next_working_moment(entered_at)
    if entered_at is None:
        return None
    if limit.working_days is not None:
        return bc.add_working_days(entered_at, limit.working_days)
    return bc.add_working_hours(entered_at, limit.working_hours or 0)


def late_hours(due: dt.datetime, now: dt.datetime, bc: BusinessCalendar) -> float:
    """Working hours since ``due`` (0 before it)."""
    if now <= due:
        return 0.0
    return max(0.0, bc.working_hours_between(due, now))


def steps_due(steps: Sequence[Step], due: dt.datetime | None, now: dt.datetime,
              bc: BusinessCalendar) -> list[int]:
    """Indices of the escalation steps whose time has come (none before the limit)."""
    if due is None or now < due:
        return []
    late = late_hours(due, now, bc)
    return [i for i, s in enumerate(steps) if late + 1e-9 >= s.after_hours]


def days_overdue(due: dt.date | None, today: dt.date, mode: str = "calendar",
                 bc: BusinessCalendar | None = None) -> int:
    """Whole days after the due date (0 on the due date and before it)."""
    if due is None or today <= due:
        return 0
    if mode == "working" and bc is not None:
        return bc.working_days_in_range(due + dt.timedelta(days=1), today)
    return (today - due).days


def pay_steps_due(steps: Sequence[PayStep], days: int, outstanding: float) -> list[PayStep]:
    """The steps of the overdue-payment path reached at ``days`` overdue; none once paid."""
    if outstanding <= 0.005 or days <= 0:
        return []
    return [s for s in steps if days >= s.days]
