"""The sandbox runtime: portals of one data directory, the OAuth token store, the clock, the sender.

One :class:`Sandbox` per server (``b24sandbox.server.create_app``). It survives restarts: portals,
settings and the clock come back from ``registry.sqlite``; each portal's data from its own file.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import secrets
import threading
import time
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .api import HOOKS, SERVICES
from .clock import Clock
from .outbound import Sender
from .portal import Portal, json_settings
from .storage import create_registry_schema, open_db, portal_files
from .tokens import TokenStore

log = logging.getLogger("b24sandbox")

_LIVE: weakref.WeakSet[Sandbox] = weakref.WeakSet()


def _find_portal(member_id: str) -> Portal | None:
    for sb in list(_LIVE):
        p = sb.portals.get(member_id)
        if p is not None:
            return p
    return None


SERVICES.get_portal = _find_portal


class PortalExists(Exception):
    pass


class Sandbox:
    """All portals served by one sandbox server."""

    def __init__(self, data_dir: Path, public_url: str | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.registry_lock = threading.RLock()
        self.registry = open_db(self.data_dir / "registry.sqlite")
        with self.registry_lock:
            create_registry_schema(self.registry)
            row = next(self.registry["clock"].rows_where("id = 1"), None)
        self.clock = Clock(float(row["offset_s"] or 0), row["frozen_at"]) if row else Clock()
        self.tokens = TokenStore(self.registry, self.registry_lock, self.clock)
        self.sender = Sender()
        self._public_url = public_url.rstrip("/") if public_url else None
        self.portals: dict[str, Portal] = {}
        self._by_domain: dict[str, str] = {}
        self.stop_event = threading.Event()
        self._maint: threading.Thread | None = None
        with self.registry_lock:
            rows = list(self.registry["portals"].rows_where(order_by="seq"))
        for r in rows:
            p = Portal(self, dict(r))
            self.portals[p.member_id] = p
            self._by_domain[p.domain.lower()] = p.member_id
        _LIVE.add(self)

    # -- addresses --------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._public_url is None:
            return "http://127.0.0.1"
        return self._public_url

    def set_public_url(self, url: str) -> None:
        self._public_url = url.rstrip("/")

    @property
    def has_public_url(self) -> bool:
        return self._public_url is not None

    @property
    def server_endpoint(self) -> str:
        """The OAuth server's REST endpoint (``server_endpoint`` in tokens and events)."""
        return f"{self.base_url}/rest/"

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/oauth/"

    @property
    def oauth_domain(self) -> str:
        """The OAuth server's host as ``domain`` in token responses (like ``oauth.bitrix.info``)."""
        return urlparse(self.base_url).netloc

    # -- portals ----------------------------------------------------------------------------------------

    def get_portal(self, member_id: str) -> Portal | None:
        return self.portals.get(member_id)

    def portal_by_domain(self, domain: str) -> Portal | None:
        mid = self._by_domain.get(domain.lower())
        return self.portals.get(mid) if mid else None

    def create_portal(self, domain: str, *, plan: str = "standard", seed: str = "empty",
                      member_id: str | None = None, params: dict[str, Any] | None = None,
                      timezone: str | None = None) -> Portal:
        """Create a portal, seed it (``HOOKS.seed_portal``) and tell the 1C module about it."""
        domain = domain.strip().lower()
        if plan not in ("standard", "enterprise"):
            raise ValueError("plan must be 'standard' or 'enterprise'")
        with self.registry_lock:
            if domain in self._by_domain:
                raise PortalExists(domain)
            mid = member_id or hashlib.md5(f"b24sandbox|{domain}".encode()).hexdigest()
            if mid in self.portals:
                raise PortalExists(mid)
            seq = len(self.portals) + 1 + int(time.time())
            row = {
                "member_id": mid, "domain": domain, "plan": plan, "admin_user_id": 1, "seed": seed,
                "created_at": time.time(), "secret": secrets.token_hex(32), "seq": seq,
                "settings": "{}",
            }
            self.registry["portals"].insert(row)
            portal = Portal(self, row)
            if timezone:
                import zoneinfo

                portal.tz_name = timezone
                portal.tz = zoneinfo.ZoneInfo(timezone)
            self.portals[mid] = portal
            self._by_domain[domain] = mid
        admin = 1
        if HOOKS.seed_portal is not None:
            try:
                with portal.lock:
                    admin = int(HOOKS.seed_portal(portal, seed, dict(params or {})) or 1)
            except Exception as exc:
                log.exception("seeding %s with %r failed; the portal is removed again", domain, seed)
                self.delete_portal(mid)
                raise ValueError(f"seed {seed!r} failed: {exc}") from exc
        elif seed not in ("empty", "", None):
            log.warning("seed %r asked but no seed loader is registered; portal %s stays empty", seed, domain)
        portal.admin_user_id = admin
        with self.registry_lock:
            self.registry["portals"].update(mid, {"admin_user_id": admin, "settings": json_settings(portal)})
        self._notify_onec(portal, seed)
        return portal

    def _notify_onec(self, portal: Portal, seed: str) -> None:
        try:
            onec = importlib.import_module("b24sandbox.onec")
        except ModuleNotFoundError as exc:
            if exc.name != "b24sandbox.onec":
                raise
            log.info("b24sandbox.onec is not available; 1C bases are not created for %s", portal.domain)
            return
        hook = getattr(onec, "on_portal_created", None)
        if hook is None:
            log.info("b24sandbox.onec has no on_portal_created; skipped for %s", portal.domain)
            return
        hook(portal.member_id, portal.domain, seed)

    def delete_portal(self, member_id: str) -> bool:
        with self.registry_lock:
            p = self.portals.pop(member_id, None)
            if p is None:
                return False
            self._by_domain.pop(p.domain.lower(), None)
            self.registry["portals"].delete(member_id)
        self.tokens.drop_portal(member_id)
        p.close()
        for path in portal_files(self.data_dir, member_id):
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        self._notify_onec_deleted(member_id)
        return True

    def _notify_onec_deleted(self, member_id: str) -> None:
        """A deleted portal's 1C bases go with it (``b24sandbox.onec.on_portal_deleted``)."""
        try:
            onec = importlib.import_module("b24sandbox.onec")
        except ModuleNotFoundError as exc:
            if exc.name != "b24sandbox.onec":
                raise
            return
        hook = getattr(onec, "on_portal_deleted", None)
        if hook is None:
            return
        try:
            dropped = hook(member_id)
        except RuntimeError:  # no 1C routes registered in this process: there are no bases to drop
            log.info("b24sandbox.onec is not registered; no 1C bases to drop for %s", member_id)
            return
        if dropped:
            log.info("dropped the 1C bases %s of deleted portal %s", ", ".join(dropped), member_id)

    def save_portal_settings(self, portal: Portal) -> None:
        with self.registry_lock:
            self.registry["portals"].update(portal.member_id, {"settings": json_settings(portal)})

    def save_clock(self) -> None:
        with self.registry_lock:
            self.registry["clock"].upsert(
                {"id": 1, "offset_s": self.clock.offset_s, "frozen_at": self.clock.frozen_at}, pk="id")

    # -- background maintenance ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the timer that closes timed-out robot runs (once a second, on portal time)."""
        if self._maint is not None:
            return
        self._maint = threading.Thread(target=self._maintain, name="b24sandbox-maint", daemon=True)
        self._maint.start()

    def _maintain(self) -> None:
        from . import robots

        while not self.stop_event.wait(1.0):
            for p in list(self.portals.values()):
                try:
                    robots.expire_runs(p)
                except Exception:  # pragma: no cover - keep the timer alive
                    log.exception("robot timeout check failed for %s", p.domain)

    def close(self) -> None:
        self.stop_event.set()
        self.sender.close()
        for p in list(self.portals.values()):
            p.close()
        try:
            self.registry.conn.close()
        except Exception:  # pragma: no cover
            pass
        _LIVE.discard(self)
