"""Repository of the sync's tables (see schema.py). Only this module writes SQL against them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from b24app import clock
from b24app.store.db import Database, dumps, loads
from b24app.sync_1c.records import InvoiceRec, PaymentRec

MONEY_EPS = 0.005


# -- bases --------------------------------------------------------------------------------------
def base_info(db: Database, member_id: str, base: str) -> dict[str, Any]:
    row = db.one("SELECT info FROM sync_1c_bases WHERE member_id = ? AND base = ?", (member_id, base))
    return loads(row["info"], {}) if row else {}


def put_base_info(db: Database, member_id: str, base: str, info: dict[str, Any]) -> None:
    db.execute(
        """INSERT INTO sync_1c_bases (member_id, base, info, checked_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (member_id, base) DO UPDATE SET info = excluded.info, checked_at = excluded.checked_at""",
        (member_id, base, dumps(info), clock.now()),
    )


# -- counterparties -------------------------------------------------------------------------------
def counterparty(db: Database, member_id: str, base: str, company_id: int) -> dict[str, Any] | None:
    return db.one("SELECT * FROM sync_1c_counterparties WHERE member_id = ? AND base = ? AND company_id = ?",
                  (member_id, base, company_id))


def put_counterparty(db: Database, member_id: str, base: str, company_id: int, ref: str, inn: str, kpp: str,
                     created: bool) -> None:
    db.execute(
        """INSERT INTO sync_1c_counterparties (member_id, base, company_id, ref_key, inn, kpp, created_by_us,
           updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, base, company_id) DO UPDATE SET ref_key = excluded.ref_key, inn = excluded.inn,
           kpp = excluded.kpp, updated_at = excluded.updated_at""",
        (member_id, base, company_id, ref, inn, kpp, 1 if created else 0, clock.now()),
    )


def company_of_counterparty(db: Database, member_id: str, base: str, ref: str) -> int | None:
    row = db.one("SELECT company_id FROM sync_1c_counterparties WHERE member_id = ? AND base = ? AND ref_key = ?",
                 (member_id, base, ref))
    return int(row["company_id"]) if row else None


# -- invoices -------------------------------------------------------------------------------------
@dataclass
class Invoice:
    """A tracked 1C invoice (row of sync_1c_invoices)."""

    member_id: str
    base: str
    ref_key: str
    origin: str
    idem_key: str | None
    deal_id: int | None
    smart_invoice_id: int | None
    company_id: int | None
    counterparty_ref: str
    order_ref: str
    number: str
    doc_date: str
    amount: float
    paid: float
    last_payment_date: str | None
    due_date: str | None
    posted: bool
    deletion_mark: bool
    deleted: bool
    data_version: str
    own_version: str
    link: str
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Invoice:
        data = dict(row)
        for k in ("posted", "deletion_mark", "deleted"):
            data[k] = bool(data[k])
        for k in ("deal_id", "smart_invoice_id", "company_id"):
            data[k] = int(data[k]) if data[k] is not None else None
        return cls(**data)

    @property
    def live(self) -> bool:
        return not self.deleted and not self.deletion_mark

    @property
    def outstanding(self) -> float:
        return round(max(self.amount - self.paid, 0.0), 2)

    @property
    def status(self) -> str:
        """``paid`` | ``partial`` | ``unpaid`` (from sums, as БП's СтатусыДокументов decides)."""
        if self.amount > 0 and self.paid >= self.amount - MONEY_EPS:
            return "paid"
        if self.paid > MONEY_EPS:
            return "partial"
        return "unpaid"


def invoice(db: Database, member_id: str, base: str, ref: str) -> Invoice | None:
    row = db.one("SELECT * FROM sync_1c_invoices WHERE member_id = ? AND base = ? AND ref_key = ?",
                 (member_id, base, ref))
    return Invoice.from_row(row) if row else None


def invoice_for_deal(db: Database, member_id: str, deal_id: int, *, live_only: bool = True) -> Invoice | None:
    """The deal's current 1C invoice (the newest live one)."""
    sql = "SELECT * FROM sync_1c_invoices WHERE member_id = ? AND deal_id = ?"
    if live_only:
        sql += " AND deleted = 0 AND deletion_mark = 0"
    row = db.one(sql + " ORDER BY created_at DESC, doc_date DESC LIMIT 1", (member_id, deal_id))
    return Invoice.from_row(row) if row else None


def invoices_of_deal(db: Database, member_id: str, deal_id: int) -> list[Invoice]:
    rows = db.query("SELECT * FROM sync_1c_invoices WHERE member_id = ? AND deal_id = ? ORDER BY created_at",
                    (member_id, deal_id))
    return [Invoice.from_row(r) for r in rows]


def invoice_by_smart_invoice(db: Database, member_id: str, smart_id: int) -> Invoice | None:
    row = db.one("SELECT * FROM sync_1c_invoices WHERE member_id = ? AND smart_invoice_id = ? LIMIT 1",
                 (member_id, smart_id))
    return Invoice.from_row(row) if row else None


def recheck_refs(db: Database, member_id: str, base: str, dated_before: str, recent_since: float) -> list[str]:
    """Tracked invoices dated before ``dated_before`` worth re-reading: not fully paid, or touched lately."""
    rows = db.query(
        """SELECT ref_key FROM sync_1c_invoices WHERE member_id = ? AND base = ? AND deleted = 0
           AND (deal_id IS NOT NULL OR smart_invoice_id IS NOT NULL) AND doc_date < ?
           AND (paid < amount - 0.005 OR updated_at > ?) ORDER BY ref_key""",
        (member_id, base, dated_before, recent_since))
    return [r["ref_key"] for r in rows]


def invoice_by_order(db: Database, member_id: str, base: str, order_ref: str) -> str | None:
    row = db.one("SELECT ref_key FROM sync_1c_invoices WHERE member_id = ? AND base = ? AND order_ref = ? LIMIT 1",
                 (member_id, base, order_ref))
    return row["ref_key"] if row else None


def record_invoice(db: Database, member_id: str, base: str, rec: InvoiceRec, *, origin: str, idem_key: str | None = None,
                   deal_id: int | None = None, smart_invoice_id: int | None = None, company_id: int | None = None,
                   link: str = "", own: bool = False) -> None:
    """Insert or update a tracked invoice from what 1C answered. ``own``: we wrote this version."""
    now = clock.now()
    db.execute(
        """INSERT INTO sync_1c_invoices (member_id, base, ref_key, origin, idem_key, deal_id, smart_invoice_id,
           company_id, counterparty_ref, order_ref, number, doc_date, amount, due_date, posted, deletion_mark, deleted,
           data_version, own_version, link, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, base, ref_key) DO UPDATE SET
             idem_key = COALESCE(sync_1c_invoices.idem_key, excluded.idem_key),
             deal_id = COALESCE(excluded.deal_id, sync_1c_invoices.deal_id),
             smart_invoice_id = COALESCE(excluded.smart_invoice_id, sync_1c_invoices.smart_invoice_id),
             company_id = COALESCE(excluded.company_id, sync_1c_invoices.company_id),
             counterparty_ref = excluded.counterparty_ref,
             order_ref = CASE WHEN excluded.order_ref <> '' THEN excluded.order_ref ELSE sync_1c_invoices.order_ref END,
             number = excluded.number, doc_date = excluded.doc_date, amount = excluded.amount,
             due_date = COALESCE(excluded.due_date, sync_1c_invoices.due_date), posted = excluded.posted,
             deletion_mark = excluded.deletion_mark, deleted = 0, data_version = excluded.data_version,
             own_version = CASE WHEN excluded.own_version <> '' THEN excluded.own_version
                           ELSE sync_1c_invoices.own_version END,
             link = CASE WHEN excluded.link <> '' THEN excluded.link ELSE sync_1c_invoices.link END,
             updated_at = excluded.updated_at""",
        (member_id, base, rec.ref, origin, idem_key, deal_id, smart_invoice_id, company_id, rec.counterparty_ref,
         rec.order_ref, rec.number, rec.date or "", rec.amount, rec.due_date, 1 if rec.posted else 0,
         1 if rec.deletion_mark else 0, rec.data_version, rec.data_version if own else "", link, now, now),
    )


def update_invoice_from_1c(db: Database, member_id: str, base: str, rec: InvoiceRec) -> bool:
    """Apply a changed 1C invoice to a tracked row; True when something that matters changed."""
    cur = invoice(db, member_id, base, rec.ref)
    if cur is None:
        return False
    if rec.deleted:
        if cur.deleted:
            return False
        db.execute("UPDATE sync_1c_invoices SET deleted = 1, updated_at = ? WHERE member_id = ? AND base = ? "
                   "AND ref_key = ?", (clock.now(), member_id, base, rec.ref))
        return True
    amount = rec.amount if rec.amount or not rec.number else cur.amount
    changed = (abs(amount - cur.amount) > MONEY_EPS or rec.deletion_mark != cur.deletion_mark or cur.deleted
               or (rec.number and rec.number != cur.number) or (rec.posted != cur.posted and bool(rec.number)))
    db.execute(
        """UPDATE sync_1c_invoices SET amount = ?, deletion_mark = ?, deleted = 0,
           posted = CASE WHEN ? <> '' THEN ? ELSE posted END,
           number = CASE WHEN ? <> '' THEN ? ELSE number END,
           doc_date = CASE WHEN ? <> '' THEN ? ELSE doc_date END,
           due_date = COALESCE(?, due_date),
           data_version = CASE WHEN ? <> '' THEN ? ELSE data_version END, updated_at = ?
           WHERE member_id = ? AND base = ? AND ref_key = ?""",
        (amount, 1 if rec.deletion_mark else 0, rec.number, 1 if rec.posted else 0, rec.number, rec.number,
         rec.date or "", rec.date or "", rec.due_date, rec.data_version, rec.data_version, clock.now(),
         member_id, base, rec.ref),
    )
    return bool(changed)


def link_invoice(db: Database, member_id: str, base: str, ref: str, *, deal_id: int | None = None,
                 smart_invoice_id: int | None = None, link: str | None = None) -> None:
    sets, params = ["updated_at = ?"], [clock.now()]
    if deal_id is not None:
        sets.append("deal_id = ?")
        params.append(deal_id)
    if smart_invoice_id is not None:
        sets.append("smart_invoice_id = ?")
        params.append(smart_invoice_id)
    if link is not None:
        sets.append("link = ?")
        params.append(link)
    db.execute(f"UPDATE sync_1c_invoices SET {', '.join(sets)} WHERE member_id = ? AND base = ? AND ref_key = ?",
               (*params, member_id, base, ref))


def recompute_paid(db: Database, member_id: str, base: str, ref: str) -> bool:
    """Paid sum and last payment date of an invoice from its active payments; True when changed."""
    row = db.one("""SELECT COALESCE(SUM(amount), 0) AS paid, MAX(pay_date) AS last FROM sync_1c_payments
                    WHERE member_id = ? AND base = ? AND invoice_ref = ? AND active = 1""", (member_id, base, ref))
    paid = round(float(row["paid"] or 0), 2) if row else 0.0
    last = (row["last"] or None) if row else None
    cur = db.one("SELECT paid, last_payment_date FROM sync_1c_invoices WHERE member_id = ? AND base = ? AND ref_key = ?",
                 (member_id, base, ref))
    if cur is None:
        return False
    if abs(float(cur["paid"]) - paid) <= MONEY_EPS and (cur["last_payment_date"] or None) == (last[:10] if last else None):
        return False
    db.execute("UPDATE sync_1c_invoices SET paid = ?, last_payment_date = ?, updated_at = ? WHERE member_id = ? "
               "AND base = ? AND ref_key = ?", (paid, last[:10] if last else None, clock.now(), member_id, base, ref))
    return True


# -- payments -------------------------------------------------------------------------------------
def put_payment(db: Database, member_id: str, base: str, rec: PaymentRec, allocations: list[tuple[str, float]]
                ) -> set[str]:
    """Store a payment's allocations (invoice ref, amount); returns the invoices whose sums may change."""
    old = db.query("SELECT invoice_ref, amount, active, data_version FROM sync_1c_payments WHERE member_id = ? "
                   "AND base = ? AND ref_key = ?", (member_id, base, rec.ref))
    active = 1 if rec.active else 0
    merged: dict[str, float] = {}
    for ref, amount in allocations:
        merged[ref] = round(merged.get(ref, 0.0) + amount, 2)
    new = {(ref, amount, active) for ref, amount in merged.items()}
    before = {(r["invoice_ref"], round(float(r["amount"]), 2), int(r["active"])) for r in old}
    if new == before:
        if old and old[0]["data_version"] != rec.data_version:
            db.execute("UPDATE sync_1c_payments SET data_version = ? WHERE member_id = ? AND base = ? AND ref_key = ?",
                       (rec.data_version, member_id, base, rec.ref))
        return set()
    now = clock.now()
    db.execute("DELETE FROM sync_1c_payments WHERE member_id = ? AND base = ? AND ref_key = ?",
               (member_id, base, rec.ref))
    for ref, amount in merged.items():
        db.execute(
            """INSERT INTO sync_1c_payments (member_id, base, ref_key, invoice_ref, kind, number, pay_date, amount,
               active, data_version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (member_id, base, rec.ref, ref, rec.kind, rec.number, rec.date, amount, active, rec.data_version, now),
        )
    return {r[0] for r in before} | set(merged)


def deactivate_missing(db: Database, member_id: str, base: str, date_from: str, date_to: str, seen: set[str]
                       ) -> set[str]:
    """Payments stored for ``[date_from, date_to)`` that a complete read of that window no longer
    returned were deleted in 1C: they stop counting. Returns the invoices affected."""
    rows = db.query("""SELECT DISTINCT ref_key FROM sync_1c_payments WHERE member_id = ? AND base = ? AND active = 1
                       AND pay_date >= ? AND pay_date < ?""", (member_id, base, date_from, date_to))
    gone = [r["ref_key"] for r in rows if r["ref_key"] not in seen]
    affected: set[str] = set()
    for ref in gone:
        for r in db.query("SELECT invoice_ref FROM sync_1c_payments WHERE member_id = ? AND base = ? AND ref_key = ?",
                          (member_id, base, ref)):
            affected.add(r["invoice_ref"])
        db.execute("UPDATE sync_1c_payments SET active = 0, data_version = 'deleted', updated_at = ? "
                   "WHERE member_id = ? AND base = ? AND ref_key = ?", (clock.now(), member_id, base, ref))
    return affected


def payments_of_invoice(db: Database, member_id: str, base: str, ref: str) -> list[dict[str, Any]]:
    return db.query("""SELECT ref_key, kind, number, pay_date, amount, active FROM sync_1c_payments
                       WHERE member_id = ? AND base = ? AND invoice_ref = ? ORDER BY pay_date, ref_key""",
                    (member_id, base, ref))


def payments_between(db: Database, member_id: str, date_from: str, date_to: str) -> list[dict[str, Any]]:
    """Active payments of invoices linked to deals, dated in ``[date_from, date_to]`` (dates, inclusive)."""
    return db.query(
        """SELECT i.deal_id, p.amount, p.pay_date, p.base, p.ref_key FROM sync_1c_payments p
           JOIN sync_1c_invoices i ON i.member_id = p.member_id AND i.base = p.base AND i.ref_key = p.invoice_ref
           WHERE p.member_id = ? AND p.active = 1 AND i.deal_id IS NOT NULL AND p.pay_date >= ? AND p.pay_date < ?
           ORDER BY p.pay_date, p.ref_key""",
        (member_id, date_from, date_to),
    )


# -- the outbox of portal writes ------------------------------------------------------------------------
def mark_dirty(db: Database, member_id: str, base: str, refs: set[str] | list[str], reason: str, *,
               force: bool = False) -> int:
    """Queue tracked invoices for writing to the portal (ignores refs we do not track, unless
    ``force``: an invoice just imported from 1C that has no smart invoice yet)."""
    n = 0
    for ref in refs:
        tracked = db.one("SELECT deal_id, smart_invoice_id FROM sync_1c_invoices WHERE member_id = ? AND base = ? "
                         "AND ref_key = ?", (member_id, base, ref))
        if tracked is None:
            continue
        if not force and tracked["deal_id"] is None and tracked["smart_invoice_id"] is None:
            continue
        db.execute(
            """INSERT INTO sync_1c_dirty (member_id, base, invoice_ref, reason, created_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (member_id, base, invoice_ref) DO UPDATE SET reason = excluded.reason""",
            (member_id, base, ref, reason[:200], clock.now()),
        )
        n += 1
    return n


def dirty(db: Database, member_id: str, base: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    sql = "SELECT * FROM sync_1c_dirty WHERE member_id = ?"
    params: list[Any] = [member_id]
    if base:
        sql += " AND base = ?"
        params.append(base)
    return db.query(sql + " ORDER BY created_at LIMIT ?", (*params, limit))


def clear_dirty(db: Database, member_id: str, base: str, ref: str, created_at: float) -> None:
    """Done with a write; a newer mark made meanwhile stays."""
    db.execute("DELETE FROM sync_1c_dirty WHERE member_id = ? AND base = ? AND invoice_ref = ? AND created_at <= ?",
               (member_id, base, ref, created_at))


def applied(db: Database, member_id: str, base: str, ref: str) -> dict[str, Any]:
    row = db.one("SELECT state FROM sync_1c_applied WHERE member_id = ? AND base = ? AND invoice_ref = ?",
                 (member_id, base, ref))
    return loads(row["state"], {}) if row else {}


def put_applied(db: Database, member_id: str, base: str, ref: str, state: dict[str, Any]) -> None:
    db.execute(
        """INSERT INTO sync_1c_applied (member_id, base, invoice_ref, state, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (member_id, base, invoice_ref) DO UPDATE SET state = excluded.state,
           updated_at = excluded.updated_at""",
        (member_id, base, ref, dumps(state), clock.now()),
    )


# -- dead letters -----------------------------------------------------------------------------------------
def put_dead(db: Database, member_id: str, base: str, stream: str, key: str, reason: str, *,
             failure: str = "data", payload: Any = None) -> None:
    now = clock.now()
    db.execute(
        """INSERT INTO sync_1c_dead (member_id, base, stream, record_key, reason, failure, payload, attempts,
           created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
           ON CONFLICT (member_id, base, stream, record_key) DO UPDATE SET reason = excluded.reason,
           failure = excluded.failure, payload = excluded.payload, attempts = sync_1c_dead.attempts + 1,
           updated_at = excluded.updated_at, resolved_at = NULL""",
        (member_id, base, stream, key, reason[:2000], failure, dumps(payload or {}), now, now),
    )


def resolve_dead(db: Database, member_id: str, base: str, stream: str, key: str) -> None:
    db.execute("UPDATE sync_1c_dead SET resolved_at = ? WHERE member_id = ? AND base = ? AND stream = ? "
               "AND record_key = ? AND resolved_at IS NULL", (clock.now(), member_id, base, stream, key))


def dead_letters(db: Database, member_id: str, base: str | None = None, *, open_only: bool = True,
                 limit: int = 200) -> list[dict[str, Any]]:
    sql = "SELECT * FROM sync_1c_dead WHERE member_id = ?"
    params: list[Any] = [member_id]
    if base:
        sql += " AND base = ?"
        params.append(base)
    if open_only:
        sql += " AND resolved_at IS NULL"
    rows = db.query(sql + " ORDER BY updated_at DESC LIMIT ?", (*params, limit))
    for r in rows:
        r["payload"] = loads(r["payload"], {})
        r["created_at"] = clock.iso(r["created_at"])
        r["updated_at"] = clock.iso(r["updated_at"])
        r["resolved_at"] = clock.iso(r["resolved_at"])
    return rows


def dead_count(db: Database, member_id: str, base: str) -> int:
    return int(db.scalar("SELECT COUNT(*) FROM sync_1c_dead WHERE member_id = ? AND base = ? AND resolved_at IS NULL",
                         (member_id, base)) or 0)
