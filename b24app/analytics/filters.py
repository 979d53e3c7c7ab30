"""Report filters: period, funnel, manager, source, client; and the SQL conditions they make.

The period is a pair of calendar dates of the portal's time zone, both included; a row belongs to
it when its creation time lies in ``[date_from 00:00, date_to + 1 day 00:00)``. Values never come
into SQL text: every condition uses placeholders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

MIN_TS = 0.0
MAX_TS = 32503680000.0  # year 3000


class FilterError(ValueError):
    """A filter value that cannot be read (shown to the user next to the filter form)."""


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    category_id: int | None = None
    manager_id: int | None = None
    source_id: str | None = None
    company_id: int | None = None
    tz: str = "Europe/Moscow"

    @property
    def has_period(self) -> bool:
        return self.date_from is not None or self.date_to is not None

    def bounds(self) -> tuple[float, float]:
        """``[lo, hi)`` in unix seconds (open ends become far past / far future)."""
        zone = ZoneInfo(self.tz)
        lo = MIN_TS if self.date_from is None else dt.datetime.combine(self.date_from, dt.time(), zone).timestamp()
        hi = MAX_TS if self.date_to is None else dt.datetime.combine(
            self.date_to + dt.timedelta(days=1), dt.time(), zone).timestamp()
        return lo, hi

    def with_tz(self, tz: str) -> Filters:
        return replace(self, tz=tz)

    def conditions(self, alias: str, *, period: bool = True, category: bool = True, manager: bool = True,
                   source: bool = True, company: bool = True, source_expr: str | None = None) -> tuple[str, list[Any]]:
        """`` AND ...`` conditions on a leads/deals table aliased ``alias`` (empty when no filter)."""
        parts: list[str] = []
        params: list[Any] = []
        if period and self.has_period:
            lo, hi = self.bounds()
            parts.append(f"{alias}.created_at >= ? AND {alias}.created_at < ?")
            params += [lo, hi]
        if category and self.category_id is not None:
            parts.append(f"{alias}.category_id = ?")
            params.append(self.category_id)
        if manager and self.manager_id is not None:
            parts.append(f"{alias}.assigned_by_id = ?")
            params.append(self.manager_id)
        if source and self.source_id:
            parts.append(f"{source_expr or alias + '.source_id'} = ?")
            params.append(self.source_id)
        if company and self.company_id is not None:
            parts.append(f"{alias}.company_id = ?")
            params.append(self.company_id)
        return "".join(" AND " + p for p in parts), params

    def public(self) -> dict[str, Any]:
        """JSON-able view (dates as ISO strings, unset filters left out)."""
        out = {}
        for key, value in asdict(self).items():
            if value is None or key == "tz":
                continue
            out[key] = value.isoformat() if isinstance(value, dt.date) else value
        return out

    def query_args(self) -> dict[str, str]:
        """The filters as URL query arguments (``from``, ``to``, ``category`` ...)."""
        names = {"date_from": "from", "date_to": "to", "category_id": "category", "manager_id": "manager",
                 "source_id": "source", "company_id": "company"}
        return {names[k]: str(v) for k, v in self.public().items() if k in names}


def _date(value: Any, what: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise FilterError(f"{what}: {text!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)")


def _int(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.lstrip("-").isdigit() or len(text) > 18:
        raise FilterError(f"{what}: {text!r} is not a number")
    return int(text)


def parse(args: Mapping[str, Any], tz: str = "Europe/Moscow") -> Filters:
    """Filters from URL query arguments or CLI options: ``from``, ``to``, ``category``, ``manager``,
    ``source``, ``company`` (unknown keys are ignored; the portal never comes from here)."""
    source = str(args.get("source") or "").strip() or None
    if source is not None and (len(source) > 50 or not all(c.isalnum() or c in "_-:" for c in source)):
        raise FilterError(f"source: {source!r} is not a source code")
    f = Filters(
        date_from=_date(args.get("from"), "from"),
        date_to=_date(args.get("to"), "to"),
        category_id=_int(args.get("category"), "category"),
        manager_id=_int(args.get("manager"), "manager"),
        source_id=source,
        company_id=_int(args.get("company"), "company"),
        tz=tz,
    )
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise FilterError("from: the period starts after it ends")
    return f
