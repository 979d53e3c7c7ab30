"""The production calendar: which dates are working days, holidays, transferred days, shortened days.

A :class:`ProductionCalendar` answers for any date, for a 5-day week (Saturday and Sunday are the
weekend): its :class:`DayKind` and whether it is a shortened pre-holiday day. It is built from

1. the shipped data of :mod:`b24app.calendar.data.ru` (2024-2027; 2027 provisional),
2. for other years, the statutory rules of the Labour Code (:func:`statutory_year_ru`, provisional),
3. the portal's overrides from the settings document (:func:`parse_overrides`), applied last.

Overrides are a plain dict (see :func:`parse_overrides` for the keys); every entry must change something
relative to the default calendar, so that a date typed into the wrong list or the wrong year is reported
instead of silently ignored. Errors name the key, the entry and the reason (:class:`CalendarValidationError`).

Pure and deterministic: no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from b24app.calendar.data.ru import RU_YEARS, STATUTORY_HOLIDAYS
from b24app.calendar.errors import CalendarValidationError, Issue

MIN_YEAR = 2000
MAX_YEAR = 2100


class DayKind(StrEnum):
    """What a date is in the production calendar (5-day week)."""

    WORKING = "working"  # an ordinary working weekday
    WEEKEND = "weekend"  # an ordinary Saturday or Sunday
    HOLIDAY = "holiday"  # a non-working public holiday
    DAY_OFF = "day_off"  # a weekday made a day off (transfer)
    WORKING_WEEKEND = "working_weekend"  # a Saturday/Sunday made a working day (transfer)

    @property
    def is_working(self) -> bool:
        return self in (DayKind.WORKING, DayKind.WORKING_WEEKEND)


@dataclass(frozen=True)
class YearCalendar:
    """One year of a production calendar. ``source`` says where the facts come from."""

    year: int
    holidays: Mapping[dt.date, str]
    days_off: frozenset[dt.date]
    working_days: frozenset[dt.date]
    shortened: frozenset[dt.date]
    source: str
    provisional: bool


def _parse_iso(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def year_from_data(year: int, data: Mapping[str, Any]) -> YearCalendar:
    """Build a :class:`YearCalendar` from the shipped-data shape (ISO strings)."""
    return YearCalendar(
        year=year,
        holidays={_parse_iso(k): v for k, v in data["holidays"].items()},
        days_off=frozenset(_parse_iso(d) for d in data["days_off"]),
        working_days=frozenset(_parse_iso(d) for d in data["working_days"]),
        shortened=frozenset(_parse_iso(d) for d in data["shortened"]),
        source=str(data["source"]),
        provisional=bool(data["provisional"]),
    )


def statutory_year_ru(year: int) -> YearCalendar:
    """The Russian calendar of ``year`` from the Labour Code alone (no government decree): provisional.

    - holidays of art. 112 part 1;
    - art. 112 part 2: a Saturday/Sunday that coincides with a holiday other than 1-8 January moves to
      the next working day after the holiday (the January ones are moved only by the decree);
    - art. 95: a working day immediately followed by a holiday is one hour shorter.
    """
    holidays = {dt.date(year, m, d): name for m, d, name in STATUTORY_HOLIDAYS}
    days_off: set[dt.date] = set()
    for day in sorted(holidays):
        if day.month == 1 and day.day <= 8:
            continue
        if day.weekday() >= 5:
            nxt = day + dt.timedelta(days=1)
            while nxt.weekday() >= 5 or nxt in holidays or nxt in days_off:
                nxt += dt.timedelta(days=1)
            days_off.add(nxt)

    def working(d: dt.date) -> bool:
        return d.weekday() < 5 and d not in holidays and d not in days_off

    shortened = set()
    first = dt.date(year, 1, 1)
    for offset in range((dt.date(year, 12, 31) - first).days + 1):
        d = first + dt.timedelta(days=offset)
        nxt = d + dt.timedelta(days=1)
        if not working(d):
            continue
        if nxt.year == year:
            if nxt in holidays:
                shortened.add(d)
        elif (nxt.month, nxt.day) == (1, 1):
            shortened.add(d)  # 31 December before the New Year holidays
    return YearCalendar(
        year=year,
        holidays=holidays,
        days_off=frozenset(days_off),
        working_days=frozenset(),
        shortened=frozenset(shortened),
        source="ТК РФ ст. 95, 112 (без постановления о переносе выходных дней)",
        provisional=True,
    )


@dataclass(frozen=True)
class CalendarOverrides:
    """A portal's changes to the default calendar (validated: see :func:`parse_overrides`)."""

    add_holidays: Mapping[dt.date, str] = field(default_factory=dict)
    remove_holidays: frozenset[dt.date] = frozenset()
    working_days: frozenset[dt.date] = frozenset()
    shortened_days: frozenset[dt.date] = frozenset()
    remove_shortened_days: frozenset[dt.date] = frozenset()

    def is_empty(self) -> bool:
        return not (
            self.add_holidays
            or self.remove_holidays
            or self.working_days
            or self.shortened_days
            or self.remove_shortened_days
        )

    def to_dict(self) -> dict[str, list[Any]]:
        """The settings-document form (round-trips through :func:`parse_overrides`)."""
        return {
            "add_holidays": [
                {"date": d.isoformat(), "name": n} if n else d.isoformat()
                for d, n in sorted(self.add_holidays.items())
            ],
            "remove_holidays": [d.isoformat() for d in sorted(self.remove_holidays)],
            "working_days": [d.isoformat() for d in sorted(self.working_days)],
            "shortened_days": [d.isoformat() for d in sorted(self.shortened_days)],
            "remove_shortened_days": [d.isoformat() for d in sorted(self.remove_shortened_days)],
        }


class ProductionCalendar:
    """A production calendar: shipped years, a generator for other years, and the portal's overrides.

    Immutable; :meth:`with_overrides` returns a new calendar.
    """

    def __init__(
        self,
        years: Mapping[int, YearCalendar],
        *,
        fallback: Callable[[int], YearCalendar] = statutory_year_ru,
        overrides: CalendarOverrides | None = None,
        name: str = "RU",
    ) -> None:
        self.name = name
        self._years: dict[int, YearCalendar] = dict(years)
        self._fallback = fallback
        self._generated: dict[int, YearCalendar] = {}
        self.overrides: CalendarOverrides = overrides or CalendarOverrides()

    # --- years -------------------------------------------------------------------------------------
    def year(self, year: int) -> YearCalendar:
        """The default (override-free) data of ``year``: shipped, or generated by the fallback rules."""
        if year in self._years:
            return self._years[year]
        cached = self._generated.get(year)
        if cached is None:
            cached = self._fallback(year)
            self._generated[year] = cached
        return cached

    @property
    def shipped_years(self) -> tuple[int, ...]:
        return tuple(sorted(self._years))

    def is_provisional(self, year: int) -> bool:
        """True when the year's transfers are not confirmed by a decree (generated or marked so)."""
        return self.year(year).provisional

    # --- days --------------------------------------------------------------------------------------
    def default_kind(self, day: dt.date) -> DayKind:
        """The kind of ``day`` ignoring the portal's overrides."""
        y = self.year(day.year)
        if day in y.holidays:
            return DayKind.HOLIDAY
        if day in y.days_off:
            return DayKind.DAY_OFF
        weekend = day.weekday() >= 5
        if day in y.working_days:
            return DayKind.WORKING_WEEKEND if weekend else DayKind.WORKING
        return DayKind.WEEKEND if weekend else DayKind.WORKING

    def default_shortened(self, day: dt.date) -> bool:
        return day in self.year(day.year).shortened and self.default_kind(day).is_working

    def day_kind(self, day: dt.date) -> DayKind:
        """The kind of ``day`` with the overrides applied."""
        o = self.overrides
        if day in o.add_holidays:
            return DayKind.HOLIDAY
        if day in o.working_days:
            return DayKind.WORKING_WEEKEND if day.weekday() >= 5 else DayKind.WORKING
        if day in o.remove_holidays:
            return DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKING
        return self.default_kind(day)

    def is_working_day(self, day: dt.date) -> bool:
        return self.day_kind(day).is_working

    def is_shortened(self, day: dt.date) -> bool:
        """True for a working day that is one hour shorter (pre-holiday)."""
        if not self.day_kind(day).is_working:
            return False
        o = self.overrides
        if day in o.remove_shortened_days:
            return False
        return day in o.shortened_days or day in self.year(day.year).shortened

    def holiday_name(self, day: dt.date) -> str | None:
        if day in self.overrides.add_holidays:
            return self.overrides.add_holidays[day] or None
        if self.day_kind(day) is DayKind.HOLIDAY:
            return self.year(day.year).holidays.get(day)
        return None

    def working_days_in_range(self, start: dt.date, end: dt.date) -> int:
        """Number of working days in ``[start, end]`` (both inclusive)."""
        count = 0
        d = start
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += dt.timedelta(days=1)
        return count

    def year_summary(self, year: int, hours_per_day: int = 8) -> dict[str, Any]:
        """Working days, shortened days and the hours norm of a year (e.g. 248 days and 1979 h in 2024)."""
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        working = self.working_days_in_range(first, last)
        shortened = sorted(
            first + dt.timedelta(days=i)
            for i in range((last - first).days + 1)
            if self.is_shortened(first + dt.timedelta(days=i))
        )
        days = (last - first).days + 1
        return {
            "year": year,
            "working_days": working,
            "non_working_days": days - working,
            "shortened_days": [d.isoformat() for d in shortened],
            "hours": working * hours_per_day - len(shortened),
            "provisional": self.is_provisional(year),
            "source": self.year(year).source,
        }

    def with_overrides(self, overrides: Mapping[str, Any] | CalendarOverrides | None) -> ProductionCalendar:
        """A new calendar with the given overrides (a settings dict is validated against the defaults)."""
        if overrides is None:
            parsed = CalendarOverrides()
        elif isinstance(overrides, CalendarOverrides):
            parsed = overrides
        else:
            parsed = parse_overrides(overrides, self)
        cal = ProductionCalendar(self._years, fallback=self._fallback, overrides=parsed, name=self.name)
        cal._generated = self._generated
        return cal


def default_russian_calendar() -> ProductionCalendar:
    """The shipped Russian production calendar without overrides."""
    return ProductionCalendar({y: year_from_data(y, data) for y, data in RU_YEARS.items()})


def russian_calendar(overrides: Mapping[str, Any] | None = None) -> ProductionCalendar:
    """The Russian production calendar with the portal's overrides (validated) applied."""
    return default_russian_calendar().with_overrides(overrides)


# --- overrides validation -----------------------------------------------------------------------------

OVERRIDE_KEYS = ("add_holidays", "remove_holidays", "working_days", "shortened_days", "remove_shortened_days")


def _issue(fld: str, value: Any, code: str, ru: str, en: str) -> Issue:
    return Issue(field=fld, value=str(value), code=code, message=ru, message_en=en)


def _parse_date_entry(fld: str, raw: Any, issues: list[Issue]) -> dt.date | None:
    if isinstance(raw, dt.datetime):
        issues.append(_issue(fld, raw, "invalid_date", "нужна дата без времени", "a date without time is required"))
        return None
    if isinstance(raw, dt.date):
        day = raw
    elif isinstance(raw, str):
        try:
            day = dt.date.fromisoformat(raw.strip())
        except ValueError:
            issues.append(
                _issue(
                    fld,
                    raw,
                    "invalid_date",
                    "неверная дата, нужен формат ГГГГ-ММ-ДД",
                    "invalid date, expected YYYY-MM-DD",
                )
            )
            return None
    else:
        issues.append(
            _issue(fld, raw, "invalid_date", "дата должна быть строкой ГГГГ-ММ-ДД", "date must be a YYYY-MM-DD string")
        )
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        issues.append(
            _issue(
                fld,
                raw,
                "year_out_of_range",
                f"год вне диапазона {MIN_YEAR}-{MAX_YEAR}",
                f"year outside {MIN_YEAR}-{MAX_YEAR}",
            )
        )
        return None
    return day


def _entries(data: Mapping[str, Any], key: str, issues: list[Issue]) -> list[Any]:
    raw = data.get(key)
    if raw is None:
        return []
    if isinstance(raw, str | bytes) or not isinstance(raw, Iterable):
        issues.append(_issue(key, raw, "not_a_list", "ожидается список дат", "a list of dates is expected"))
        return []
    return list(raw)


def parse_overrides(data: Mapping[str, Any], base: ProductionCalendar) -> CalendarOverrides:
    """Validate the settings' calendar overrides against ``base`` (its defaults) and return them.

    Keys (all optional, each a list):

    - ``add_holidays``: dates (``"2026-12-30"``) or ``{"date": ..., "name": ...}`` that become non-working
      holidays; the date must be a working day or an ordinary weekend day by default;
    - ``remove_holidays``: default holidays or transferred days off that become ordinary days
      (a weekday becomes working);
    - ``working_days``: ordinary weekend days (Saturday/Sunday) that become working days;
    - ``shortened_days``: working days that become one hour shorter;
    - ``remove_shortened_days``: default shortened days that become full days.

    Raises :class:`CalendarValidationError` listing every wrong entry with the reason.
    """
    issues: list[Issue] = []
    if not isinstance(data, Mapping):
        raise CalendarValidationError(
            [_issue("calendar", data, "not_a_mapping", "ожидается словарь", "a mapping is expected")]
        )
    for key in data:
        if key not in OVERRIDE_KEYS:
            issues.append(
                _issue(
                    str(key),
                    key,
                    "unknown_key",
                    f"неизвестный ключ; допустимы: {', '.join(OVERRIDE_KEYS)}",
                    f"unknown key; allowed: {', '.join(OVERRIDE_KEYS)}",
                )
            )

    seen_in: dict[dt.date, str] = {}  # date -> first of the three day-kind lists that named it

    def collect(key: str, with_names: bool = False) -> dict[dt.date, str]:
        out: dict[dt.date, str] = {}
        for raw in _entries(data, key, issues):
            name = ""
            value = raw
            if with_names and isinstance(raw, Mapping):
                value = raw.get("date")
                name = str(raw.get("name") or "")
            day = _parse_date_entry(key, value, issues)
            if day is None:
                continue
            if day in out:
                issues.append(_issue(key, value, "duplicate", "дата указана дважды", "date listed twice"))
                continue
            out[day] = name
        return out

    add = collect("add_holidays", with_names=True)
    remove = collect("remove_holidays")
    working = collect("working_days")
    shortened = collect("shortened_days")
    unshortened = collect("remove_shortened_days")

    for key, days in (("add_holidays", add), ("remove_holidays", remove), ("working_days", working)):
        for day in list(days):
            if day in seen_in:
                issues.append(
                    _issue(
                        key,
                        day.isoformat(),
                        "conflict",
                        f"дата уже указана в {seen_in[day]}",
                        f"date is already listed in {seen_in[day]}",
                    )
                )
                del days[day]
            else:
                seen_in[day] = key

    for day in add:
        kind = base.default_kind(day)
        if kind in (DayKind.HOLIDAY, DayKind.DAY_OFF):
            issues.append(
                _issue(
                    "add_holidays",
                    day.isoformat(),
                    "already_non_working",
                    f"уже нерабочий день по умолчанию ({_kind_ru(kind)})",
                    f"already a non-working day by default ({kind.value})",
                )
            )
    for day in remove:
        kind = base.default_kind(day)
        if kind not in (DayKind.HOLIDAY, DayKind.DAY_OFF):
            issues.append(
                _issue(
                    "remove_holidays",
                    day.isoformat(),
                    "not_a_holiday",
                    f"не праздничный и не перенесённый выходной день по умолчанию ({_kind_ru(kind)})",
                    f"not a default holiday or transferred day off ({kind.value})",
                )
            )
    for day in working:
        kind = base.default_kind(day)
        if kind in (DayKind.HOLIDAY, DayKind.DAY_OFF):
            issues.append(
                _issue(
                    "working_days",
                    day.isoformat(),
                    "is_holiday",
                    "праздничный или перенесённый выходной день: используйте remove_holidays",
                    "a holiday or transferred day off: use remove_holidays",
                )
            )
        elif kind.is_working:
            issues.append(
                _issue(
                    "working_days",
                    day.isoformat(),
                    "already_working",
                    "уже рабочий день по умолчанию",
                    "already a working day by default",
                )
            )

    for day in shortened:
        if day in unshortened:
            issues.append(
                _issue(
                    "shortened_days",
                    day.isoformat(),
                    "conflict",
                    "дата указана также в remove_shortened_days",
                    "date is also listed in remove_shortened_days",
                )
            )
            continue
        if day in add:
            kind = DayKind.HOLIDAY
        elif day in working:
            kind = DayKind.WORKING_WEEKEND
        elif day in remove:
            kind = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKING
        else:
            kind = base.default_kind(day)
        if not kind.is_working:
            issues.append(
                _issue(
                    "shortened_days",
                    day.isoformat(),
                    "not_working",
                    f"сокращённым может быть только рабочий день ({_kind_ru(kind)})",
                    f"only a working day can be shortened ({kind.value})",
                )
            )
        elif base.default_shortened(day):
            issues.append(
                _issue(
                    "shortened_days",
                    day.isoformat(),
                    "already_shortened",
                    "уже сокращённый день по умолчанию",
                    "already a shortened day by default",
                )
            )
    for day in unshortened:
        if day not in base.year(day.year).shortened:
            issues.append(
                _issue(
                    "remove_shortened_days",
                    day.isoformat(),
                    "not_shortened",
                    "не сокращённый день по умолчанию",
                    "not a shortened day by default",
                )
            )

    if issues:
        raise CalendarValidationError(issues)
    return CalendarOverrides(
        add_holidays=dict(add),
        remove_holidays=frozenset(remove),
        working_days=frozenset(working),
        shortened_days=frozenset(shortened),
        remove_shortened_days=frozenset(unshortened),
    )


_KIND_RU = {
    DayKind.WORKING: "рабочий день",
    DayKind.WEEKEND: "выходной день",
    DayKind.HOLIDAY: "праздничный день",
    DayKind.DAY_OFF: "перенесённый выходной",
    DayKind.WORKING_WEEKEND: "рабочая суббота/воскресенье",
}


def _kind_ru(kind: DayKind) -> str:
    return _KIND_RU[kind]
