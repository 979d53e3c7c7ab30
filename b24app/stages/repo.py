"""SQL of the stages feature's own tables (see b24app/stages/schema.py). Other features never write
these tables; they call the functions here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from b24app import clock
from b24app.store.db import Database, dumps, loads


# --- last seen stage -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Seen:
    entity: str
    item_id: int
    category_id: int
    stage_id: str
    entry: str
    entered_at: float | None
    assigned_by_id: int | None
    watched: dict[str, Any]


def get_seen(db: Database, member_id: str, entity: str, item_id: int) -> Seen | None:
    row = db.one("SELECT * FROM stages_seen WHERE member_id = ? AND entity = ? AND item_id = ?",
                 (member_id, entity, item_id))
    if row is None:
        return None
    return Seen(row["entity"], int(row["item_id"]), int(row["category_id"]), row["stage_id"], row["entry"],
                row["entered_at"], row["assigned_by_id"], loads(row["watched"], {}))


def put_seen(db: Database, member_id: str, seen: Seen) -> None:
    db.execute(
        """INSERT INTO stages_seen (member_id, entity, item_id, category_id, stage_id, entry, entered_at,
               assigned_by_id, watched, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, entity, item_id) DO UPDATE SET category_id = excluded.category_id,
               stage_id = excluded.stage_id, entry = excluded.entry, entered_at = excluded.entered_at,
               assigned_by_id = excluded.assigned_by_id, watched = excluded.watched,
               updated_at = excluded.updated_at""",
        (member_id, seen.entity, seen.item_id, seen.category_id, seen.stage_id, seen.entry, seen.entered_at,
         seen.assigned_by_id, dumps(seen.watched), clock.now()),
    )


# --- tasks the app created -------------------------------------------------------------------------
@dataclass(frozen=True)
class OurTask:
    task_id: int
    entity: str
    item_id: int
    stage_id: str
    entry: str
    template_id: str
    approval: bool
    responsible_id: int | None
    status: int
    closed_at: float | None


def _our_task(row: dict[str, Any]) -> OurTask:
    return OurTask(int(row["task_id"]), row["entity"], int(row["item_id"]), row["stage_id"], row["entry"],
                   row["template_id"], bool(row["approval"]), row["responsible_id"], int(row["status"]),
                   row["closed_at"])


def record_task(db: Database, member_id: str, *, task_id: int, entity: str, item_id: int, stage_id: str,
                entry: str, template_id: str, approval: bool, responsible_id: int | None) -> None:
    db.execute(
        """INSERT INTO stages_tasks (member_id, task_id, entity, item_id, stage_id, entry, template_id, approval,
               responsible_id, status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 2, ?) ON CONFLICT (member_id, task_id) DO NOTHING""",
        (member_id, task_id, entity, item_id, stage_id, entry, template_id, 1 if approval else 0, responsible_id,
         clock.now()),
    )


def get_task(db: Database, member_id: str, task_id: int) -> OurTask | None:
    row = db.one("SELECT * FROM stages_tasks WHERE member_id = ? AND task_id = ?", (member_id, task_id))
    return _our_task(row) if row else None


def tasks_of_entry(db: Database, member_id: str, entity: str, item_id: int, stage_id: str,
                   entry: str) -> list[OurTask]:
    rows = db.query(
        """SELECT * FROM stages_tasks WHERE member_id = ? AND entity = ? AND item_id = ? AND stage_id = ?
           AND entry = ? ORDER BY task_id""",
        (member_id, entity, item_id, stage_id, entry),
    )
    return [_our_task(r) for r in rows]


def tasks_of_item(db: Database, member_id: str, entity: str, item_id: int) -> list[OurTask]:
    rows = db.query("SELECT * FROM stages_tasks WHERE member_id = ? AND entity = ? AND item_id = ? ORDER BY task_id",
                    (member_id, entity, item_id))
    return [_our_task(r) for r in rows]


def set_task_status(db: Database, member_id: str, task_id: int, status: int, *, closed: bool = False) -> None:
    if closed:
        db.execute("UPDATE stages_tasks SET status = ?, closed_at = ? WHERE member_id = ? AND task_id = ?",
                   (status, clock.now(), member_id, task_id))
    else:
        db.execute("UPDATE stages_tasks SET status = ? WHERE member_id = ? AND task_id = ?",
                   (status, member_id, task_id))


# --- SLA state -------------------------------------------------------------------------------------
def put_sla(db: Database, member_id: str, row: dict[str, Any]) -> None:
    db.execute(
        """INSERT INTO stages_sla (member_id, entity, item_id, category_id, stage_id, entry, title, assigned_by_id,
               entered_at, due_at, overdue, late_hours, steps_done, flagged, scanned_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, entity, item_id) DO UPDATE SET category_id = excluded.category_id,
               stage_id = excluded.stage_id, entry = excluded.entry, title = excluded.title,
               assigned_by_id = excluded.assigned_by_id, entered_at = excluded.entered_at,
               due_at = excluded.due_at, overdue = excluded.overdue, late_hours = excluded.late_hours,
               steps_done = excluded.steps_done, flagged = excluded.flagged, scanned_at = excluded.scanned_at""",
        (member_id, row["entity"], row["item_id"], row.get("category_id", 0), row["stage_id"], row["entry"],
         row.get("title", ""), row.get("assigned_by_id"), row.get("entered_at"), row.get("due_at"),
         1 if row.get("overdue") else 0, float(row.get("late_hours") or 0), int(row.get("steps_done") or 0),
         1 if row.get("flagged") else 0, row.get("scanned_at", clock.now())),
    )


def drop_sla(db: Database, member_id: str, entity: str, item_id: int) -> None:
    db.execute("DELETE FROM stages_sla WHERE member_id = ? AND entity = ? AND item_id = ?",
               (member_id, entity, item_id))


def sla_item_ids(db: Database, member_id: str, entity: str) -> list[int]:
    return [int(r["item_id"]) for r in db.query("SELECT item_id FROM stages_sla WHERE member_id = ? AND entity = ?",
                                                (member_id, entity))]


def overdue_rows(db: Database, member_id: str, manager: int | None = None,
                 managers: list[int] | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM stages_sla WHERE member_id = ? AND overdue = 1"
    params: list[Any] = [member_id]
    if manager is not None:
        sql += " AND assigned_by_id = ?"
        params.append(manager)
    if managers is not None:
        if not managers:
            return []
        sql += f" AND assigned_by_id IN ({', '.join('?' for _ in managers)})"
        params.extend(managers)
    return db.query(sql + " ORDER BY due_at, entity, item_id", params)


def sla_row(db: Database, member_id: str, entity: str, item_id: int) -> dict[str, Any] | None:
    return db.one("SELECT * FROM stages_sla WHERE member_id = ? AND entity = ? AND item_id = ?",
                  (member_id, entity, item_id))


# --- overdue payments ------------------------------------------------------------------------------
def put_payment(db: Database, member_id: str, row: dict[str, Any]) -> None:
    db.execute(
        """INSERT INTO stages_payments (member_id, deal_id, invoice, title, assigned_by_id, source, due_date, amount,
               paid, outstanding, days_overdue, status, last_step, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, deal_id, invoice) DO UPDATE SET title = excluded.title,
               assigned_by_id = excluded.assigned_by_id, source = excluded.source, due_date = excluded.due_date,
               amount = excluded.amount, paid = excluded.paid, outstanding = excluded.outstanding,
               days_overdue = excluded.days_overdue, status = excluded.status,
               last_step = CASE WHEN excluded.last_step = '' THEN stages_payments.last_step
                                ELSE excluded.last_step END,
               updated_at = excluded.updated_at""",
        (member_id, row["deal_id"], row["invoice"], row.get("title", ""), row.get("assigned_by_id"), row["source"],
         row.get("due_date"), float(row.get("amount") or 0), float(row.get("paid") or 0),
         float(row.get("outstanding") or 0), int(row.get("days_overdue") or 0), row["status"],
         row.get("last_step", ""), clock.now()),
    )


def payments(db: Database, member_id: str, status: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM stages_payments WHERE member_id = ?"
    params: list[Any] = [member_id]
    if status:
        sql += " AND status = ?"
        params.append(status)
    return db.query(sql + " ORDER BY days_overdue DESC, deal_id", params)


def set_deal_payment_status(db: Database, member_id: str, deal_id: int, status: str) -> None:
    db.execute("UPDATE stages_payments SET status = ?, updated_at = ? WHERE member_id = ? AND deal_id = ?",
               (status, clock.now(), member_id, deal_id))


def payment_of(db: Database, member_id: str, deal_id: int, invoice: str) -> dict[str, Any] | None:
    return db.one("SELECT * FROM stages_payments WHERE member_id = ? AND deal_id = ? AND invoice = ?",
                  (member_id, deal_id, invoice))


def log_payment_step(db: Database, member_id: str, deal_id: int, invoice: str, step: str, status: str,
                     detail: str = "") -> None:
    db.execute(
        """INSERT INTO stages_payment_log (member_id, deal_id, invoice, step, status, detail, at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (member_id, deal_id, invoice, step) DO UPDATE SET status = excluded.status,
               detail = excluded.detail, at = excluded.at""",
        (member_id, deal_id, invoice, step, status, detail[:2000], clock.now()),
    )


def payment_log(db: Database, member_id: str, deal_id: int | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM stages_payment_log WHERE member_id = ?"
    params: list[Any] = [member_id]
    if deal_id is not None:
        sql += " AND deal_id = ?"
        params.append(deal_id)
    return db.query(sql + " ORDER BY at, deal_id, step", params)
