"""Installations: one row per portal (member_id) with its tokens and status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from b24app import clock
from b24app.store.db import Database

ACTIVE = "active"
REINSTALL_REQUIRED = "reinstall_required"
UNINSTALLED = "uninstalled"

PLAN_LIMITS = {"standard": (2.0, 50.0), "enterprise": (5.0, 250.0)}


@dataclass
class Installation:
    member_id: str
    domain: str
    client_endpoint: str
    server_endpoint: str
    access_token: str
    refresh_token: str
    expires_at: float
    application_token: str
    scopes: str
    status: str
    user_id: int | None
    lang: str
    app_version: str
    plan: str
    rate_drain: float
    rate_burst: float
    installed_at: float
    updated_at: float
    refreshed_at: float | None
    registered_at: float | None
    last_error: str | None
    last_error_at: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Installation:
        return cls(**row)

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    def public(self) -> dict[str, Any]:
        """What listings show: no tokens."""
        return {
            "member_id": self.member_id,
            "domain": self.domain,
            "status": self.status,
            "client_endpoint": self.client_endpoint,
            "scopes": self.scopes,
            "plan": self.plan,
            "token_expires_at": clock.iso(self.expires_at),
            "refreshed_at": clock.iso(self.refreshed_at),
            "installed_at": clock.iso(self.installed_at),
            "registered_at": clock.iso(self.registered_at),
            "last_error": self.last_error,
            "last_error_at": clock.iso(self.last_error_at),
        }


def get(db: Database, member_id: str) -> Installation | None:
    row = db.one("SELECT * FROM installations WHERE member_id = ?", (member_id,))
    return Installation.from_row(row) if row else None


def list_all(db: Database) -> list[Installation]:
    return [Installation.from_row(r) for r in db.query("SELECT * FROM installations ORDER BY installed_at")]


def list_active(db: Database) -> list[Installation]:
    rows = db.query("SELECT * FROM installations WHERE status = ? ORDER BY installed_at", (ACTIVE,))
    return [Installation.from_row(r) for r in rows]


def save_verified(
    db: Database,
    *,
    member_id: str,
    domain: str,
    client_endpoint: str,
    server_endpoint: str,
    access_token: str,
    refresh_token: str,
    expires_at: float,
    application_token: str,
    scopes: str,
    user_id: int | None,
    lang: str = "ru",
    app_version: str = "",
) -> Installation:
    """Insert or refresh a portal's record from a VERIFIED install payload (the caller proved the
    token against the OAuth server). A reinstall revives an uninstalled or dead record."""
    now = clock.now()
    with db.transaction():
        inserted = db.execute(
            """INSERT INTO installations (member_id, domain, client_endpoint, server_endpoint,
               access_token, refresh_token, expires_at, application_token, scopes, status, user_id,
               lang, app_version, installed_at, updated_at, refreshed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id) DO NOTHING""",
            (member_id, domain, client_endpoint, server_endpoint, access_token, refresh_token,
             expires_at, application_token, scopes, ACTIVE, user_id, lang, app_version, now, now, now),
        )
        if inserted != 1:
            db.execute(
                """UPDATE installations SET domain = ?, client_endpoint = ?, server_endpoint = ?,
                   access_token = ?, refresh_token = CASE WHEN ? != '' THEN ? ELSE refresh_token END,
                   expires_at = ?, application_token = CASE WHEN ? != '' THEN ? ELSE application_token END,
                   scopes = ?, status = ?, user_id = COALESCE(?, user_id), lang = ?,
                   app_version = CASE WHEN ? != '' THEN ? ELSE app_version END,
                   installed_at = CASE WHEN status = ? THEN ? ELSE installed_at END,
                   updated_at = ?, refreshed_at = ?, last_error = NULL, last_error_at = NULL
                   WHERE member_id = ?""",
                (domain, client_endpoint, server_endpoint, access_token, refresh_token, refresh_token,
                 expires_at, application_token, application_token, scopes, ACTIVE, user_id, lang,
                 app_version, app_version, UNINSTALLED, now, now, now, member_id),
            )
    inst = get(db, member_id)
    assert inst is not None
    return inst


def store_tokens(
    db: Database, member_id: str, *, access_token: str, refresh_token: str, expires_at: float,
    client_endpoint: str | None = None,
) -> None:
    """Persist a rotated token pair (called before the new access token is used)."""
    now = clock.now()
    db.execute(
        """UPDATE installations SET access_token = ?, refresh_token = ?, expires_at = ?,
           client_endpoint = COALESCE(?, client_endpoint), refreshed_at = ?, updated_at = ?,
           last_error = NULL, last_error_at = NULL WHERE member_id = ?""",
        (access_token, refresh_token, expires_at, client_endpoint, now, now, member_id),
    )


def set_status(db: Database, member_id: str, status: str, error: str | None = None) -> None:
    now = clock.now()
    db.execute(
        """UPDATE installations SET status = ?, updated_at = ?, last_error = COALESCE(?, last_error),
           last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END WHERE member_id = ?""",
        (status, now, error, error, now, member_id),
    )


def record_error(db: Database, member_id: str, error: str) -> None:
    now = clock.now()
    db.execute(
        "UPDATE installations SET last_error = ?, last_error_at = ?, updated_at = ? WHERE member_id = ?",
        (error[:2000], now, now, member_id),
    )


def mark_registered(db: Database, member_id: str, app_version: str) -> None:
    now = clock.now()
    db.execute(
        "UPDATE installations SET registered_at = ?, app_version = ?, updated_at = ? WHERE member_id = ?",
        (now, app_version, now, member_id),
    )


def set_limits(db: Database, member_id: str, *, plan: str | None = None, drain: float | None = None,
               burst: float | None = None) -> None:
    """Set the portal's REST rate budget (plan defaults: standard 2/s burst 50, enterprise 5/s 250)."""
    if plan is not None:
        if plan not in PLAN_LIMITS:
            raise ValueError(f"unknown plan {plan!r}: use one of {sorted(PLAN_LIMITS)}")
        d, b = PLAN_LIMITS[plan]
        drain = d if drain is None else drain
        burst = b if burst is None else burst
    db.execute(
        """UPDATE installations SET plan = COALESCE(?, plan), rate_drain = COALESCE(?, rate_drain),
           rate_burst = COALESCE(?, rate_burst), updated_at = ? WHERE member_id = ?""",
        (plan, drain, burst, clock.now(), member_id),
    )


def delete_portal_data(db: Database, member_id: str) -> None:
    """CLEAN uninstall: every table that has a member_id column loses the portal's rows, the
    installation row itself is kept as 'uninstalled' without tokens (an audit trail)."""
    with db.transaction():
        for table in tables_with_member_id(db):
            if table in ("installations", "schema_migrations"):
                continue
            db.execute(f"DELETE FROM {table} WHERE member_id = ?", (member_id,))
        db.execute(
            """UPDATE installations SET access_token = '', refresh_token = '', status = ?,
               updated_at = ? WHERE member_id = ?""",
            (UNINSTALLED, clock.now(), member_id),
        )


def tables_with_member_id(db: Database) -> list[str]:
    if db.dialect == "sqlite":
        tables = [r["name"] for r in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [t for t in tables if any(c["name"] == "member_id"
                                         for c in db.query(f"PRAGMA table_info({t})"))]
    rows = db.query(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'member_id' "
        "AND table_schema = current_schema()"
    )
    return [r["table_name"] for r in rows]
