"""Ad spend per source and month: entered in the UI or imported from CSV, kept in ``analytics_spend``.

A month is stored with its bounds in the portal's time zone (``start_at``, ``end_at``) so the
channel report can count the part of a month that lies in the chosen period in SQL.

CSV: a header row naming the columns (any order, case-insensitive): source (``source``,
``source_id``, ``источник``), month (``month``, ``period``, ``месяц``, ``период``: ``2026-09`` or
``09.2026``), amount (``amount``, ``сумма``: ``125000``, ``125 000,50``). Comma or semicolon
separated, UTF-8 (a BOM is fine). An import is all or nothing: any bad line rejects the file and
every problem is listed with its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from b24app import clock
from b24app.store.db import Database

ALIASES = {
    "source": ("source", "source_id", "источник", "канал"),
    "month": ("month", "period", "месяц", "период"),
    "amount": ("amount", "sum", "сумма", "расход"),
}
SOURCE_RE = re.compile(r"^[A-Za-z0-9_:\-]{1,50}$")
MAX_AMOUNT = 1e12


class SpendError(ValueError):
    """Problems of an import or an entry; ``lines`` holds one readable text per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines[:10]))
        self.lines = lines


@dataclass(frozen=True)
class Spend:
    source_id: str
    month: str  # YYYY-MM
    amount: float


def parse_month(text: str) -> str:
    text = str(text).strip()
    for fmt in ("%Y-%m", "%m.%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, fmt).strftime("%Y-%m")
        except ValueError:
            continue
    raise ValueError(f"month {text!r} is not like 2026-09 or 09.2026")


def parse_amount(text: Any) -> float:
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = float(text)
    else:
        cleaned = str(text).replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
            raise ValueError(f"amount {str(text)!r} is not a number")
        value = float(cleaned)
    if value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"amount {value} must be between 0 and {MAX_AMOUNT:.0f}")
    return value


def check(source_id: str, month: str, amount: Any) -> Spend:
    source_id = str(source_id or "").strip()
    if not SOURCE_RE.match(source_id):
        raise ValueError(f"source {source_id!r} is not a source code (letters, digits, _ : -)")
    return Spend(source_id, parse_month(month), parse_amount(amount))


def month_bounds(month: str, tz: str) -> tuple[float, float]:
    zone = ZoneInfo(tz)
    first = dt.datetime.strptime(month, "%Y-%m").date()
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    return (dt.datetime.combine(first, dt.time(), zone).timestamp(),
            dt.datetime.combine(nxt, dt.time(), zone).timestamp())


def parse_csv(text: str) -> list[Spend]:
    """Rows of a spend CSV; :class:`SpendError` lists every bad line."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise SpendError(["the file is empty"])
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    where: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for i, h in enumerate(header):
            if h in aliases:
                where[name] = i
                break
    missing = [n for n in ALIASES if n not in where]
    if missing:
        raise SpendError([f"line 1: no column for {', '.join(missing)} (header: {', '.join(header)})"])
    out: list[Spend] = []
    problems: list[str] = []
    for lineno, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            cells = {n: row[i] if i < len(row) else "" for n, i in where.items()}
            out.append(check(cells["source"], cells["month"], cells["amount"]))
        except ValueError as exc:
            problems.append(f"line {lineno}: {exc}")
    if problems:
        raise SpendError(problems)
    return out


def save(db: Database, member_id: str, items: list[Spend], *, tz: str, by: str = "") -> int:
    """Insert or replace the given months (one transaction)."""
    now = clock.now()
    with db.transaction():
        for s in items:
            start, end = month_bounds(s.month, tz)
            db.execute(
                """INSERT INTO analytics_spend (member_id, source_id, month, amount, start_at, end_at, updated_at,
                   updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id, source_id, month)
                   DO UPDATE SET amount = excluded.amount, start_at = excluded.start_at, end_at = excluded.end_at,
                   updated_at = excluded.updated_at, updated_by = excluded.updated_by""",
                (member_id, s.source_id, s.month, s.amount, start, end, now, by),
            )
    return len(items)


def delete(db: Database, member_id: str, source_id: str, month: str) -> int:
    return db.execute("DELETE FROM analytics_spend WHERE member_id = ? AND source_id = ? AND month = ?",
                      (member_id, source_id, month))


def listing(db: Database, member_id: str) -> list[dict[str, Any]]:
    """Every spend row of the portal with the source's name, newest month first."""
    return db.query(
        """SELECT s.source_id, COALESCE(st.name, s.source_id) AS source, s.month, s.amount, s.updated_by
           FROM analytics_spend s LEFT JOIN analytics_statuses st ON st.member_id = s.member_id
           AND st.entity_id = 'SOURCE' AND st.status_id = s.source_id
           WHERE s.member_id = ? ORDER BY s.month DESC, COALESCE(st.sort, 100000), s.source_id""",
        (member_id,),
    )


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["source", "month", "amount"])
    for r in rows:
        w.writerow([r["source_id"], r["month"], f"{float(r['amount']):.2f}"])
    return buf.getvalue()
