"""Versioned migrations.

Core migrations are listed here; each feature package may add its own in ``b24app/<pkg>/schema.py``
as ``MIGRATIONS = [("<pkg>_0001_<name>", ["CREATE TABLE ...", ...]), ...]``. Ids are unique
strings; core runs first, then packages in name order, each in list order. DDL may use the macros
``{ID}`` (auto-increment primary key), ``{REAL}``, ``{BLOB}``, ``{BIGINT}`` so one text serves
SQLite and PostgreSQL. ``b24app db upgrade`` (and every process start) applies what is pending.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence

import b24app
from b24app import clock
from b24app.store.db import Database

Migration = tuple[str, Sequence[str]]
MIGRATION_LOCK = 7_224_802

CORE: list[Migration] = [
    (
        "core_0001_init",
        [
            """CREATE TABLE installations (
                member_id TEXT PRIMARY KEY,
                domain TEXT NOT NULL,
                client_endpoint TEXT NOT NULL,
                server_endpoint TEXT NOT NULL DEFAULT '',
                access_token TEXT NOT NULL DEFAULT '',
                refresh_token TEXT NOT NULL DEFAULT '',
                expires_at {REAL} NOT NULL DEFAULT 0,
                application_token TEXT NOT NULL DEFAULT '',
                scopes TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT 'active',
                user_id {BIGINT},
                lang TEXT NOT NULL DEFAULT 'ru',
                app_version TEXT NOT NULL DEFAULT '',
                plan TEXT NOT NULL DEFAULT 'standard',
                rate_drain {REAL} NOT NULL DEFAULT 2,
                rate_burst {REAL} NOT NULL DEFAULT 50,
                installed_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                refreshed_at {REAL},
                registered_at {REAL},
                last_error TEXT,
                last_error_at {REAL}
            )""",
            """CREATE TABLE jobs (
                id {ID},
                member_id TEXT,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL DEFAULT '{}',
                dedupe_key TEXT UNIQUE,
                lock_key TEXT,
                status TEXT NOT NULL DEFAULT 'queued',
                priority INTEGER NOT NULL DEFAULT 0,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL DEFAULT 8,
                run_at {REAL} NOT NULL,
                lease_until {REAL},
                worker_id TEXT,
                last_error TEXT,
                last_error_action TEXT,
                result TEXT,
                created_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                finished_at {REAL}
            )""",
            "CREATE INDEX jobs_due ON jobs (status, run_at)",
            "CREATE INDEX jobs_lock ON jobs (lock_key, status)",
            "CREATE INDEX jobs_member ON jobs (member_id, status)",
            """CREATE TABLE inbound (
                id {ID},
                member_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                dedupe_key TEXT NOT NULL UNIQUE,
                received_at {REAL} NOT NULL,
                payload TEXT NOT NULL,
                job_id {BIGINT}
            )""",
            "CREATE INDEX inbound_member ON inbound (member_id, received_at)",
            """CREATE TABLE settings (
                member_id TEXT PRIMARY KEY,
                document TEXT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                updated_at {REAL} NOT NULL,
                updated_by TEXT
            )""",
            """CREATE TABLE counters (
                member_id TEXT NOT NULL,
                name TEXT NOT NULL,
                period TEXT NOT NULL DEFAULT '',
                value {BIGINT} NOT NULL DEFAULT 0,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, name, period)
            )""",
            """CREATE TABLE sync_state (
                member_id TEXT NOT NULL,
                stream TEXT NOT NULL,
                cursor TEXT,
                state TEXT NOT NULL DEFAULT '{}',
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, stream)
            )""",
            """CREATE TABLE effects (
                member_id TEXT NOT NULL,
                key TEXT NOT NULL,
                status TEXT NOT NULL,
                result TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at {REAL} NOT NULL,
                updated_at {REAL} NOT NULL,
                PRIMARY KEY (member_id, key)
            )""",
            """CREATE TABLE leases (
                name TEXT PRIMARY KEY,
                holder TEXT NOT NULL,
                expires_at {REAL} NOT NULL
            )""",
            """CREATE TABLE rate_budget (
                member_id TEXT PRIMARY KEY,
                level {REAL} NOT NULL DEFAULT 0,
                updated_at {REAL} NOT NULL
            )""",
        ],
    ),
]


CORE.append((
    "core_0002_inbound_entity",
    [
        "ALTER TABLE inbound ADD COLUMN entity_id TEXT",
        "CREATE INDEX inbound_entity ON inbound (member_id, name, entity_id, received_at)",
    ],
))


CORE.append((
    "core_0003_rate_refused_until",
    ["ALTER TABLE rate_budget ADD COLUMN refused_until {REAL} NOT NULL DEFAULT 0"],
))


def feature_migrations() -> list[Migration]:
    """Migrations declared by feature packages in ``b24app/<pkg>/schema.py``."""
    found: list[Migration] = []
    for info in sorted(pkgutil.iter_modules(b24app.__path__), key=lambda i: i.name):
        if not info.ispkg or info.name == "store":
            continue
        try:
            module = importlib.import_module(f"b24app.{info.name}.schema")
        except ModuleNotFoundError as exc:
            if exc.name == f"b24app.{info.name}.schema":
                continue
            raise
        found.extend(getattr(module, "MIGRATIONS", []))
    return found


def all_migrations() -> list[Migration]:
    migrations = CORE + feature_migrations()
    ids = [m[0] for m in migrations]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RuntimeError(f"migration ids defined twice: {sorted(dupes)}")
    return migrations


def applied(db: Database) -> set[str]:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at "
        + db.ddl("{REAL}")
        + " NOT NULL)"
    )
    return {r["id"] for r in db.query("SELECT id FROM schema_migrations")}


def pending(db: Database) -> list[str]:
    done = applied(db)
    return [mid for mid, _ in all_migrations() if mid not in done]


def upgrade(db: Database) -> list[str]:
    """Apply pending migrations, each in its own transaction; returns the ids applied."""
    done_now: list[str] = []
    for mid, statements in all_migrations():
        if mid in applied(db):
            continue
        with db.transaction():
            db.serialize(MIGRATION_LOCK)  # PostgreSQL: one migrator at a time (SQLite's write lock does it)
            # re-check under the lock: another process may have applied it meanwhile
            if db.one("SELECT id FROM schema_migrations WHERE id = ?", (mid,)):
                continue
            for stmt in statements:
                db.execute(db.ddl(stmt))
            db.execute("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)", (mid, clock.now()))
        done_now.append(mid)
    return done_now
