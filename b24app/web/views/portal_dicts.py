"""What the settings pages and the deal tab show from the portal itself: funnels and their stages,
lead statuses and sources, active users, departments. Read through the portal client (the app's
token: one batch for the funnels, paged lists for statuses, users and departments) and kept for a
short while per portal and process, so pages and their re-renders after a save cost the portal a
few requests a minute at most.

A portal that does not answer gives an empty :class:`PortalDicts` with ``error`` set: the pages
then fall back to plain text inputs instead of pickers and say why.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from b24app.errors import B24AppError

log = logging.getLogger("b24app.web.portal_dicts")

TTL_S = 60.0
LEAD = "lead"
DEAL = "deal"
INVOICE = "invoice"


@dataclass(frozen=True)
class Stage:
    id: str
    name: str
    semantics: str = ""  # "" in progress, S success, F failure


@dataclass(frozen=True)
class Funnel:
    kind: str  # lead | deal | invoice
    id: int
    name: str
    stages: tuple[Stage, ...]


@dataclass
class PortalDicts:
    """The portal's dictionaries as one page needs them."""

    funnels: list[Funnel] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    departments: list[tuple[int, str]] = field(default_factory=list)
    error: str = ""
    fetched_at: float = 0.0

    @property
    def loaded(self) -> bool:
        return not self.error and bool(self.funnels or self.users)

    def stage_ids(self, kind: str | None = None) -> set[str]:
        return {s.id for f in self.funnels if kind is None or f.kind == kind for s in f.stages}

    def stage_name(self, stage_id: str, kind: str | None = None) -> str:
        for f in self.funnels:
            if kind is not None and f.kind != kind:
                continue
            for s in f.stages:
                if s.id == stage_id:
                    return s.name
        return ""

    def funnel_of(self, stage_id: str, kind: str = DEAL) -> Funnel | None:
        return next((f for f in self.funnels if f.kind == kind and any(s.id == stage_id for s in f.stages)), None)

    def user_name(self, user_id: Any) -> str:
        for u in self.users:
            if str(u.get("ID")) == str(user_id):
                return user_label(u)
        return ""


def user_label(u: dict[str, Any]) -> str:
    name = " ".join(p for p in (str(u.get("LAST_NAME") or "").strip(), str(u.get("NAME") or "").strip()) if p)
    return name or str(u.get("EMAIL") or f"#{u.get('ID')}")


_cache: dict[str, PortalDicts] = {}
_lock = threading.Lock()


def forget(member_id: str) -> None:
    with _lock:
        _cache.pop(member_id, None)


def dicts(services: Any, member_id: str, *, max_age: float = TTL_S) -> PortalDicts:
    """The portal's dictionaries, at most ``max_age`` seconds old (read again when stale)."""
    now = time.monotonic()
    with _lock:
        got = _cache.get(member_id)
    if got is not None and now - got.fetched_at < max_age:
        return got
    try:
        fresh = _fetch(services.client(member_id))
    except Exception as exc:  # a page must render without the pickers rather than fail
        log.warning("portal dictionaries not read", extra={"member_id": member_id, "error": str(exc)[:200]})
        text = str(exc) if isinstance(exc, B24AppError) else exc.__class__.__name__
        return PortalDicts(error=text or exc.__class__.__name__, fetched_at=now)
    fresh.fetched_at = now
    with _lock:
        _cache[member_id] = fresh
    return fresh


def _fetch(client: Any) -> PortalDicts:
    res = client.batch({
        "deal_cats": ("crm.category.list", {"entityTypeId": 2}),
        "inv_cats": ("crm.category.list", {"entityTypeId": 31}),
    })

    def result(key: str, default: Any) -> Any:
        if key in res.errors:
            return default
        value = res.results.get(key)
        return default if value is None else value

    statuses = [s for s in client.get_all("crm.status.list", {}) if isinstance(s, dict)]
    users = [u for u in client.get_all("user.get", {"FILTER": {"ACTIVE": True}})
             if isinstance(u, dict) and u.get("ID") is not None]
    departments = [d for d in client.get_all("department.get", {}) if isinstance(d, dict)]
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for s in statuses:
        by_entity.setdefault(str(s.get("ENTITY_ID") or ""), []).append(s)
    for rows in by_entity.values():
        rows.sort(key=lambda r: int(r.get("SORT") or 0))

    def stages(rows: list[dict[str, Any]]) -> tuple[Stage, ...]:
        return tuple(Stage(str(r.get("STATUS_ID")), str(r.get("NAME") or r.get("STATUS_ID")),
                           str(((r.get("EXTRA") or {}) if isinstance(r.get("EXTRA"), dict) else {}).get("SEMANTICS")
                               or r.get("SEMANTICS") or "")) for r in rows)

    funnels: list[Funnel] = []
    if by_entity.get("STATUS"):
        funnels.append(Funnel(LEAD, 0, "", stages(by_entity["STATUS"])))
    cats = result("deal_cats", {})
    deal_cats = cats.get("categories", []) if isinstance(cats, dict) else []
    if not deal_cats:
        deal_cats = [{"id": 0, "name": ""}]
    for c in sorted(deal_cats, key=lambda c: (int(c.get("sort") or 0), int(c.get("id") or 0))):
        cid = int(c.get("id") or 0)
        rows = by_entity.get("DEAL_STAGE" if cid == 0 else f"DEAL_STAGE_{cid}", [])
        funnels.append(Funnel(DEAL, cid, str(c.get("name") or ""), stages(rows)))
    inv = result("inv_cats", {})
    for c in (inv.get("categories", []) if isinstance(inv, dict) else []):
        cid = int(c.get("id") or 0)
        prefix = f"DT31_{cid}:"
        rows = [r for entity, rs in by_entity.items() for r in rs
                if str(r.get("STATUS_ID", "")).startswith(prefix) and not entity.startswith("DEAL_STAGE")]
        funnels.append(Funnel(INVOICE, cid, str(c.get("name") or ""), stages(rows)))
    sources = [(str(r.get("STATUS_ID")), str(r.get("NAME") or r.get("STATUS_ID"))) for r in by_entity.get("SOURCE", [])]
    users.sort(key=lambda u: user_label(u).lower())
    deps = [(int(d["ID"]), str(d.get("NAME") or d["ID"])) for d in departments if str(d.get("ID", "")).isdigit()]
    return PortalDicts(funnels=funnels, sources=sources, users=users, departments=deps)
