"""SQLite files of the sandbox: the server registry and one database per portal.

Layout under the data directory::

    registry.sqlite            portals, the OAuth server's tokens and codes, refresh statistics, clock
    portals/<member_id>.sqlite one portal: apps, webhooks, event handlers, offline queue, placements,
                               app options, robots, automation rules, robot runs, and the method
                               modules' own tables
    portals/<member_id>.log.sqlite  its delivery and request logs (apart, so logging a request or
                               an event delivery never waits for the portal's business writes)

Each file is opened once with one connection shared by threads; callers serialize access with the
owning object's lock (the registry lock or the portal lock). WAL mode keeps writes cheap.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils


def portal_files(data_dir: Path, member_id: str) -> tuple[Path, Path]:
    """A portal's own file and its log file."""
    folder = data_dir / "portals"
    return folder / f"{member_id}.sqlite", folder / f"{member_id}.log.sqlite"


def open_db(path: Path) -> sqlite_utils.Database:
    """Open (creating) a SQLite file for shared use by several threads under one lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return sqlite_utils.Database(conn)


def ensure_table(db: sqlite_utils.Database, name: str, columns: dict[str, Any], *, pk: Any = "id",
                 indexes: list[list[str]] | None = None, unique: list[list[str]] | None = None) -> None:
    """Create a table (and its indexes) if missing; add columns that a newer version introduced."""
    table = db[name]
    if not table.exists():
        db[name].create(columns, pk=pk)  # type: ignore[union-attr]
        for cols in indexes or []:
            db[name].create_index(cols, if_not_exists=True)  # type: ignore[union-attr]
        for cols in unique or []:
            db[name].create_index(cols, unique=True, if_not_exists=True)  # type: ignore[union-attr]
        return
    existing = {c.name for c in db[name].columns}  # type: ignore[union-attr]
    for col, typ in columns.items():
        if col not in existing:
            db[name].add_column(col, typ)  # type: ignore[union-attr]


def jdump(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def jload(s: Any, default: Any = None) -> Any:
    if s is None or s == "":
        return default
    if not isinstance(s, str):
        return s
    try:
        return json.loads(s)
    except ValueError:
        return default


def create_registry_schema(db: sqlite_utils.Database) -> None:
    ensure_table(db, "portals", {
        "member_id": str, "domain": str, "plan": str, "admin_user_id": int, "seed": str,
        "created_at": float, "settings": str, "secret": str, "seq": int,
    }, pk="member_id", unique=[["domain"]])
    ensure_table(db, "clock", {"id": int, "offset_s": float, "frozen_at": float}, pk="id")
    ensure_table(db, "access_tokens", {
        "access_token": str, "member_id": str, "client_id": str, "user_id": int, "scope": str,
        "expires": float, "refresh_token": str, "kind": str, "created": float,
    }, pk="access_token", indexes=[["member_id", "client_id"]])
    ensure_table(db, "refresh_tokens", {
        "refresh_token": str, "member_id": str, "client_id": str, "user_id": int, "scope": str,
        "expires": float, "used_at": float, "created": float,
    }, pk="refresh_token", indexes=[["member_id", "client_id"]])
    ensure_table(db, "auth_codes", {
        "code": str, "member_id": str, "client_id": str, "user_id": int, "scope": str,
        "expires": float, "used": int, "created": float,
    }, pk="code")
    ensure_table(db, "oauth_stats", {
        "member_id": str, "client_id": str, "grant": str, "outcome": str, "count": int, "last_at": float,
    }, pk=("member_id", "client_id", "grant", "outcome"))


def create_portal_schema(db: sqlite_utils.Database) -> None:
    """The platform's tables in a portal file (method modules create their own)."""
    ensure_table(db, "sb_apps", {
        "id": int, "client_id": str, "client_secret": str, "install_url": str, "redirect_uri": str, "app_url": str,
        "scopes": str, "ui": int, "status": str, "version": int, "installed": int, "active": int,
        "application_token": str, "installed_at": float, "installed_by": int, "lang": str, "created": float,
    }, pk="id", unique=[["client_id"]])
    ensure_table(db, "sb_webhooks", {
        "id": int, "user_id": int, "code": str, "scopes": str, "active": int, "created": float, "title": str,
    }, pk="id", unique=[["code"]])
    ensure_table(db, "sb_event_handlers", {
        "id": int, "client_id": str, "event": str, "handler": str, "auth_type": int, "offline": int,
        "connector_id": str, "options": str, "created_by": int, "created": float, "system": int,
    }, pk="id", indexes=[["event"], ["client_id"]])
    ensure_table(db, "sb_offline_events", {
        "id": int, "client_id": str, "connector_id": str, "event_name": str, "event_data": str,
        "event_additional": str, "message_id": str, "process_id": str, "timestamp_x": float, "error": int,
    }, pk="id", indexes=[["client_id", "connector_id", "process_id"], ["message_id"]])
    ensure_table(db, "sb_placements", {
        "id": int, "client_id": str, "placement": str, "handler": str, "title": str, "description": str,
        "group_name": str, "lang_all": str, "options": str, "user_id": int, "created": float,
    }, pk="id", indexes=[["client_id"]])
    ensure_table(db, "sb_app_options", {
        "client_id": str, "name": str, "value": str,
    }, pk=("client_id", "name"))
    ensure_table(db, "sb_activities", {
        "id": int, "client_id": str, "code": str, "internal_code": str, "is_robot": int, "handler": str,
        "auth_user_id": int, "use_subscription": str, "name": str, "description": str, "properties": str,
        "return_properties": str, "document_type": str, "filter": str, "use_placement": str,
        "placement_handler": str, "created": float,
    }, pk="id", unique=[["internal_code"]])
    ensure_table(db, "sb_automation_rules", {
        "id": int, "entity": str, "category_id": int, "stage_id": str, "client_id": str, "robot_code": str,
        "properties": str, "use_subscription": str, "timeout_duration": int, "auth_user_id": int,
        "created": float, "title": str,
    }, pk="id", indexes=[["entity", "stage_id"]])
    ensure_table(db, "sb_robot_runs", {
        "id": int, "rule_id": int, "client_id": str, "code": str, "workflow_id": str, "activity_name": str,
        "event_id": str, "entity": str, "item_id": int, "document_id": str, "document_type": str,
        "state": str, "use_subscription": str, "timeout_duration": int, "timeout_at": float,
        "properties": str, "return_values": str, "log": str, "user_id": int, "created": float,
        "closed_at": float,
    }, pk="id", indexes=[["workflow_id"], ["state"]])


LOG_TABLES: dict[str, dict[str, Any]] = {
    "sb_deliveries": {
        "id": int, "ts": float, "kind": str, "event": str, "client_id": str, "url": str, "status": int,
        "ok": int, "error": str, "elapsed_ms": float, "body": str, "response": str, "ref_id": int,
    },
    "sb_requests": {
        "id": int, "ts": float, "method": str, "status": int, "error": str, "auth_kind": str,
        "client_id": str, "user_id": int, "duration_ms": float, "sub_calls": str, "fault": str,
        "http_method": str,
    },
}


def create_log_schema(db: sqlite_utils.Database) -> None:
    """The delivery and request logs of a portal, in their own file: a log line is written by the
    sender threads and the REST handler without waiting for the portal's business writes."""
    for name, columns in LOG_TABLES.items():
        ensure_table(db, name, columns, pk="id")


class LogWriter:
    """Appends rows to one log table with a prepared statement (no schema look-ups per row)."""

    def __init__(self, db: sqlite_utils.Database, table: str) -> None:
        self.conn = db.conn
        self.columns = tuple(c for c in LOG_TABLES[table] if c != "id")
        self.known = frozenset(self.columns)
        self.sql = (f"INSERT INTO {table} ({', '.join(self.columns)}) "
                    f"VALUES ({', '.join('?' for _ in self.columns)})")

    def append(self, row: dict[str, Any]) -> int:
        unknown = row.keys() - self.known
        if unknown:
            raise ValueError(f"unknown log columns: {sorted(unknown)}")
        values = [row.get(c) for c in self.columns]
        values = [jdump(v) if isinstance(v, (dict, list)) else v for v in values]
        cur = self.conn.execute(self.sql, values)
        self.conn.commit()
        return int(cur.lastrowid or 0)
