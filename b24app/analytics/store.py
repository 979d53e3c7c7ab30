"""Writing the portal's CRM rows into the analytics tables.

Rows arrive as the portal's REST answers show them (``crm.lead.list``, ``crm.deal.list``,
``crm.stagehistory.list``, ``user.get``, ``crm.status.list`` ...): string ids, ISO dates with an
offset, ``Y``/``N`` flags. The mappers below turn one such row into one table row; :func:`upsert`
writes many rows with multi-row ``INSERT ... ON CONFLICT DO UPDATE`` statements (one text for
SQLite and PostgreSQL). Nothing here talks to the portal: :mod:`b24app.analytics.pull` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from b24app.store.db import Database

LEAD = 1
DEAL = 2
ROWS_PER_STATEMENT = 200

_SEMANTIC = {"S": "S", "F": "F", "P": "P", "SUCCESS": "S", "FAILURE": "F", "PROCESS": "P", "APOLOGY": "F"}


def parse_time(value: Any) -> float | None:
    """Unix seconds of an ISO 8601 date(-time) as the portal writes it; None for empty values."""
    if value is None or value == "" or isinstance(value, dict | list):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the portal always writes an offset; assume Moscow when it does not
        parsed = parsed.replace(tzinfo=dt.timezone(dt.timedelta(hours=3)))
    return parsed.timestamp()


def as_int(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number


def as_float(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def semantic(value: Any, fallback: str | None = None) -> str:
    """``S`` success, ``F`` failure, ``P`` in progress, from any of the portal's spellings."""
    key = str(value or "").strip().upper()
    if key in _SEMANTIC:
        return _SEMANTIC[key]
    return fallback or "P"


def yes(value: Any) -> int:
    return 1 if value is True or str(value).upper() in ("Y", "1", "TRUE") else 0


# --- mappers: one REST row -> one table row ------------------------------------------------------
def lead_row(member_id: str, r: Mapping[str, Any], statuses: Mapping[str, str]) -> dict[str, Any]:
    status = str(r.get("STATUS_ID") or "")
    return {
        "member_id": member_id,
        "id": as_int(r.get("ID")),
        "title": str(r.get("TITLE") or "")[:500],
        "status_id": status,
        "semantic": semantic(r.get("STATUS_SEMANTIC_ID"), statuses.get(status)),
        "source_id": r.get("SOURCE_ID") or None,
        "assigned_by_id": as_int(r.get("ASSIGNED_BY_ID")),
        "company_id": as_int(r.get("COMPANY_ID")) or None,
        "contact_id": as_int(r.get("CONTACT_ID")) or None,
        "opportunity": as_float(r.get("OPPORTUNITY")),
        "created_at": parse_time(r.get("DATE_CREATE")),
        "modified_at": parse_time(r.get("DATE_MODIFY")) or parse_time(r.get("DATE_CREATE")),
        "closed_at": parse_time(r.get("DATE_CLOSED")),
    }


def deal_row(member_id: str, r: Mapping[str, Any], stages: Mapping[str, str]) -> dict[str, Any]:
    stage = str(r.get("STAGE_ID") or "")
    return {
        "member_id": member_id,
        "id": as_int(r.get("ID")),
        "title": str(r.get("TITLE") or "")[:500],
        "category_id": as_int(r.get("CATEGORY_ID")) or 0,
        "stage_id": stage,
        "semantic": semantic(r.get("STAGE_SEMANTIC_ID"), stages.get(stage)),
        "source_id": r.get("SOURCE_ID") or None,
        "assigned_by_id": as_int(r.get("ASSIGNED_BY_ID")),
        "company_id": as_int(r.get("COMPANY_ID")) or None,
        "contact_id": as_int(r.get("CONTACT_ID")) or None,
        "lead_id": as_int(r.get("LEAD_ID")) or None,
        "opportunity": as_float(r.get("OPPORTUNITY")),
        "currency_id": str(r.get("CURRENCY_ID") or ""),
        "created_at": parse_time(r.get("DATE_CREATE")),
        "modified_at": parse_time(r.get("DATE_MODIFY")) or parse_time(r.get("DATE_CREATE")),
        "moved_at": parse_time(r.get("MOVED_TIME")),
        "close_date": parse_time(r.get("CLOSEDATE")),
    }


def history_row(member_id: str, entity_type: int, r: Mapping[str, Any],
                stages: Mapping[str, str]) -> dict[str, Any]:
    stage = str(r.get("STATUS_ID") if entity_type == LEAD else r.get("STAGE_ID") or "")
    sem = r.get("STATUS_SEMANTIC_ID") if entity_type == LEAD else r.get("STAGE_SEMANTIC_ID")
    return {
        "member_id": member_id,
        "entity_type": entity_type,
        "id": as_int(r.get("ID")),
        "owner_id": as_int(r.get("OWNER_ID")),
        "type_id": as_int(r.get("TYPE_ID")) or 1,
        "category_id": as_int(r.get("CATEGORY_ID")) if entity_type == DEAL else None,
        "stage_id": stage or "",
        "semantic": semantic(sem, stages.get(stage or "")),
        "created_at": parse_time(r.get("CREATED_TIME")) or 0.0,
    }


def user_row(member_id: str, r: Mapping[str, Any]) -> dict[str, Any]:
    name = " ".join(p for p in (str(r.get("LAST_NAME") or "").strip(), str(r.get("NAME") or "").strip()) if p)
    return {
        "member_id": member_id,
        "id": as_int(r.get("ID")),
        "name": name or f"#{r.get('ID')}",
        "active": 0 if r.get("ACTIVE") in (False, "N", "false", 0) else 1,
        "position": str(r.get("WORK_POSITION") or ""),
    }


def status_row(member_id: str, r: Mapping[str, Any]) -> dict[str, Any]:
    extra = r.get("EXTRA") if isinstance(r.get("EXTRA"), dict) else {}
    return {
        "member_id": member_id,
        "entity_id": str(r.get("ENTITY_ID") or ""),
        "status_id": str(r.get("STATUS_ID") or ""),
        "name": str(r.get("NAME") or r.get("STATUS_ID") or ""),
        "sort": as_int(r.get("SORT")) or 0,
        "semantic": semantic(r.get("SEMANTICS") or extra.get("SEMANTICS")),
        "category_id": as_int(r.get("CATEGORY_ID")),
        "color": str(r.get("COLOR") or extra.get("COLOR") or ""),
    }


def category_row(member_id: str, r: Mapping[str, Any]) -> dict[str, Any]:
    return {"member_id": member_id, "id": as_int(r.get("id", r.get("ID"))) or 0,
            "name": str(r.get("name", r.get("NAME")) or ""), "sort": as_int(r.get("sort", r.get("SORT"))) or 0}


def company_row(member_id: str, r: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "id": as_int(r.get("ID")),
        "title": str(r.get("TITLE") or "")[:500],
        "assigned_by_id": as_int(r.get("ASSIGNED_BY_ID")),
        "has_phone": yes(r.get("HAS_PHONE")),
        "has_email": yes(r.get("HAS_EMAIL")),
        "is_my_company": yes(r.get("IS_MY_COMPANY")),
        "modified_at": parse_time(r.get("DATE_MODIFY")),
    }


def requisite_row(member_id: str, r: Mapping[str, Any]) -> dict[str, Any]:
    return {"member_id": member_id, "id": as_int(r.get("ID")), "entity_type_id": as_int(r.get("ENTITY_TYPE_ID")) or 0,
            "entity_id": as_int(r.get("ENTITY_ID")) or 0, "inn": str(r.get("RQ_INN") or "").strip()}


def activity_row(member_id: str, r: Mapping[str, Any]) -> dict[str, Any]:
    return {"member_id": member_id, "id": as_int(r.get("ID")), "owner_type_id": as_int(r.get("OWNER_TYPE_ID")) or 0,
            "owner_id": as_int(r.get("OWNER_ID")) or 0, "responsible_id": as_int(r.get("RESPONSIBLE_ID")),
            "deadline": parse_time(r.get("DEADLINE")), "subject": str(r.get("SUBJECT") or "")[:300]}


# --- writing -------------------------------------------------------------------------------------
KEYS: dict[str, tuple[str, ...]] = {
    "analytics_leads": ("member_id", "id"),
    "analytics_deals": ("member_id", "id"),
    "analytics_history": ("member_id", "entity_type", "id"),
    "analytics_users": ("member_id", "id"),
    "analytics_statuses": ("member_id", "entity_id", "status_id"),
    "analytics_categories": ("member_id", "id"),
    "analytics_companies": ("member_id", "id"),
    "analytics_requisites": ("member_id", "id"),
    "analytics_activities": ("member_id", "id"),
    "analytics_payments": ("member_id", "seq"),
}


def upsert(db: Database, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or replace rows by the table's key; returns how many rows were written."""
    keys = KEYS[table]
    batch: list[Mapping[str, Any]] = []
    written = 0
    for row in rows:
        if any(row.get(k) is None for k in keys):
            continue  # a row without its id cannot be kept
        batch.append(row)
        if len(batch) >= ROWS_PER_STATEMENT:
            written += _write(db, table, keys, batch)
            batch = []
    if batch:
        written += _write(db, table, keys, batch)
    return written


def _write(db: Database, table: str, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> int:
    cols = list(rows[0].keys())
    # the same key twice in one statement is an error on PostgreSQL: keep the last
    unique: dict[tuple[Any, ...], Mapping[str, Any]] = {tuple(r[k] for k in keys): r for r in rows}
    values = ", ".join("(" + ", ".join("?" for _ in cols) + ")" for _ in unique)
    updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) VALUES {values} "
           f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")
    params: list[Any] = [r.get(c) for r in unique.values() for c in cols]
    db.execute(sql, params)
    return len(unique)


def replace_all(db: Database, table: str, member_id: str, rows: Iterable[Mapping[str, Any]]) -> int:
    """The portal's whole set of ``table`` becomes ``rows`` (snapshots: users, dictionaries, open
    activities, payments). Call inside a transaction."""
    db.execute(f"DELETE FROM {table} WHERE member_id = ?", (member_id,))
    return upsert(db, table, rows)


def delete_ids(db: Database, table: str, member_id: str, ids: Sequence[int]) -> int:
    done = 0
    for start in range(0, len(ids), 500):
        chunk = list(ids[start:start + 500])
        marks = ", ".join("?" for _ in chunk)
        done += db.execute(f"DELETE FROM {table} WHERE member_id = ? AND id IN ({marks})", [member_id, *chunk])
    return done


def semantics_map(db: Database, member_id: str, entity_prefix: str) -> dict[str, str]:
    """``{STATUS_ID: semantic}`` of lead statuses (``STATUS``) or deal stages (``DEAL_STAGE``...)."""
    rows = db.query("SELECT entity_id, status_id, semantic FROM analytics_statuses WHERE member_id = ?",
                    (member_id,))
    out: dict[str, str] = {}
    for r in rows:
        if entity_prefix == "STATUS" and r["entity_id"] == "STATUS":
            out[r["status_id"]] = r["semantic"]
        elif entity_prefix == "DEAL_STAGE" and r["entity_id"].startswith("DEAL_STAGE"):
            out[r["status_id"]] = r["semantic"]
    return out


ANALYTICS_TABLES = ("analytics_leads", "analytics_deals", "analytics_history", "analytics_companies",
                    "analytics_requisites", "analytics_activities")


def refresh_statistics(db: Database) -> None:
    """Let the query planner see the new sizes after a big load (PostgreSQL: ANALYZE; SQLite:
    PRAGMA optimize). Without it PostgreSQL plans fresh tables as nearly empty and nests loops."""
    if db.dialect == "postgres":
        db.execute("ANALYZE " + ", ".join(ANALYTICS_TABLES))
    else:
        db.execute("PRAGMA optimize")
