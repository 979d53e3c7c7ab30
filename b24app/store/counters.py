"""Named per-portal counters, incremented atomically (``UPDATE ... RETURNING`` under the write
lock): gapless sequences, round-robin pointers, caps per day."""

from __future__ import annotations

from b24app import clock
from b24app.store.db import Database


def next_value(db: Database, member_id: str, name: str, period: str = "", *, start: int = 1,
               step: int = 1) -> int:
    """Increment and return the counter; the first value is ``start``. Call inside the caller's
    transaction when the number must commit together with the record that uses it."""
    with db.transaction():
        rows = db.query(
            """INSERT INTO counters (member_id, name, period, value, updated_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (member_id, name, period) DO UPDATE SET value = counters.value + ?,
               updated_at = excluded.updated_at RETURNING value""",
            (member_id, name, period, start, clock.now(), step),
        )
        return int(rows[0]["value"])


def get(db: Database, member_id: str, name: str, period: str = "") -> int | None:
    v = db.scalar("SELECT value FROM counters WHERE member_id = ? AND name = ? AND period = ?",
                  (member_id, name, period))
    return None if v is None else int(v)


def set_value(db: Database, member_id: str, name: str, value: int, period: str = "") -> None:
    db.execute(
        """INSERT INTO counters (member_id, name, period, value, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (member_id, name, period) DO UPDATE SET value = excluded.value,
           updated_at = excluded.updated_at""",
        (member_id, name, period, value, clock.now()),
    )
