"""Report tables: columns with their meaning, rows computed by SQL, and the totals row.

A report's SQL produces one row per group with plain counts and sums ("base" columns). Ratios are
declared on :class:`Column` (numerator, denominator, scale) and :func:`query` computes them in the
same SQL statement, together with the totals row (window sums over all rows): the sums of the base
columns and the same ratio applied to those sums — a total ratio is the ratio of the totals, never
an average of ratios.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from b24app.messages import t
from b24app.store.db import Database

# kinds: text, int, money, pct (ratio x100), days, hours, num, light, date
ROUNDING = {"pct": 2, "money": 2, "days": 1, "hours": 1, "num": 2}


@dataclass(frozen=True)
class Column:
    key: str
    kind: str = "int"
    num: str | None = None  # ratio columns: numerator base column
    den: str | None = None  # ratio columns: denominator base column
    scale: float = 1.0  # pct: 100
    total: str = "sum"  # how the totals row gets it: sum, ratio, none
    hidden: bool = False  # a base column needed for ratios but not shown

    @property
    def title_key(self) -> str:
        return f"analytics.col.{self.key}"

    @property
    def definition_key(self) -> str:
        return f"analytics.def.{self.key}"

    def title(self, lang: str) -> str:
        return t(self.title_key, lang)

    def definition(self, lang: str) -> str | None:
        from b24app.messages import CATALOGUE

        return t(self.definition_key, lang) if self.definition_key in CATALOGUE else None


def ratio(key: str, num: str, den: str, *, pct: bool = True, kind: str | None = None) -> Column:
    return Column(key, kind or ("pct" if pct else "num"), num=num, den=den, scale=100.0 if pct else 1.0,
                  total="ratio")


@dataclass
class Table:
    name: str  # file/sheet name and message key suffix: analytics.table.<name>
    columns: list[Column]
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None = None
    note_key: str | None = None

    def visible(self) -> list[Column]:
        return [c for c in self.columns if not c.hidden]

    def title(self, lang: str) -> str:
        return t(f"analytics.table.{self.name}", lang)

    def public(self, lang: str = "ru") -> dict[str, Any]:
        """JSON view: columns with titles and definitions, rows, totals."""
        cols = self.visible()
        return {
            "name": self.name,
            "title": self.title(lang),
            "columns": [{"key": c.key, "title": c.title(lang), "kind": c.kind, "definition": c.definition(lang)}
                        for c in cols],
            "rows": [{c.key: r.get(c.key) for c in cols} for r in self.rows],
            "total": None if self.total is None else {c.key: self.total.get(c.key) for c in cols},
            "note": t(self.note_key, lang) if self.note_key else None,
        }


@dataclass
class Report:
    name: str
    tables: list[Table]
    summary: dict[str, Any] = field(default_factory=dict)
    charts: list[dict[str, Any]] = field(default_factory=list)  # {"table", "label", "value", "kind"}
    notes: list[str] = field(default_factory=list)  # message keys

    def table(self, name: str) -> Table:
        for tbl in self.tables:
            if tbl.name == name:
                return tbl
        raise KeyError(name)

    def title(self, lang: str) -> str:
        return t(f"analytics.report.{self.name}", lang)


def rounded(value: Any, kind: str) -> Any:
    """Half-up rounding for display and export (30.851 -> 30.85); counts stay integers."""
    if value is None:
        return None
    if kind == "int":
        return int(round(float(value)))
    places = ROUNDING.get(kind)
    if places is None or isinstance(value, str):
        return value
    q = Decimal(1).scaleb(-places)
    return float(Decimal(repr(float(value))).quantize(q, rounding=ROUND_HALF_UP))


def iso_date(ts: Any, tz: str) -> str | None:
    """The calendar date (portal time zone) of a unix time, ISO formatted."""
    if ts is None:
        return None
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime.fromtimestamp(float(ts), ZoneInfo(tz)).date().isoformat()


def _ratio_sql(c: Column, prefix: str = "") -> str:
    num = f"{prefix}{c.num}"
    den = f"{prefix}{c.den}"
    return f"({c.scale} * {num}) / (CASE WHEN {den} = 0 THEN NULL ELSE {den} * 1.0 END)"


def query(db: Database, base_sql: str, params: Sequence[Any], columns: Sequence[Column], *,
          keys: Sequence[str] = (), order_by: str = "", with_total: bool = True) -> tuple[list[dict[str, Any]],
                                                                                          dict[str, Any] | None]:
    """Run ``base_sql`` (a SELECT producing the key and base columns) once; the same statement
    computes the declared ratio columns and, as window sums over all rows (``SUM(...) OVER ()``),
    the totals row: sums of the base columns and the ratios of those sums."""
    ratio_cols = [c for c in columns if c.num is not None]
    select = ["b.*"] + [f"{_ratio_sql(c, 'b.')} AS {c.key}" for c in ratio_cols]
    sums = [c for c in columns if c.num is None and c.total == "sum" and c.key not in keys] if with_total else []
    needed = {c.key for c in sums}
    for c in ratio_cols:
        if with_total and c.total == "ratio":
            needed.update(k for k in (c.num, c.den) if k)
    select += [f"SUM(b.{k}) OVER () AS t__{k}" for k in sorted(needed)]
    if with_total:
        for c in ratio_cols:
            if c.total == "ratio":
                select.append(f"({c.scale} * SUM(b.{c.num}) OVER ()) / "
                              f"(CASE WHEN SUM(b.{c.den}) OVER () = 0 THEN NULL ELSE SUM(b.{c.den}) OVER () * 1.0 END)"
                              f" AS t__{c.key}")
    rows_sql = f"WITH b AS ({base_sql}) SELECT {', '.join(select)} FROM b" + (f" ORDER BY {order_by}" if order_by else "")
    raw = db.query(rows_sql, params)
    total: dict[str, Any] | None = None
    if with_total:
        first = raw[0] if raw else {}
        total = {c.key: first.get(f"t__{c.key}") or 0 for c in sums}
        for c in ratio_cols:
            if c.total == "ratio":
                total[c.key] = first.get(f"t__{c.key}")
    kinds = {c.key: c.kind for c in columns}
    rows = [{k: rounded(v, kinds.get(k, "")) for k, v in r.items() if not k.startswith("t__")} for r in raw]
    if total is not None:
        total = {k: rounded(v, kinds.get(k, "")) for k, v in total.items()}
    return rows, total
