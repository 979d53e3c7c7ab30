"""What other features ask the 1C sync (reads of the local store; no call to 1C or the portal).

- the stages feature: :func:`payment_status` (due date and outstanding amount for overdue payments
  and pre-trial claims);
- analytics: :func:`payments_for_analytics` (money actually received, for ROI).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from b24app.store.db import Database
from b24app.sync_1c import state

CENT = Decimal("0.01")


@dataclass(frozen=True)
class PaymentStatus:
    """The payment state of a deal's 1C invoice."""

    due_date: dt.date | None
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    last_payment_date: dt.date | None
    invoice_number: str | None
    base: str = ""
    ref_key: str = ""
    status: str = "unpaid"  # unpaid | partial | paid


def _money(x: float) -> Decimal:
    return Decimal(str(x)).quantize(CENT, rounding=ROUND_HALF_UP)


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def payment_status(db: Database, member_id: str, deal_id: int) -> PaymentStatus | None:
    """The deal's current 1C invoice: due date, amount, paid, outstanding, last payment, number.
    None when the deal has no live 1C invoice (never issued, or deleted / marked for deletion in 1C)."""
    inv = state.invoice_for_deal(db, member_id, int(deal_id))
    if inv is None:
        return None
    amount, paid = _money(inv.amount), _money(inv.paid)
    outstanding = max(amount - paid, Decimal("0.00"))
    return PaymentStatus(
        due_date=_date(inv.due_date), amount=amount, paid=paid, outstanding=outstanding,
        last_payment_date=_date(inv.last_payment_date), invoice_number=inv.number or None,
        base=inv.base, ref_key=inv.ref_key, status=inv.status,
    )


def payments_for_analytics(db: Database, member_id: str, date_from: dt.date, date_to: dt.date) -> list[dict[str, Any]]:
    """Money received in 1C for deals, dated ``date_from`` .. ``date_to`` (inclusive): one entry per
    payment document and deal, ``{"deal_id", "amount" (float), "date" (ISO date)}``; reversed
    (unposted, marked for deletion, deleted) payments are not included."""
    upper = (date_to + dt.timedelta(days=1)).isoformat()
    merged: dict[tuple[int, str, str, str], float] = {}
    for r in state.payments_between(db, member_id, date_from.isoformat(), upper):
        key = (int(r["deal_id"]), r["base"], r["ref_key"], str(r["pay_date"])[:10])
        merged[key] = merged.get(key, 0.0) + float(r["amount"])
    return [{"deal_id": deal, "amount": round(amount, 2), "date": day, "base": base, "payment_ref": ref}
            for (deal, base, ref, day), amount in merged.items()]
