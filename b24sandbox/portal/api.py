"""The seam between the sandbox's platform layer and its REST method modules.

Platform code (server, auth, limits, batch, events, robots) lives beside this file; method modules
(crm, tasks, users, im, disk, ...) register handlers with :func:`rest_method` and talk to the platform
only through :class:`Call` and the :class:`Platform` protocol below.

A handler receives a :class:`Call` and returns the ``result`` payload (any JSON-able value). To answer
``total``/``next`` a list handler returns :class:`ListResult`. Errors are raised as :class:`RestError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


class RestError(Exception):
    """An error envelope: ``{"error": code, "error_description": description, **extra}``."""

    def __init__(self, code: str, description: str, status: int = 400, **extra: Any) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        self.extra = extra

    def envelope(self) -> dict[str, Any]:
        return {"error": self.code, "error_description": self.description, **self.extra}


def legacy_crm_error(text: str) -> RestError:
    """Legacy CRM methods (crm.lead/deal/contact/company.*, crm.duplicate.findbycomm) answer
    ``{"error": "", "error_description": text}`` with HTTP 400."""
    return RestError("", text, 400)


def access_denied(detail: str = "") -> RestError:
    return RestError("ACCESS_DENIED", ("Access denied! " + detail).strip(), 403)


@dataclass
class ListResult:
    """A page of a list method. ``total`` is None for ``start=-1`` (no COUNT)."""

    items: Any
    total: int | None
    next: int | None = None


@dataclass(frozen=True)
class MethodSpec:
    name: str  # lower-case
    scope: str  # "crm", "task", "user", "im", "disk", "bizproc", "placement", "basic", ...
    handler: Callable[[Call], Any]
    app_only: bool = False  # webhook -> 403 WRONG_AUTH_TYPE
    admin_only: bool = False  # non-admin user -> 403 ACCESS_DENIED
    cost_s: float = 0.002  # simulated execution time counted against the operating budget
    batchable: bool = True


METHODS: dict[str, MethodSpec] = {}


def rest_method(
    name: str,
    scope: str,
    *,
    app_only: bool = False,
    admin_only: bool = False,
    cost_s: float = 0.002,
    batchable: bool = True,
) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    """Register a REST method handler under its lower-cased name."""

    def deco(fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
        key = name.lower()
        if key in METHODS:
            raise RuntimeError(f"REST method registered twice: {key}")
        METHODS[key] = MethodSpec(key, scope, fn, app_only, admin_only, cost_s, batchable)
        return fn

    return deco


class Platform(Protocol):
    """What method modules may ask of the platform layer (implemented by the portal object)."""

    member_id: str
    domain: str

    def now(self) -> dt.datetime:
        """The portal's clock (aware, UTC); control calls may shift it."""

    def fire_event(self, name: str, data: dict[str, Any], call: Call | None) -> None:
        """Queue an event (e.g. ``ONCRMLEADADD`` with ``{"FIELDS": {"ID": "5"}}``) for every bound
        handler, online and offline. ``call`` tells who caused it (user token vs. robot/app change,
        auth_connector for offline self-suppression); None for changes made by the portal itself."""

    def stage_entered(
        self, entity: str, item_id: int, category_id: int, stage_id: str, call: Call | None
    ) -> None:
        """An item (``"lead"`` or ``"deal"``) entered a stage (on add or on a stage change; a jump
        fires only the target stage). Runs the automation rules attached to that stage."""

    @property
    def db(self) -> Any:
        """The portal's own sqlite-utils ``Database`` (one file per portal under the data dir).
        Method modules own their tables (``crm_*``, ``tasks_*``, ``users_*``, ``im_*``, ``disk_*``);
        the platform owns the rest. The platform holds the portal's lock around every call, so a
        handler runs alone on its portal and may keep in-memory indexes next to its tables."""

    @property
    def cache(self) -> dict[str, Any]:
        """A per-portal in-memory dict for method modules (indexes rebuilt lazily after restart)."""

    @property
    def lock(self) -> Any:
        """The portal's re-entrant lock (``threading.RLock``); control routes that touch the
        portal's data outside a REST call take it."""

    @property
    def plan(self) -> str:
        """``"standard"`` or ``"enterprise"``."""


@dataclass
class Call:
    """One REST call (a direct call or one sub-call of ``batch``)."""

    method: str
    params: dict[str, Any]
    portal: Platform
    user_id: int
    auth_kind: str  # "oauth" (an app's token) or "webhook"
    client_id: str | None = None  # the app's client_id for oauth calls
    scopes: frozenset[str] = frozenset()
    auth_connector: str | None = None
    is_admin: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, *names: str, default: Any = None) -> Any:
        """Parameter lookup that ignores key case (REST parameter keys are case-insensitive)."""
        lowered = {str(k).lower(): v for k, v in self.params.items()}
        for n in names:
            if n.lower() in lowered:
                return lowered[n.lower()]
        return default


@dataclass
class Hooks:
    """Functions the method modules provide to the platform (set once at import time)."""

    # (portal, user_id) -> the user record as user.get returns it (ID, ACTIVE, IS_ADMIN, ...), or None
    user_lookup: Callable[[Platform, int], dict[str, Any] | None] | None = None
    # (portal, seed_name, params) -> id of the portal's admin user; fills the portal's data
    seed_portal: Callable[[Platform, str, dict[str, Any]], int] | None = None
    # (portal, entity, item_id) -> the document's fields as the legacy get method returns them
    # (e.g. crm.deal.get), or None; lets automation rules use "{=Document:ASSIGNED_BY_ID}" values
    document_fields: Callable[[Platform, str, int], dict[str, Any] | None] | None = None


HOOKS = Hooks()


@dataclass
class Services:
    """What the platform provides to method modules outside a REST call (set by the platform)."""

    # member_id -> the portal, or None when there is no such portal
    get_portal: Callable[[str], Platform | None] | None = None


SERVICES = Services()

# Flask blueprints of method modules with their own control routes under /_sandbox/ (e.g. listing
# notifications); the platform's server registers every blueprint found here at start-up.
CONTROL_BLUEPRINTS: list[Any] = []
