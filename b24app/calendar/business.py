"""Business-time arithmetic: a production calendar plus a work schedule.

:class:`BusinessCalendar` answers "is this working time", "when is the next working moment", "what is
N working minutes/hours/days after this moment" and "how much working time lies between two moments".

Rules shared by every operation
- Inputs are aware datetimes in any time zone; a naive datetime raises :class:`NaiveDatetimeError`.
  Work is computed in the schedule's time zone; results are returned in the schedule's time zone, so the
  same instant given in any zone gives the same result.
- Working time is measured in real elapsed time. The local wall-clock intervals of each day are turned
  into instants with the zone's rules: DST-safe (a wall time inside a spring-forward gap moves forward by
  the gap; an ambiguous wall time takes its first occurrence).
- Working intervals are half-open ``[start, end)``: 09:00 is working time, 18:00 is not.
- Speed: each year is precomputed once (per-day intervals and prefix sums of working time and working
  days), so every operation is O(days touched in its first and last day + log 366 per year crossed);
  nothing walks minute by minute. Reuse one instance per (calendar, schedule): the caches live in it.

Semantics
- ``add_working_minutes(dt, n)`` (``n >= 0``): the earliest instant ``t`` such that the working time in
  ``[dt, t]`` equals ``n`` minutes. Thus ``n == 0`` returns ``dt`` itself, and a result may be the end of
  a working interval (e.g. 18:00 or the 13:00 start of a break) rather than the next opening: a task due
  "in 2 working hours" from 16:00 is due at 18:00 the same day, not at 09:00 the next. It is additive:
  ``add(add(dt, a), b) == add(dt, a + b)``, and ``working_minutes_between(dt, add(dt, n)) == n``.
- ``add_working_days(dt, d)`` (``d >= 0``): start from ``next_working_moment(dt)`` (``dt`` itself when it
  is working time); take the working time already elapsed on that day, ``e``; go to the ``d``-th working
  day after it and return the moment at which the same ``e`` has elapsed there (the later of two
  candidates at a break, i.e. the opening after it); if that day is shorter (a shortened or exception day),
  the day's end. Friday 15:00 + 3 working days = Wednesday 15:00 of the next week (holidays skipped);
  Friday 20:00 + 3 = Thursday 09:00 (Friday 20:00 starts at Monday 09:00). ``d == 0`` returns the start.
- ``working_days_between(a, b)``: for ``a <= b`` the largest ``k`` with ``add_working_days(a, k) <= b``;
  for ``a > b`` it is ``-working_days_between(b, a)``.
- ``working_minutes_between(a, b)``: working minutes in ``[a, b)``, negative when ``b < a``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from b24app.calendar.errors import NaiveDatetimeError, NoWorkingTimeError
from b24app.calendar.production import ProductionCalendar, default_russian_calendar, russian_calendar
from b24app.calendar.schedule import DAY_MINUTES, WorkSchedule, parse_schedule

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
US = dt.timedelta(microseconds=1)
MINUTE_US = 60_000_000
HORIZON_YEARS = 20  # how far to look for working time before deciding the schedule has none


def to_us(moment: dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveDatetimeError(f"aware datetime required, got naive {moment.isoformat()}")
    return (moment - EPOCH) // US


@dataclass(frozen=True)
class _Day:
    intervals: tuple[tuple[int, int], ...]  # instants (us) of the working intervals, sorted, disjoint
    total: int  # working us of the day

    def elapsed(self, t: int) -> int:
        """Working us of this day before instant ``t``."""
        acc = 0
        for a, b in self.intervals:
            if t <= a:
                break
            acc += min(t, b) - a
        return acc

    def at_elapsed_earliest(self, e: int) -> int:
        """The earliest instant with ``e`` us elapsed (``0 < e <= total``)."""
        for a, b in self.intervals:
            if e <= b - a:
                return a + e
            e -= b - a
        return self.intervals[-1][1]

    def at_elapsed_latest(self, e: int) -> int:
        """The latest instant with ``e`` us elapsed, clamped to the day's end (``e >= 0``)."""
        for a, b in self.intervals:
            if e < b - a:
                return a + e
            e -= b - a
        return self.intervals[-1][1]


@dataclass
class _Year:
    first: dt.date
    days: list[_Day]
    cum_us: list[int]  # cum_us[i] = working us of days[0..i)
    cum_days: list[int]  # cum_days[i] = working days among days[0..i)


class BusinessCalendar:
    """Working-time arithmetic for one work schedule on one production calendar."""

    def __init__(self, schedule: WorkSchedule | None = None, calendar: ProductionCalendar | None = None):
        self.schedule = schedule or WorkSchedule()
        self.calendar = calendar if calendar is not None else default_russian_calendar()
        self.tz = self.schedule.tz
        self._years: dict[int, _Year] = {}

    # --- building blocks ---------------------------------------------------------------------------
    def _wall_us(self, day: dt.date, minute: int) -> int:
        if minute >= DAY_MINUTES:
            day = day + dt.timedelta(days=minute // DAY_MINUTES)
            minute %= DAY_MINUTES
        local = dt.datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.tz)
        return to_us(local)

    def _build_day(self, day: dt.date) -> _Day:
        spans: list[tuple[int, int]] = []
        for a, b in self.schedule.day_intervals(day, self.calendar):
            ua, ub = self._wall_us(day, a), self._wall_us(day, b)
            if ua < ub:
                spans.append((ua, ub))
        spans.sort()
        merged: list[tuple[int, int]] = []
        for a, b in spans:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        return _Day(tuple(merged), sum(b - a for a, b in merged))

    def _year(self, year: int) -> _Year:
        y = self._years.get(year)
        if y is None:
            first = dt.date(year, 1, 1)
            n = (dt.date(year, 12, 31) - first).days + 1
            days = [self._build_day(first + dt.timedelta(days=i)) for i in range(n)]
            cum_us = [0]
            cum_days = [0]
            for d in days:
                cum_us.append(cum_us[-1] + d.total)
                cum_days.append(cum_days[-1] + (1 if d.total > 0 else 0))
            y = _Year(first, days, cum_us, cum_days)
            self._years[year] = y
        return y

    def _day(self, day: dt.date) -> _Day:
        y = self._year(day.year)
        return y.days[(day - y.first).days]

    def _local_date(self, us: int) -> dt.date:
        return (EPOCH + dt.timedelta(microseconds=us)).astimezone(self.tz).date()

    def _out(self, us: int) -> dt.datetime:
        return (EPOCH + dt.timedelta(microseconds=us)).astimezone(self.tz)

    def _us_in_days(self, start: dt.date, end: dt.date) -> int:
        """Working us of the whole days in ``[start, end)``."""
        total = 0
        d = start
        while d < end:
            y = self._year(d.year)
            i = (d - y.first).days
            if end.year == d.year:
                j = (end - y.first).days
                return total + y.cum_us[j] - y.cum_us[i]
            total += y.cum_us[-1] - y.cum_us[i]
            d = dt.date(d.year + 1, 1, 1)
        return total

    def _days_in(self, start: dt.date, end: dt.date) -> int:
        """Working days in ``[start, end)``."""
        total = 0
        d = start
        while d < end:
            y = self._year(d.year)
            i = (d - y.first).days
            if end.year == d.year:
                j = (end - y.first).days
                return total + y.cum_days[j] - y.cum_days[i]
            total += y.cum_days[-1] - y.cum_days[i]
            d = dt.date(d.year + 1, 1, 1)
        return total

    def _find_by_us(self, start: dt.date, need: int) -> tuple[dt.date, int]:
        """The first day ``D >= start`` by whose end ``need > 0`` working us have accumulated since
        ``start``; returns ``(D, us still needed inside D)``."""
        d = start
        for _ in range(HORIZON_YEARS + 1):
            y = self._year(d.year)
            i = (d - y.first).days
            target = y.cum_us[i] + need
            j = bisect_left(y.cum_us, target, lo=i + 1)
            if j < len(y.cum_us):
                day_index = j - 1
                return y.first + dt.timedelta(days=day_index), target - y.cum_us[day_index]
            need = target - y.cum_us[-1]
            d = dt.date(d.year + 1, 1, 1)
        raise NoWorkingTimeError(f"no working time within {HORIZON_YEARS} years after {start.isoformat()}")

    def _nth_working_day(self, start: dt.date, k: int) -> dt.date:
        """The ``k``-th (``k >= 1``) working day on or after ``start``."""
        d = start
        for _ in range(HORIZON_YEARS + 1):
            y = self._year(d.year)
            i = (d - y.first).days
            target = y.cum_days[i] + k
            j = bisect_left(y.cum_days, target, lo=i + 1)
            if j < len(y.cum_days):
                return y.first + dt.timedelta(days=j - 1)
            k = target - y.cum_days[-1]
            d = dt.date(d.year + 1, 1, 1)
        raise NoWorkingTimeError(f"no working day within {HORIZON_YEARS} years after {start.isoformat()}")

    def _next_working_us(self, t: int) -> int:
        day = self._local_date(t)
        for a, b in self._day(day).intervals:
            if t < b:
                return max(t, a)
        nxt = self._nth_working_day(day + dt.timedelta(days=1), 1)
        return self._day(nxt).intervals[0][0]

    # --- public operations --------------------------------------------------------------------------
    def day_intervals(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The working intervals of a local date, as aware datetimes in the schedule's zone."""
        return [(self._out(a), self._out(b)) for a, b in self._day(day).intervals]

    def is_working_day(self, day: dt.date) -> bool:
        """True when the local date (of the schedule's zone) has any working time."""
        if isinstance(day, dt.datetime):
            day = self._local_date(to_us(day))
        return self._day(day).total > 0

    def is_working_time(self, moment: dt.datetime) -> bool:
        t = to_us(moment)
        return any(a <= t < b for a, b in self._day(self._local_date(t)).intervals)

    def next_working_moment(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself when it is working time, else the start of the next working interval."""
        return self._out(self._next_working_us(to_us(moment)))

    def add_working_time(self, moment: dt.datetime, delta: dt.timedelta) -> dt.datetime:
        """See the module docstring (``add_working_minutes``); ``delta`` must not be negative."""
        n = delta // US
        if n < 0:
            raise ValueError("working time to add must not be negative")
        t = to_us(moment)
        if n == 0:
            return self._out(t)
        day = self._local_date(t)
        current = self._day(day)
        for a, b in current.intervals:
            if t >= b:
                continue
            start = max(t, a)
            if n <= b - start:
                return self._out(start + n)
            n -= b - start
        target_day, rest = self._find_by_us(day + dt.timedelta(days=1), n)
        return self._out(self._day(target_day).at_elapsed_earliest(rest))

    def add_working_minutes(self, moment: dt.datetime, minutes: float) -> dt.datetime:
        return self.add_working_time(moment, dt.timedelta(minutes=minutes))

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        return self.add_working_time(moment, dt.timedelta(hours=hours))

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """See the module docstring; ``days`` must not be negative."""
        if days < 0:
            raise ValueError("working days to add must not be negative")
        start = self._next_working_us(to_us(moment))
        if days == 0:
            return self._out(start)
        d0 = self._local_date(start)
        elapsed = self._day(d0).elapsed(start)
        target = self._nth_working_day(d0 + dt.timedelta(days=1), days)
        return self._out(self._day(target).at_elapsed_latest(elapsed))

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Working time in ``[a, b)`` (negative when ``b < a``)."""
        ta, tb = to_us(a), to_us(b)
        if tb < ta:
            return -self.working_time_between(b, a)
        da, db = self._local_date(ta), self._local_date(tb)
        if da == db:
            day = self._day(da)
            total = day.elapsed(tb) - day.elapsed(ta)
        else:
            first = self._day(da)
            last = self._day(db)
            total = (first.total - first.elapsed(ta)) + self._us_in_days(da + dt.timedelta(days=1), db)
            total += last.elapsed(tb)
        return dt.timedelta(microseconds=total)

    def working_minutes_between(self, a: dt.datetime, b: dt.datetime) -> float:
        return self.working_time_between(a, b) / dt.timedelta(minutes=1)

    def working_hours_between(self, a: dt.datetime, b: dt.datetime) -> float:
        return self.working_time_between(a, b) / dt.timedelta(hours=1)

    def working_days_between(self, a: dt.datetime, b: dt.datetime) -> int:
        """See the module docstring."""
        ta, tb = to_us(a), to_us(b)
        if tb < ta:
            return -self.working_days_between(b, a)
        start = self._next_working_us(ta)
        if tb < start:
            return 0
        d0 = self._local_date(start)
        db = self._local_date(tb)
        count = self._days_in(d0 + dt.timedelta(days=1), db + dt.timedelta(days=1))
        if count == 0:
            return 0
        last = self._day(db)
        if last.total > 0:
            elapsed = self._day(d0).elapsed(start)
            if last.at_elapsed_latest(elapsed) > tb:
                count -= 1
        return count

    def working_days_in_range(self, first: dt.date, last: dt.date) -> int:
        """Number of working days among the local dates ``[first, last]``."""
        if last < first:
            return 0
        return self._days_in(first, last + dt.timedelta(days=1))


def business_calendar_from_settings(
    calendar_overrides: Mapping[str, Any] | None = None,
    company_schedule: Mapping[str, Any] | None = None,
    user_schedule: Mapping[str, Any] | None = None,
) -> BusinessCalendar:
    """A :class:`BusinessCalendar` from the settings document's plain dicts: the Russian calendar with the
    portal's overrides, the company schedule, and optionally a user's schedule on top of it.

    Raises :class:`~b24app.calendar.errors.CalendarValidationError` listing what is wrong. Build it once
    per (portal, user) and reuse it: each instance caches its years.
    """
    company = parse_schedule(company_schedule)
    schedule = parse_schedule(user_schedule, base=company) if user_schedule is not None else company
    return BusinessCalendar(schedule, russian_calendar(calendar_overrides))
