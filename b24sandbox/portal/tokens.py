"""The OAuth server's token store: access tokens, refresh tokens (rotated), authorization codes.

Tokens live in ``registry.sqlite`` because the OAuth server is one for all portals (as
oauth.bitrix.info is): ``/oauth/token/`` receives a refresh token without saying which portal it
belongs to. Access tokens last 3600 s of portal time, refresh tokens 180 days, codes 30 s.
A used refresh token is dead (rotation): a second use answers ``invalid_grant``.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from .clock import Clock

ACCESS_TTL_S = 3600
REFRESH_TTL_S = 180 * 86400
CODE_TTL_S = 30


@dataclass
class AccessToken:
    access_token: str
    member_id: str
    client_id: str
    user_id: int
    scope: str
    expires: float
    refresh_token: str | None
    kind: str  # "oauth" (from the OAuth server) or "event" (minted for an event delivery)


@dataclass
class RefreshToken:
    refresh_token: str
    member_id: str
    client_id: str
    user_id: int
    scope: str
    expires: float
    used_at: float | None


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str | None
    expires: int
    expires_in: int
    user_id: int
    scope: str


def new_token() -> str:
    return secrets.token_hex(32)


class TokenStore:
    """Thread-safe access to the token tables, with an in-memory cache of access tokens."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock, clock: Clock) -> None:
        self.db = db
        self.lock = lock
        self.clock = clock
        self._access: dict[str, AccessToken] = {}
        # (member_id, client_id, user_id) -> token handed out with events (reused until near expiry)
        self._event_tokens: dict[tuple[str, str, int], str] = {}

    # -- issuing ---------------------------------------------------------------------------------

    def issue(self, member_id: str, client_id: str, user_id: int, scope: str, *,
              with_refresh: bool = True, kind: str = "oauth") -> TokenPair:
        now = self.clock.time()
        access = new_token()
        refresh = new_token() if with_refresh else None
        expires = int(now) + ACCESS_TTL_S
        with self.lock:
            self.db["access_tokens"].insert({
                "access_token": access, "member_id": member_id, "client_id": client_id,
                "user_id": int(user_id), "scope": scope, "expires": float(expires),
                "refresh_token": refresh, "kind": kind, "created": now,
            })
            if refresh:
                self.db["refresh_tokens"].insert({
                    "refresh_token": refresh, "member_id": member_id, "client_id": client_id,
                    "user_id": int(user_id), "scope": scope, "expires": now + REFRESH_TTL_S,
                    "used_at": None, "created": now,
                })
            self._access[access] = AccessToken(access, member_id, client_id, int(user_id), scope,
                                               float(expires), refresh, kind)
        return TokenPair(access, refresh, expires, ACCESS_TTL_S, int(user_id), scope)

    def event_token(self, member_id: str, client_id: str, user_id: int, scope: str) -> TokenPair:
        """An access token (no refresh token) for an event delivery; reused while it has more than
        five minutes to live, like the portal's cached per-user application tokens."""
        key = (member_id, client_id, int(user_id))
        with self.lock:
            tok = self._event_tokens.get(key)
            rec = self.lookup(tok) if tok else None
            now = self.clock.time()
            if rec is not None and rec.expires - now > 300 and rec.scope == scope:
                return TokenPair(rec.access_token, None, int(rec.expires), int(rec.expires - now),
                                 rec.user_id, rec.scope)
            pair = self.issue(member_id, client_id, user_id, scope, with_refresh=False, kind="event")
            self._event_tokens[key] = pair.access_token
            return pair

    # -- checking --------------------------------------------------------------------------------

    def lookup(self, token: str | None) -> AccessToken | None:
        if not token:
            return None
        with self.lock:
            rec = self._access.get(token)
            if rec is not None:
                return rec
            row = next(self.db["access_tokens"].rows_where("access_token = ?", [token]), None)
            if row is None:
                return None
            rec = AccessToken(row["access_token"], row["member_id"], row["client_id"], int(row["user_id"]),
                              row["scope"] or "", float(row["expires"]), row["refresh_token"],
                              row["kind"] or "oauth")
            self._access[token] = rec
            return rec

    def get_refresh(self, token: str) -> RefreshToken | None:
        with self.lock:
            row = next(self.db["refresh_tokens"].rows_where("refresh_token = ?", [token]), None)
        if row is None:
            return None
        return RefreshToken(row["refresh_token"], row["member_id"], row["client_id"], int(row["user_id"]),
                            row["scope"] or "", float(row["expires"]), row["used_at"])

    def rotate(self, token: str) -> TokenPair | None:
        """Spend a refresh token and issue a new pair; None when it was spent meanwhile."""
        with self.lock:
            rec = self.get_refresh(token)
            if rec is None or rec.used_at is not None:
                return None
            self.db["refresh_tokens"].update(token, {"used_at": self.clock.time()})
            return self.issue(rec.member_id, rec.client_id, rec.user_id, rec.scope)

    # -- authorization codes -----------------------------------------------------------------------

    def make_code(self, member_id: str, client_id: str, user_id: int, scope: str) -> str:
        code = secrets.token_hex(16)
        now = self.clock.time()
        with self.lock:
            self.db["auth_codes"].insert({
                "code": code, "member_id": member_id, "client_id": client_id, "user_id": int(user_id),
                "scope": scope, "expires": now + CODE_TTL_S, "used": 0, "created": now,
            })
        return code

    def take_code(self, code: str) -> dict[str, Any] | None:
        """The code's row, marked used; None when unknown, used or expired."""
        with self.lock:
            row = next(self.db["auth_codes"].rows_where("code = ?", [code]), None)
            if row is None or row["used"] or row["expires"] < self.clock.time():
                return None
            self.db["auth_codes"].update(code, {"used": 1})
            return dict(row)

    # -- revocation --------------------------------------------------------------------------------

    def revoke_app(self, member_id: str, client_id: str) -> None:
        """Delete every token of an app on a portal (uninstall)."""
        with self.lock:
            self.db.execute("DELETE FROM access_tokens WHERE member_id = ? AND client_id = ?",
                            [member_id, client_id])
            self.db.execute("DELETE FROM refresh_tokens WHERE member_id = ? AND client_id = ?",
                            [member_id, client_id])
            self.db.conn.commit()
            for tok in [t for t, r in self._access.items() if r.member_id == member_id and r.client_id == client_id]:
                del self._access[tok]
            for key in [k for k in self._event_tokens if k[0] == member_id and k[1] == client_id]:
                del self._event_tokens[key]

    def expire_portal(self, member_id: str) -> int:
        """Make every live access token of a portal expired now; returns how many."""
        now = self.clock.time()
        with self.lock:
            cur = self.db.execute(
                "UPDATE access_tokens SET expires = ? WHERE member_id = ? AND expires > ?",
                [now - 1, member_id, now - 1])
            self.db.conn.commit()
            n = cur.rowcount
            for rec in self._access.values():
                if rec.member_id == member_id and rec.expires > now - 1:
                    rec.expires = now - 1
            return n

    def drop_portal(self, member_id: str) -> None:
        with self.lock:
            for table in ("access_tokens", "refresh_tokens", "auth_codes", "oauth_stats"):
                self.db.execute(f"DELETE FROM {table} WHERE member_id = ?", [member_id])
            self.db.conn.commit()
            for tok in [t for t, r in self._access.items() if r.member_id == member_id]:
                del self._access[tok]
            for key in [k for k in self._event_tokens if k[0] == member_id]:
                del self._event_tokens[key]

    # -- statistics ------------------------------------------------------------------------------------

    def count(self, member_id: str, client_id: str, grant: str, outcome: str) -> None:
        with self.lock:
            self.db.execute(
                "INSERT INTO oauth_stats (member_id, client_id, \"grant\", outcome, count, last_at) "
                "VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(member_id, client_id, \"grant\", outcome) "
                "DO UPDATE SET count = count + 1, last_at = excluded.last_at",
                [member_id, client_id, grant, outcome, self.clock.time()])
            self.db.conn.commit()

    def stats(self, member_id: str) -> dict[str, dict[str, Any]]:
        """``{client_id: {"refresh": n, "refresh_failed": n, "authorization_code": n, ...}}``."""
        out: dict[str, dict[str, Any]] = {}
        with self.lock:
            rows = list(self.db["oauth_stats"].rows_where("member_id = ?", [member_id]))
        for r in rows:
            d = out.setdefault(r["client_id"], {"refresh": 0, "refresh_failed": 0,
                                                "authorization_code": 0, "authorization_code_failed": 0})
            name = "refresh" if r["grant"] == "refresh_token" else r["grant"]
            if r["outcome"] != "ok":
                name += "_failed"
            d[name] = d.get(name, 0) + int(r["count"])
        return out
