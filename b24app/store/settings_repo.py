"""Per-portal settings documents (validated by b24app.settings before they are saved)."""

from __future__ import annotations

from typing import Any

from b24app import clock
from b24app.store.db import Database, dumps, loads


def load(db: Database, member_id: str) -> tuple[dict[str, Any] | None, int]:
    """The stored document and its version (None, 0 when the portal has none)."""
    row = db.one("SELECT document, version FROM settings WHERE member_id = ?", (member_id,))
    if row is None:
        return None, 0
    return loads(row["document"], {}), int(row["version"])


def save(db: Database, member_id: str, document: dict[str, Any], *, updated_by: str = "",
         expected_version: int | None = None) -> int:
    """Replace the document atomically; with ``expected_version`` refuse a concurrent edit.
    Returns the new version."""
    with db.transaction():
        row = db.one("SELECT version FROM settings WHERE member_id = ?" + db.for_update, (member_id,))
        current = int(row["version"]) if row else 0
        if expected_version is not None and expected_version != current:
            raise ConcurrentEdit(current)
        new = current + 1
        if row is None:
            inserted = db.execute(
                "INSERT INTO settings (member_id, document, version, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (member_id) DO NOTHING",
                (member_id, dumps(document), new, clock.now(), updated_by),
            )
            if inserted != 1:  # another process saved the first version meanwhile
                raise ConcurrentEdit(1)
        else:
            db.execute(
                "UPDATE settings SET document = ?, version = ?, updated_at = ?, updated_by = ? "
                "WHERE member_id = ?",
                (dumps(document), new, clock.now(), updated_by, member_id),
            )
    return new


class ConcurrentEdit(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"settings were changed meanwhile (now version {current})")
        self.current = current
