"""Stream cursors and state of incremental syncs (committed with the data they cover)."""

from __future__ import annotations

from typing import Any

from b24app import clock
from b24app.store.db import Database, dumps, loads


def get(db: Database, member_id: str, stream: str) -> tuple[str | None, dict[str, Any]]:
    row = db.one("SELECT cursor, state FROM sync_state WHERE member_id = ? AND stream = ?",
                 (member_id, stream))
    if row is None:
        return None, {}
    return row["cursor"], loads(row["state"], {})


def put(db: Database, member_id: str, stream: str, cursor: str | None, state: dict[str, Any]) -> None:
    """Upsert; call inside the transaction that writes the records the cursor covers."""
    db.execute(
        """INSERT INTO sync_state (member_id, stream, cursor, state, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (member_id, stream) DO UPDATE SET cursor = excluded.cursor,
           state = excluded.state, updated_at = excluded.updated_at""",
        (member_id, stream, cursor, dumps(state), clock.now()),
    )


def list_streams(db: Database, member_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT * FROM sync_state WHERE member_id = ? ORDER BY stream", (member_id,))
    for r in rows:
        r["state"] = loads(r["state"], {})
    return rows
