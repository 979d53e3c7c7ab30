"""The inbound log: every verified event, robot call and install callback, deduplicated by key,
with the job it produced (inserted in the same transaction)."""

from __future__ import annotations

from typing import Any

from b24app import clock
from b24app.store import jobs
from b24app.store.db import Database, dumps, loads


def record_with_job(
    db: Database,
    *,
    member_id: str,
    kind: str,
    name: str,
    dedupe_key: str,
    payload: dict[str, Any],
    job_kind: str,
    job_payload: dict[str, Any],
    priority: int = 0,
    lock_key: str | None = None,
    max_attempts: int = 8,
    entity_id: str | None = None,
) -> tuple[int | None, bool]:
    """Insert the inbound row and its job atomically. Returns (job id, created); a duplicate
    delivery creates nothing and returns the first delivery's job id."""
    with db.transaction():
        rows = db.query(
            """INSERT INTO inbound (member_id, kind, name, dedupe_key, received_at, payload, entity_id)
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id""",
            (member_id, kind, name, dedupe_key, clock.now(), dumps(payload), entity_id),
        )
        if not rows:  # a duplicate delivery (also one racing this one in another process)
            existing = db.one("SELECT job_id FROM inbound WHERE dedupe_key = ?", (dedupe_key,))
            return (existing["job_id"] if existing else None), False
        job_id, _ = jobs.enqueue(
            db, job_kind, job_payload, member_id=member_id, dedupe_key=f"inbound:{dedupe_key}",
            priority=priority, lock_key=lock_key, max_attempts=max_attempts,
        )
        db.execute("UPDATE inbound SET job_id = ? WHERE id = ?", (job_id, rows[0]["id"]))
    return job_id, True


def recent(db: Database, member_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    sql = "SELECT * FROM inbound"
    params: list[Any] = []
    if member_id:
        sql += " WHERE member_id = ?"
        params.append(member_id)
    rows = db.query(sql + " ORDER BY id DESC LIMIT ?", [*params, limit])
    for r in rows:
        r["payload"] = loads(r["payload"], {})
        r["received_at"] = clock.iso(r["received_at"])
    return rows


def count(db: Database, member_id: str, kind: str | None = None) -> int:
    sql = "SELECT COUNT(*) FROM inbound WHERE member_id = ?"
    params: list[Any] = [member_id]
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return int(db.scalar(sql, params) or 0)


def seen_since(db: Database, member_id: str, name: str, entity_id: str, since: float) -> bool:
    """Whether an event ``name`` about ``entity_id`` was received at or after ``since``."""
    row = db.one(
        "SELECT 1 AS x FROM inbound WHERE member_id = ? AND name = ? AND entity_id = ? AND received_at >= ? LIMIT 1",
        (member_id, name, entity_id, since),
    )
    return row is not None
