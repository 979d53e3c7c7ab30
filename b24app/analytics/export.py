"""Exports of report tables: CSV (one table) and XLSX (every table of a report, one sheet each, and
a sheet with the definition of every column). Values are the same numbers the pages show, as
numbers (not formatted text): percentages are percent values (30.85), money in the deal currency.

CSV is UTF-8 with a BOM (Excel reads Cyrillic then), comma-separated, a dot as decimal mark.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from b24app.analytics.tables import Column, Report, Table
from b24app.messages import t

_XLSX_FORMATS = {"money": "#,##0.00", "pct": "0.00", "days": "0.0", "hours": "0.0", "num": "0.00", "int": "0"}


def cell(value: Any, column: Column, lang: str) -> Any:
    """A value as exports write it: lights, yes/no and reasons as words, the rest unchanged."""
    if value is None:
        return None
    if column.kind == "light":
        return t(f"analytics.light.{value}", lang)
    if column.kind == "yesno":
        return t("analytics.yes" if value else "analytics.no", lang)
    if column.kind == "status":
        return t(f"analytics.period_status.{value}", lang) if value else ""
    if column.kind == "reasons":
        return "; ".join(t(f"analytics.reason.{code}", lang) for code in str(value).split(",") if code)
    return value


def table_rows(table: Table, lang: str) -> list[list[Any]]:
    cols = table.visible()
    out = [[c.title(lang) for c in cols]]
    out += [[cell(r.get(c.key), c, lang) for c in cols] for r in table.rows]
    if table.total is not None:
        first = True
        row = []
        for c in cols:
            value = cell(table.total.get(c.key), c, lang)
            if first and value is None:
                value = t("analytics.total", lang)
            first = False
            row.append(value)
        out.append(row)
    return out


def to_csv(table: Table, lang: str = "ru") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in table_rows(table, lang):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: Report, lang: str = "ru", *, filters_text: str = "") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for table in report.tables:
        ws = wb.create_sheet(_sheet_name(table.title(lang)))
        cols = table.visible()
        rows = table_rows(table, lang)
        for r_i, row in enumerate(rows, start=1):
            for c_i, value in enumerate(row, start=1):
                cell_ = ws.cell(row=r_i, column=c_i, value=value)
                if r_i == 1 or (table.total is not None and r_i == len(rows)):
                    cell_.font = Font(bold=True)
                elif cols[c_i - 1].kind in _XLSX_FORMATS and isinstance(value, int | float):
                    cell_.number_format = _XLSX_FORMATS[cols[c_i - 1].kind]
        for c_i, c in enumerate(cols, start=1):
            ws.column_dimensions[ws.cell(row=1, column=c_i).column_letter].width = max(12, min(40, len(c.title(lang)) + 2))
        if table.note_key:
            ws.cell(row=len(rows) + 2, column=1, value=t(table.note_key, lang))
    defs = wb.create_sheet(_sheet_name(t("analytics.definitions", lang)))
    defs.append([t("analytics.column", lang), t("analytics.definition", lang)])
    defs["A1"].font = defs["B1"].font = Font(bold=True)
    seen: set[str] = set()
    for table in report.tables:
        for c in table.visible():
            d = c.definition(lang)
            if d and c.key not in seen:
                seen.add(c.key)
                defs.append([c.title(lang), d])
    if filters_text:
        defs.append([])
        defs.append([t("analytics.filters", lang), filters_text])
    defs.column_dimensions["A"].width = 30
    defs.column_dimensions["B"].width = 100
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _sheet_name(title: str) -> str:
    bad = '[]:*?/\\'
    return "".join("_" if ch in bad else ch for ch in title)[:31] or "Sheet"
