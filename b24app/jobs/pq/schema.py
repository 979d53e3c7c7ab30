"""procrastinate's own schema in our PostgreSQL store: applied once, idempotently, and recorded.

procrastinate ships its whole schema as one SQL file for a fresh database (and numbered migration
files between its versions). We apply the file when its tables are missing, under an advisory
lock so two processes starting together never both try, and record the package version in
``schema_migrations`` as ``procrastinate@<version>``: a later package upgrade is then reported
(``b24app doctor``, ``b24app db status``) instead of silently running old SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from typing import Any

from b24app import clock
from b24app.jobs.pq import queue
from b24app.store.db import Database

SCHEMA_LOCK = 7_224_802
MARK = "procrastinate@"
# our lookup "is a delivery pending for job N?" (recovery, duplicate checks) stays an index scan
INDEX = ("CREATE INDEX IF NOT EXISTS b24app_pq_job_ref ON procrastinate_jobs ((args->>'job_id')) "
         "WHERE status IN ('todo', 'doing')")


def package_version() -> str:
    return metadata.version("procrastinate")


@dataclass
class Status:
    installed: bool
    recorded: str | None  # the version recorded when the schema was applied
    package: str  # the installed package's version

    @property
    def current(self) -> bool:
        return self.installed and self.recorded == self.package

    def public(self) -> dict[str, Any]:
        return {"installed": self.installed, "recorded_version": self.recorded,
                "package_version": self.package, "current": self.current}


def _recorded(db: Database) -> str | None:
    db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at "
               + db.ddl("{REAL}") + " NOT NULL)")
    rows = db.query("SELECT id FROM schema_migrations WHERE id LIKE ?", (MARK + "%",))
    return rows[0]["id"][len(MARK):] if rows else None


def status(db: Database) -> Status:
    if db.dialect != "postgres":
        return Status(False, None, package_version())
    installed = bool(db.scalar("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS installed"))
    return Status(installed, _recorded(db), package_version())


def install(db: Database) -> bool:
    """Apply procrastinate's schema unless present; returns True when it was applied now.
    Raises RuntimeError when the schema was applied by another procrastinate version."""
    if db.dialect != "postgres":
        raise RuntimeError("procrastinate needs PostgreSQL (B24APP_DATABASE_URL=postgresql://...)")
    from procrastinate.schema import SchemaManager

    applied = False
    with db.transaction():
        db.serialize(SCHEMA_LOCK)
        recorded = _recorded(db)
        present = bool(db.scalar("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS installed"))
        if not present:
            # raw connection, no parameters: the file is SQL text with its own % and ? characters
            db.conn.execute(SchemaManager.get_schema())  # type: ignore[attr-defined]
            applied = True
        elif recorded and recorded != package_version():
            raise RuntimeError(
                f"procrastinate's schema was applied by version {recorded}, the installed package is "
                f"{package_version()}: apply its migrations between them (procrastinate/sql/migrations) "
                f"and then record the version: UPDATE schema_migrations SET id = '{MARK}{package_version()}' "
                f"WHERE id = '{MARK}{recorded}'")
        db.conn.execute(INDEX)  # type: ignore[attr-defined]
        if recorded is None:
            db.execute("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)",
                       (MARK + package_version(), clock.now()))
    queue.forget(db)
    return applied
