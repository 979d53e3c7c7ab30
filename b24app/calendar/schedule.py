"""Work schedules: time zone, working weekdays, hours, breaks, shortened days, per-date exceptions.

A :class:`WorkSchedule` says, for a local date of its time zone and a :class:`ProductionCalendar`, which
wall-clock intervals are working time (:meth:`WorkSchedule.day_intervals`). Times are minutes from local
midnight; ``"24:00"`` (1440) is allowed as an end so that round-the-clock schedules can be written.

How a date is decided, in this order:

1. a per-date exception wins over everything (``[]`` = day off, or its own intervals, never shortened);
2. with ``observe_calendar`` (the default): a holiday or transferred day off is non-working; a weekend day
   made working by the calendar is working (with the usual hours); otherwise the weekday decides;
   a shortened pre-holiday day loses ``shortened_by`` minutes (60) from the end of its working time;
   (an ordinary weekend day is working for a schedule whose weekdays include it; it is never shortened
   unless the calendar marks it so);
3. without ``observe_calendar``: only the weekdays decide (e.g. a round-the-clock duty schedule).

The production calendar describes a 5-day week; a schedule with other weekdays still gets the holidays
and the transfers as they are (a transferred working Saturday is working for everyone who observes the
calendar). Use per-date exceptions for anything else.

Company and per-user schedules: :func:`parse_schedule` with ``base=company`` builds a user's schedule
from a partial dict: missing keys are inherited, exceptions are merged (the user's win for the same date).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from b24app.calendar.errors import CalendarValidationError, Issue
from b24app.calendar.production import DayKind, ProductionCalendar

Interval = tuple[int, int]  # [start, end) in minutes from local midnight, 0 <= start < end <= 1440

DAY_MINUTES = 1440

_WEEKDAY_NAMES = {
    "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7,
    "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
    "пн": 1, "вт": 2, "ср": 3, "чт": 4, "пт": 5, "сб": 6, "вс": 7,
}  # fmt: skip

_TIME_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")

SCHEDULE_KEYS = (
    "timezone",
    "weekdays",
    "hours",
    "breaks",
    "shortened_by_minutes",
    "exceptions",
    "observe_calendar",
)


def format_minutes(minute: int) -> str:
    """``540`` -> ``"09:00"``; ``1440`` -> ``"24:00"``."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _load_zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class WorkSchedule:
    """A validated work schedule (construct directly with minutes, or from settings via :func:`parse_schedule`)."""

    timezone: str = "Europe/Moscow"
    weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO: 1 = Monday ... 7 = Sunday
    hours: Interval = (9 * 60, 18 * 60)
    breaks: tuple[Interval, ...] = ((13 * 60, 14 * 60),)
    shortened_by: int = 60  # minutes cut from the end of a shortened pre-holiday day
    exceptions: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=dict)
    observe_calendar: bool = True

    def __post_init__(self) -> None:
        issues = _validate(self)
        if issues:
            raise CalendarValidationError(issues)
        object.__setattr__(self, "exceptions", dict(self.exceptions))
        object.__setattr__(self, "weekdays", frozenset(self.weekdays))
        object.__setattr__(self, "breaks", tuple(sorted(self.breaks)))

    @property
    def tz(self) -> ZoneInfo:
        return _load_zone(self.timezone)

    def regular_intervals(self) -> tuple[Interval, ...]:
        """The intervals of an ordinary working day: the hours minus the breaks."""
        return _subtract(self.hours, self.breaks)

    def day_intervals(self, day: dt.date, calendar: ProductionCalendar | None) -> tuple[Interval, ...]:
        """Working intervals (local wall-clock minutes) of ``day``; empty for a day off."""
        if day in self.exceptions:
            return self.exceptions[day]
        if self.observe_calendar and calendar is not None:
            kind = calendar.day_kind(day)
            if kind in (DayKind.HOLIDAY, DayKind.DAY_OFF):
                return ()
            if kind is not DayKind.WORKING_WEEKEND and day.isoweekday() not in self.weekdays:
                return ()
            intervals = self.regular_intervals()
            if calendar.is_shortened(day):
                intervals = _cut_from_end(intervals, self.shortened_by)
            return intervals
        if day.isoweekday() not in self.weekdays:
            return ()
        return self.regular_intervals()

    def to_dict(self) -> dict[str, Any]:
        """The settings-document form (round-trips through :func:`parse_schedule`)."""
        return {
            "timezone": self.timezone,
            "weekdays": sorted(self.weekdays),
            "hours": f"{format_minutes(self.hours[0])}-{format_minutes(self.hours[1])}",
            "breaks": [f"{format_minutes(a)}-{format_minutes(b)}" for a, b in self.breaks],
            "shortened_by_minutes": self.shortened_by,
            "exceptions": {
                d.isoformat(): [f"{format_minutes(a)}-{format_minutes(b)}" for a, b in iv]
                for d, iv in sorted(self.exceptions.items())
            },
            "observe_calendar": self.observe_calendar,
        }


def _subtract(hours: Interval, breaks: Iterable[Interval]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    cur = hours[0]
    for a, b in sorted(breaks):
        if a > cur:
            out.append((cur, min(a, hours[1])))
        cur = max(cur, b)
    if cur < hours[1]:
        out.append((cur, hours[1]))
    return tuple((a, b) for a, b in out if a < b)


def _cut_from_end(intervals: tuple[Interval, ...], minutes: int) -> tuple[Interval, ...]:
    out = list(intervals)
    left = minutes
    while out and left > 0:
        a, b = out[-1]
        if b - a > left:
            out[-1] = (a, b - left)
            left = 0
        else:
            left -= b - a
            out.pop()
    return tuple(out)


def _iv_issue(fld: str, value: Any, code: str, ru: str, en: str) -> Issue:
    return Issue(field=fld, value=str(value), code=code, message=ru, message_en=en)


def _check_intervals(fld: str, intervals: Iterable[Interval], issues: list[Issue]) -> None:
    prev_end = -1
    for a, b in sorted(intervals):
        if not (0 <= a < b <= DAY_MINUTES):
            issues.append(
                _iv_issue(
                    fld,
                    f"{format_minutes(a)}-{format_minutes(b)}",
                    "bad_interval",
                    "начало должно быть раньше конца, в пределах суток",
                    "start must be before end, within the day",
                )
            )
            continue
        if a < prev_end:
            issues.append(
                _iv_issue(
                    fld,
                    f"{format_minutes(a)}-{format_minutes(b)}",
                    "overlap",
                    "интервалы пересекаются",
                    "intervals overlap",
                )
            )
        prev_end = max(prev_end, b)


def _validate(s: WorkSchedule) -> list[Issue]:
    issues: list[Issue] = []
    try:
        _load_zone(s.timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        issues.append(
            _iv_issue(
                "timezone",
                s.timezone,
                "unknown_timezone",
                "неизвестный часовой пояс (нужно имя IANA, например Europe/Moscow)",
                "unknown time zone (an IANA name such as Europe/Moscow is required)",
            )
        )
    for wd in s.weekdays:
        if not isinstance(wd, int) or not 1 <= wd <= 7:
            issues.append(
                _iv_issue("weekdays", wd, "bad_weekday", "день недели 1..7 (пн..вс)", "weekday must be 1..7 (Mon..Sun)")
            )
    a, b = s.hours
    if not (0 <= a < b <= DAY_MINUTES):
        issues.append(
            _iv_issue(
                "hours",
                f"{format_minutes(a)}-{format_minutes(b)}",
                "bad_interval",
                "начало рабочего дня должно быть раньше конца",
                "the working day must start before it ends",
            )
        )
    else:
        _check_intervals("breaks", s.breaks, issues)
        for x, y in s.breaks:
            if x < a or y > b:
                issues.append(
                    _iv_issue(
                        "breaks",
                        f"{format_minutes(x)}-{format_minutes(y)}",
                        "break_outside_hours",
                        "перерыв выходит за рабочие часы",
                        "the break lies outside the working hours",
                    )
                )
        if not _subtract(s.hours, s.breaks):
            issues.append(
                _iv_issue(
                    "breaks",
                    "",
                    "no_working_time",
                    "перерывы занимают весь рабочий день",
                    "the breaks cover the whole working day",
                )
            )
    if not isinstance(s.shortened_by, int) or not 0 <= s.shortened_by <= 240:
        issues.append(
            _iv_issue(
                "shortened_by_minutes",
                s.shortened_by,
                "bad_value",
                "сокращение должно быть от 0 до 240 минут",
                "the shortening must be 0..240 minutes",
            )
        )
    for day, intervals in s.exceptions.items():
        _check_intervals(f"exceptions.{day.isoformat()}", intervals, issues)
    return issues


# --- parsing from the settings document ----------------------------------------------------------------


def _parse_time(fld: str, raw: Any, issues: list[Issue]) -> int | None:
    if isinstance(raw, dt.time):
        return raw.hour * 60 + raw.minute
    m = _TIME_RE.match(raw) if isinstance(raw, str) else None
    if m:
        h, mi = int(m.group(1)), int(m.group(2))
        if (0 <= h <= 23 and 0 <= mi <= 59) or (h == 24 and mi == 0):
            return h * 60 + mi
    issues.append(_iv_issue(fld, raw, "bad_time", "время в формате ЧЧ:ММ", "time must be HH:MM"))
    return None


def _parse_interval(fld: str, raw: Any, issues: list[Issue]) -> Interval | None:
    if isinstance(raw, str) and "-" in raw:
        parts: list[Any] = raw.split("-", 1)
    elif isinstance(raw, Mapping):
        parts = [raw.get("start"), raw.get("end")]
    elif isinstance(raw, list | tuple) and len(raw) == 2:
        parts = list(raw)
    else:
        issues.append(
            _iv_issue(
                fld,
                raw,
                "bad_interval",
                'интервал: "09:00-18:00", ["09:00", "18:00"] или {"start", "end"}',
                'interval: "09:00-18:00", ["09:00", "18:00"] or {"start", "end"}',
            )
        )
        return None
    a = _parse_time(fld, parts[0], issues)
    b = _parse_time(fld, parts[1], issues)
    if a is None or b is None:
        return None
    return (a, b)


def _parse_interval_list(fld: str, raw: Any, issues: list[Issue]) -> tuple[Interval, ...] | None:
    if raw in ("off", None):
        return ()
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        issues.append(_iv_issue(fld, raw, "not_a_list", "ожидается список интервалов", "a list of intervals expected"))
        return None
    out: list[Interval] = []
    ok = True
    for item in raw:
        iv = _parse_interval(fld, item, issues)
        if iv is None:
            ok = False
        else:
            out.append(iv)
    return tuple(sorted(out)) if ok else None


def _parse_weekdays(raw: Any, issues: list[Issue]) -> frozenset[int] | None:
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        issues.append(_iv_issue("weekdays", raw, "not_a_list", "ожидается список дней", "a list of weekdays expected"))
        return None
    out: set[int] = set()
    for item in raw:
        if isinstance(item, bool):
            wd = None
        elif isinstance(item, int):
            wd = item if 1 <= item <= 7 else None
        elif isinstance(item, str):
            wd = _WEEKDAY_NAMES.get(item.strip().lower())
        else:
            wd = None
        if wd is None:
            issues.append(
                _iv_issue(
                    "weekdays",
                    item,
                    "bad_weekday",
                    "день недели: 1..7 или mon..sun / пн..вс",
                    "weekday: 1..7 or mon..sun",
                )
            )
        else:
            out.add(wd)
    return frozenset(out)


def parse_schedule(data: Mapping[str, Any] | None, *, base: WorkSchedule | None = None) -> WorkSchedule:
    """Build a :class:`WorkSchedule` from a settings dict; with ``base``, missing keys are inherited.

    Keys: ``timezone`` (IANA), ``weekdays`` (``[1..7]`` or ``"mon"``/``"пн"``), ``hours``
    (``"09:00-18:00"``), ``breaks`` (list of intervals), ``shortened_by_minutes``, ``exceptions``
    (``{"2026-03-06": ["10:00-16:00"], "2026-03-10": []}``; ``[]`` or ``"off"`` = day off),
    ``observe_calendar`` (bool). Raises :class:`CalendarValidationError` with every problem found.
    """
    base = base or WorkSchedule()
    data = data or {}
    issues: list[Issue] = []
    if not isinstance(data, Mapping):
        raise CalendarValidationError(
            [_iv_issue("schedule", data, "not_a_mapping", "ожидается словарь", "a mapping is expected")]
        )
    for key in data:
        if key not in SCHEDULE_KEYS:
            issues.append(
                _iv_issue(
                    str(key),
                    key,
                    "unknown_key",
                    f"неизвестный ключ; допустимы: {', '.join(SCHEDULE_KEYS)}",
                    f"unknown key; allowed: {', '.join(SCHEDULE_KEYS)}",
                )
            )
    kwargs: dict[str, Any] = {
        "timezone": base.timezone,
        "weekdays": base.weekdays,
        "hours": base.hours,
        "breaks": base.breaks,
        "shortened_by": base.shortened_by,
        "exceptions": dict(base.exceptions),
        "observe_calendar": base.observe_calendar,
    }
    if "timezone" in data:
        tz = data["timezone"]
        if not isinstance(tz, str) or not tz:
            issues.append(_iv_issue("timezone", tz, "unknown_timezone", "нужно имя IANA", "an IANA name is required"))
        else:
            kwargs["timezone"] = tz
    if "weekdays" in data:
        wds = _parse_weekdays(data["weekdays"], issues)
        if wds is not None:
            kwargs["weekdays"] = wds
    if "hours" in data:
        iv = _parse_interval("hours", data["hours"], issues)
        if iv is not None:
            kwargs["hours"] = iv
    if "breaks" in data:
        brs = _parse_interval_list("breaks", data["breaks"], issues)
        if brs is not None:
            kwargs["breaks"] = brs
    if "shortened_by_minutes" in data:
        sb = data["shortened_by_minutes"]
        if isinstance(sb, bool) or not isinstance(sb, int):
            issues.append(_iv_issue("shortened_by_minutes", sb, "bad_value", "нужно целое число минут", "integer minutes"))
        else:
            kwargs["shortened_by"] = sb
    if "observe_calendar" in data:
        oc = data["observe_calendar"]
        if not isinstance(oc, bool):
            issues.append(_iv_issue("observe_calendar", oc, "bad_value", "нужно true или false", "true or false"))
        else:
            kwargs["observe_calendar"] = oc
    if "exceptions" in data:
        exc = data["exceptions"]
        if not isinstance(exc, Mapping):
            issues.append(
                _iv_issue("exceptions", exc, "not_a_mapping", "ожидается словарь дата -> интервалы", "date -> intervals")
            )
        else:
            merged = dict(kwargs["exceptions"])
            for key, value in exc.items():
                fld = f"exceptions.{key}"
                try:
                    day = key if isinstance(key, dt.date) else dt.date.fromisoformat(str(key))
                except ValueError:
                    issues.append(_iv_issue(fld, key, "invalid_date", "неверная дата ГГГГ-ММ-ДД", "invalid date"))
                    continue
                ivs = _parse_interval_list(fld, value, issues)
                if ivs is not None:
                    merged[day] = ivs
            kwargs["exceptions"] = merged
    if issues:
        raise CalendarValidationError(issues)
    return WorkSchedule(**kwargs)
