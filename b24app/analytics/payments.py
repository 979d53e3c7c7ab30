"""Payments actually received, as the 1C sync recorded them.

The sync feature (``b24app.sync_1c``) owns payments; we only read them through its public
function ``b24app.sync_1c.api.payments_for_analytics(db, member_id, date_from, date_to) ->
list[dict(deal_id, amount, date)]`` and keep a snapshot in ``analytics_payments`` so every report is
one SQL query. Without that function (the sync feature absent or older), or while the portal has
no 1C base configured (settings section ``onec``, ``bases``), revenue from payments is shown as
"not available", never as zero.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import Any

from b24app.analytics import store
from b24app.store.db import Database

log = logging.getLogger("b24app.analytics.payments")

HORIZON_FROM = dt.date(2000, 1, 1)


def source() -> Any | None:
    """The sync feature's ``payments_for_analytics`` function, or None when it does not exist."""
    try:
        module = importlib.import_module("b24app.sync_1c.api")
    except ImportError:
        return None
    fn = getattr(module, "payments_for_analytics", None)
    return fn if callable(fn) else None


def configured(db: Database, member_id: str) -> bool:
    """Whether the portal's settings name at least one 1C base (the sync's section ``onec``)."""
    from b24app.settings import document

    section = document.load(db, member_id).get("onec") or {}
    return bool(section.get("bases")) if isinstance(section, dict) else False


def fetch(db: Database, member_id: str) -> list[dict[str, Any]] | None:
    """Every payment the sync knows for the portal, or None when payments are not available."""
    fn = source()
    if fn is None or not configured(db, member_id):
        return None
    today = dt.date.today()
    return list(fn(db, member_id, HORIZON_FROM, today + dt.timedelta(days=1)) or [])


def _paid_at(value: Any) -> float | None:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, 12, tzinfo=dt.timezone(dt.timedelta(hours=3))).timestamp()
    return store.parse_time(value)


def store_snapshot(db: Database, member_id: str, payments: list[dict[str, Any]]) -> int:
    """Replace the portal's payment snapshot (call inside a transaction)."""
    rows = []
    for i, p in enumerate(payments):
        deal = store.as_int(p.get("deal_id"))
        paid = _paid_at(p.get("date"))
        if deal is None or paid is None:
            log.warning("payment without deal or date skipped", extra={"member_id": member_id, "payment": str(p)[:200]})
            continue
        rows.append({"member_id": member_id, "seq": i + 1, "deal_id": deal, "amount": store.as_float(p.get("amount")),
                     "paid_at": paid})
    return store.replace_all(db, "analytics_payments", member_id, rows)
