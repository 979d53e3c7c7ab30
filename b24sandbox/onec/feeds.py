"""Change feeds over a base for the exchange service: invoice changes by change number, payments by date.

Both page with a cursor taken from the data itself (``seq`` of the last object returned, or ``date|ref``
of the last payment), so a client walks 100,000 payments in constant memory on both sides.
"""

from __future__ import annotations

from typing import Any

from .logic.session import Session
from .storage import OBJECT_SELECT, object_row_to_entity

MAX_LIMIT = 5000


def invoice_changes(s: Session, cursor: str | None, date_from: str | None, date_to: str | None,
                    limit: int | None) -> dict[str, Any]:
    """Invoices written after change number ``cursor`` (and physically deleted ones), oldest change first."""
    logic = s.handlers
    et = s.et(logic.invoice_set)
    after = int(cursor) if cursor and str(cursor).strip().isdigit() else 0
    n = min(max(int(limit or 100), 1), MAX_LIMIT)
    where = ["o.set_name = ?", "o.seq > ?"]
    params: list[Any] = [et.set_name, after]
    if date_from:
        where.append("o.date >= ?")
        params.append(date_from)
    if date_to:
        where.append("o.date <= ?")
        params.append(date_to)
    rows = s.conn.execute(
        f"SELECT o.seq, {OBJECT_SELECT} FROM objects o WHERE {' AND '.join(where)} ORDER BY o.seq LIMIT ?",
        (*params, n + 1),
    ).fetchall()
    items: list[dict[str, Any]] = []
    last = after
    for row in rows[:n]:
        ent = object_row_to_entity(et, row[1:])
        view = logic.invoice_view(s, ent)
        view["change_no"] = row[0]
        view["deleted"] = False
        try:
            st = logic.invoice_status(s, ent["Ref_Key"])
            view.update(paid=st["paid"], status=st["status"], remaining=st["remaining"])
        except Exception:
            view.update(paid=None, status=None, remaining=None)
        items.append(view)
        last = row[0]
    more = len(rows) > n
    if not more:
        dels = s.conn.execute("SELECT ref, seq FROM deletions WHERE set_name=? AND seq > ? ORDER BY seq",
                              (et.set_name, after)).fetchall()
        for ref, seq in dels:
            items.append({"ref": ref, "type": et.set_name, "deleted": True, "change_no": seq})
            last = max(last, seq)
    return {"items": items, "cursor": str(last), "more": more}


def payments(s: Session, date_from: str, date_to: str, cursor: str | None, limit: int | None,
             include_unposted: bool) -> dict[str, Any]:
    """Bank and cash receipts dated within the window, ordered by (date, ref), keyset-paged."""
    logic = s.handlers
    kinds = dict(logic.payment_sets())
    n = min(max(int(limit or 500), 1), MAX_LIMIT)
    where = [f"o.set_name IN ({', '.join('?' for _ in kinds)})", "o.date >= ?", "o.date <= ?"]
    params: list[Any] = [*kinds, date_from, date_to]
    if not include_unposted:
        where.append("o.posted = 1")
    if cursor:
        c_date, _, c_ref = cursor.partition("|")
        where.append("(o.date > ? OR (o.date = ? AND o.ref > ?))")
        params += [c_date, c_date, c_ref]
    rows = s.conn.execute(
        f"SELECT o.set_name, {OBJECT_SELECT} FROM objects o WHERE {' AND '.join(where)} "
        f"ORDER BY o.date, o.ref LIMIT ?",
        (*params, n + 1),
    ).fetchall()
    items = []
    for row in rows[:n]:
        et = s.et(row[0])
        ent = object_row_to_entity(et, row[1:])
        items.append(logic.payment_view(s, et, ent, kinds[row[0]]))
    nxt = None
    if len(rows) > n and items:
        nxt = f"{items[-1]['date']}|{items[-1]['ref']}"
    return {"items": items, "next": nxt}
