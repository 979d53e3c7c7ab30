"""One emulated portal: identity, clock, storage, limits, faults; implements :class:`api.Platform`."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo
from typing import TYPE_CHECKING, Any

import sqlite_utils

from .api import HOOKS, Call
from .faults import FaultInjector, FaultSettings
from .limits import LeakyBucket, LimitSettings, OperatingBudget
from .storage import LogWriter, create_log_schema, create_portal_schema, jdump, jload, open_db, portal_files

if TYPE_CHECKING:
    from .runtime import Sandbox

DEFAULT_TZ = "Europe/Moscow"

LICENSES = {
    "standard": ("ru_pro100", "pro100", "pro"),
    "enterprise": ("ru_ent250", "ent250", "ent"),
}


class Portal:
    """A portal of the sandbox. Method modules see it as ``call.portal`` (the Platform protocol)."""

    def __init__(self, sandbox: Sandbox, row: dict[str, Any]) -> None:
        self.sandbox = sandbox
        self.member_id: str = row["member_id"]
        self.domain: str = row["domain"]
        self._plan: str = row.get("plan") or "standard"
        self.admin_user_id: int = int(row.get("admin_user_id") or 1)
        self.secret: str = row["secret"]
        settings = jload(row.get("settings"), {}) or {}
        self.tz_name: str = settings.get("timezone") or DEFAULT_TZ
        self.tz = zoneinfo.ZoneInfo(self.tz_name)
        self.lang: str = settings.get("lang") or "ru"
        self.limits = LimitSettings.for_plan(self._plan)
        self.limits.update(settings.get("limits") or {})
        self.faults = FaultSettings()
        self.faults.update({k: v for k, v in (settings.get("faults") or {}).items() if k != "burst_503_s"})
        self.injector = FaultInjector(self.faults)
        self.bucket = LeakyBucket()
        self.budget = OperatingBudget()
        self._lock = threading.RLock()
        self.log_lock = threading.Lock()
        self._cache: dict[str, Any] = {}
        path, log_path = portal_files(sandbox.data_dir, self.member_id)
        self._db = open_db(path)
        self.log_db = open_db(log_path)
        with self._lock:
            create_portal_schema(self._db)
        with self.log_lock:
            create_log_schema(self.log_db)
            self._deliveries = LogWriter(self.log_db, "sb_deliveries")
            self._requests = LogWriter(self.log_db, "sb_requests")

    # -- the Platform protocol ---------------------------------------------------------------------

    @property
    def db(self) -> sqlite_utils.Database:
        return self._db

    @property
    def cache(self) -> dict[str, Any]:
        return self._cache

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def plan(self) -> str:
        return self._plan

    def now(self) -> dt.datetime:
        return self.sandbox.clock.now()

    def time(self) -> float:
        """Portal time as a unix timestamp."""
        return self.sandbox.clock.time()

    def local_now(self) -> dt.datetime:
        return self.now().astimezone(self.tz)

    def fire_event(self, name: str, data: dict[str, Any], call: Call | None) -> None:
        from . import events

        events.fire(self, name, data, call)

    def stage_entered(self, entity: str, item_id: int, category_id: int, stage_id: str,
                      call: Call | None) -> None:
        from . import robots

        robots.stage_entered(self, entity, int(item_id), int(category_id or 0), str(stage_id), call)

    # -- addresses ---------------------------------------------------------------------------------------

    @property
    def portal_url(self) -> str:
        return f"{self.sandbox.base_url}/p/{self.domain}"

    @property
    def client_endpoint(self) -> str:
        return f"{self.portal_url}/rest/"

    @property
    def server_endpoint(self) -> str:
        return self.sandbox.server_endpoint

    @property
    def protocol(self) -> int:
        return 1 if self.sandbox.base_url.startswith("https") else 0

    # -- users -------------------------------------------------------------------------------------------

    def user(self, user_id: int) -> dict[str, Any] | None:
        """The user record from the method modules' lookup; without one, only the admin exists."""
        if HOOKS.user_lookup is not None:
            with self._lock:
                return HOOKS.user_lookup(self, int(user_id))
        if int(user_id) == self.admin_user_id:
            return {"ID": str(self.admin_user_id), "ACTIVE": True, "IS_ADMIN": True}
        return None

    def is_admin(self, user_id: int) -> bool:
        u = self.user(user_id)
        if u is None:
            return False
        v = u.get("IS_ADMIN", u.get("ADMIN"))
        return v is True or v == 1 or str(v).upper() in ("Y", "1", "TRUE")

    # -- license, as app.info reports it -----------------------------------------------------------------

    def license(self) -> tuple[str, str, str]:
        return LICENSES.get(self._plan, LICENSES["standard"])

    # -- settings ------------------------------------------------------------------------------------------

    def settings_doc(self) -> dict[str, Any]:
        faults = self.faults.to_dict()
        for k in ("burst_503_active", "burst_503_remaining_s"):
            faults.pop(k, None)
        return {"timezone": self.tz_name, "lang": self.lang, "limits": self.limits.to_dict(), "faults": faults}

    def save_settings(self) -> None:
        self.sandbox.save_portal_settings(self)

    # -- logs ---------------------------------------------------------------------------------------------

    def record_delivery(self, row: dict[str, Any]) -> int:
        with self.log_lock:
            return self._deliveries.append(row)

    def record_request(self, row: dict[str, Any]) -> int:
        with self.log_lock:
            return self._requests.append(row)

    # -- apps ------------------------------------------------------------------------------------------------

    def app(self, client_id: str | None) -> dict[str, Any] | None:
        if not client_id:
            return None
        with self._lock:
            row = next(self._db["sb_apps"].rows_where("client_id = ?", [client_id]), None)
        return dict(row) if row else None

    def apps(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db["sb_apps"].rows_where(order_by="id")]

    def installed_apps(self) -> list[dict[str, Any]]:
        return [a for a in self.apps() if a["installed"] and a["active"]]

    def info(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id, "domain": self.domain, "plan": self._plan,
            "admin_user_id": self.admin_user_id, "rest_url": self.client_endpoint,
            "oauth_url": self.sandbox.oauth_url, "server_endpoint": self.server_endpoint,
            "timezone": self.tz_name, "lang": self.lang,
        }

    def close(self) -> None:
        for db in (self._db, self.log_db):
            try:
                db.conn.close()
            except Exception:  # pragma: no cover
                pass


def json_settings(portal: Portal) -> str:
    return jdump(portal.settings_doc())
