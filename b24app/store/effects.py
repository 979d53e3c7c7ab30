"""Idempotent side effects: a key per effect ("task for deal 5 stage X template 2") remembers
what was created. A retry after a crash or an ambiguous answer (a 500 after the portal committed)
first asks ``find`` whether the effect exists on the remote side before creating it again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from b24app import clock
from b24app.store.db import Database, dumps, loads

T = TypeVar("T")
PENDING, DONE = "pending", "done"


def get(db: Database, member_id: str, key: str) -> tuple[str, Any] | None:
    row = db.one("SELECT status, result FROM effects WHERE member_id = ? AND key = ?", (member_id, key))
    if row is None:
        return None
    return row["status"], loads(row["result"])


def mark_pending(db: Database, member_id: str, key: str) -> None:
    now = clock.now()
    db.execute(
        """INSERT INTO effects (member_id, key, status, attempts, created_at, updated_at)
           VALUES (?, ?, ?, 1, ?, ?)
           ON CONFLICT (member_id, key) DO UPDATE SET attempts = effects.attempts + 1,
           updated_at = excluded.updated_at""",
        (member_id, key, PENDING, now, now),
    )


def mark_done(db: Database, member_id: str, key: str, result: Any) -> None:
    now = clock.now()
    db.execute(
        """INSERT INTO effects (member_id, key, status, result, attempts, created_at, updated_at)
           VALUES (?, ?, ?, ?, 1, ?, ?)
           ON CONFLICT (member_id, key) DO UPDATE SET status = excluded.status,
           result = excluded.result, updated_at = excluded.updated_at""",
        (member_id, key, DONE, dumps(result), now, now),
    )


def forget(db: Database, member_id: str, key: str) -> None:
    db.execute("DELETE FROM effects WHERE member_id = ? AND key = ?", (member_id, key))


def ensure(
    db: Database,
    member_id: str,
    key: str,
    create: Callable[[], T],
    find: Callable[[], T | None] | None = None,
) -> T:
    """Run ``create`` once per ``key``. When an earlier attempt may have reached the remote side
    (status pending), ``find`` is asked first and its answer is taken if it finds the effect."""
    state = get(db, member_id, key)
    if state is not None:
        status, result = state
        if status == DONE:
            return result
        if find is not None:
            found = find()
            if found is not None:
                mark_done(db, member_id, key, found)
                return found
    mark_pending(db, member_id, key)
    result = create()
    mark_done(db, member_id, key, result)
    return result


def done_keys(db: Database, member_id: str, prefix: str) -> dict[str, Any]:
    """Results of the done effects whose key starts with ``prefix``."""
    rows = db.query(
        "SELECT key, result FROM effects WHERE member_id = ? AND status = ? AND key LIKE ? ESCAPE '!'",
        (member_id, DONE, prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"),
    )
    return {r["key"]: loads(r["result"]) for r in rows}
