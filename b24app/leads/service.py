"""Distribution entry points for the triggers: one item (event, robot), quality-control release,
reconciliation ("never lost"). The backlog lives in b24app.leads.backlog, deadlines in
b24app.leads.deadlines.

Everything takes a :class:`Portal` (store, the portal's client, the settings document) so a job, the
robot and the operator's CLI share one code path.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from b24app import clock
from b24app.errors import DataError
from b24app.leads import apply as writer
from b24app.leads import duplicates, engine, store
from b24app.leads import junk as junk_rules
from b24app.leads.engine import INTAKE, RELEASE, World
from b24app.leads.rules import BASE_FIELDS, referenced_fields, rules_for
from b24app.leads.snapshots import Snapshots
from b24app.leads.store import APPLIED, DECIDED, QUEUED, Decision
from b24app.store.db import Database

log = logging.getLogger("b24app.leads")

MULTI = ("PHONE", "EMAIL")
UTM = ("UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM")


@dataclass
class Portal:
    """What distribution needs from its caller."""

    db: Database
    member_id: str
    client: Any
    settings: dict[str, Any]

    @classmethod
    def from_job(cls, ctx: Any) -> Portal:
        return cls(ctx.db, ctx.member_id, ctx.client, ctx.settings())

    @property
    def dist(self) -> dict[str, Any]:
        return self.settings.get("distribution") or {}


def lead_select(settings: Mapping[str, Any]) -> list[str]:
    dist = settings.get("distribution") or {}
    rules = list(dist.get("rules") or [])
    for lst in (dist.get("rule_sets") or {}).values():
        rules.extend(lst)
    return sorted({*BASE_FIELDS, *MULTI, *UTM, *referenced_fields(rules)})


def world(portal: Portal, *, fresh: bool = False, extra_pools: Mapping[str, Any] | None = None) -> World:
    """Settings and portal snapshots (cached briefly in the store; ``fresh`` reads them now)."""
    snaps = Snapshots(portal.db, portal.member_id, portal.client, portal.settings)
    people = snaps.people(max_age=0 if fresh else 600)
    now = engine.company_now(portal.settings)
    uids = engine.watched_users(portal.settings, people, extra_pools)
    presence, loads, loads_at = snaps.presence_and_loads(uids, now, presence_age=0 if fresh else 120,
                                                         loads_age=0 if fresh else None)
    return World(portal.member_id, portal.settings, people, presence, loads, loads_at,
                 set(store.paused(portal.db, portal.member_id)), now)


def _configured(portal: Portal, rules: Sequence[Any], pool: str | None, users: Sequence[int] | None) -> bool:
    return bool(portal.dist.get("enabled", True)) and bool(rules or pool or users)


def distribute_one(portal: Portal, entity_type: str, entity_id: int, *, trigger: str, phase: str = INTAKE,
                   rule_set: str | None = None, strategy: str | None = None, pool: str | None = None,
                   users: Sequence[int] | None = None, require_unprocessed: bool = False,
                   exclude: Collection[int] = (), release_rule: Mapping[str, Any] | None = None,
                   extra_explanation: Mapping[str, Any] | None = None, item: Mapping[str, Any] | None = None,
                   notify_each: bool = True) -> Decision | None:
    """Distribute one lead or deal; returns its decision (the existing one when it was decided
    before: an event and a robot for the same lead assign once), or None when nothing is to be done
    (distribution off, no rules, the lead is already taken)."""
    db, member = portal.db, portal.member_id
    existing = store.get_decisions(db, member, entity_type, [entity_id], phase).get(entity_id)
    if existing is not None and existing.status == APPLIED:
        return existing
    if existing is not None and existing.status == DECIDED:  # decided, but the writer died before the portal
        writer.apply(portal.client, db, member, portal.settings, [existing], notify_each=notify_each)
        return existing
    dist = portal.dist
    rules = rules_for(dist, rule_set)
    if trigger == "event" and not dist.get("auto", True):
        return None
    if not _configured(portal, rules, pool, users):
        return None
    if existing is not None and existing.status not in (QUEUED,):
        return existing
    if item is None:
        item = portal.client.call(f"crm.{entity_type}.get", {"id": entity_id}) or {}
        if not item:
            raise DataError(f"{entity_type} {entity_id} not found")
    extra_pools = {"robot": {"users": list(users)}} if users else None
    w = world(portal, extra_pools=extra_pools)
    if require_unprocessed and not engine.is_unprocessed(item, portal.settings,
                                                         engine.all_pool_users(portal.settings, w.people)):
        log.info("lead already taken; not distributed", extra={"member_id": member, "lead": entity_id})
        return None
    matches: list[duplicates.Match] = []
    if entity_type == "lead" and phase == INTAKE and (dist.get("duplicates") or {}).get("enabled", True) \
            and junk_rules.check(item, dist.get("junk") or {}) is None:
        dup = dist.get("duplicates") or {}
        matches = duplicates.lookup_one(portal.client, db, member, item, search=list(dup.get("search") or []),
                                        working=list(dist.get("working_statuses") or []), unassigned=w.unassigned)
    [d] = engine.decide_and_save(
        db, w, [item], entity_type=entity_type, phase=phase, trigger=trigger, rules=rules,
        find_matches=(lambda _i: matches), strategy_override=strategy or None,
        pool_override="robot" if users else (pool or None), extra_pools=extra_pools, exclude=exclude,
        release_rule=release_rule, extra_explanation=extra_explanation)
    writer.apply(portal.client, db, member, portal.settings, [d], items={entity_id: item}, notify_each=notify_each,
                 people=w.people)
    return d


def release(portal: Portal, lead_id: int, item: Mapping[str, Any] | None = None) -> Decision | None:
    """Quality control moved the lead: to the release status -> distribute to sales by the rule that
    sent it to QC; to a final status (junk) -> the QC decision is closed."""
    db, member = portal.db, portal.member_id
    intake = store.get_decisions(db, member, "lead", [lead_id], INTAKE).get(lead_id)
    if intake is None or intake.kind != "qc" or intake.status != APPLIED:
        return None
    if store.get_decisions(db, member, "lead", [lead_id], RELEASE):
        return store.get_decisions(db, member, "lead", [lead_id], RELEASE)[lead_id]
    dist = portal.dist
    if item is None:
        item = portal.client.call("crm.lead.get", {"id": lead_id}) or {}
    status = str(item.get("STATUS_ID") or "")
    release_status = str((dist.get("qc") or {}).get("release_status") or "IN_PROCESS")
    if status != release_status:
        if status not in (dist.get("working_statuses") or []):
            store.close_qc(db, member, int(intake.id or 0), f"quality control moved the lead to {status}")
        return None
    rule = next((r for r in rules_for(dist) if r.get("name") == intake.rule), None)
    if rule is None:
        rule = {"name": intake.rule or "qc", "pool": intake.explanation.get("target_pool") or "",
                "strategy": "round_robin"}
    return distribute_one(portal, "lead", lead_id, trigger="qc_release", phase=RELEASE, release_rule=rule, item=item)


def _read_leads(portal: Portal, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Leads by id, 50 per request."""
    items: dict[int, dict[str, Any]] = {}
    ids = sorted(set(ids))
    for start in range(0, len(ids), 50):
        part = ids[start:start + 50]
        rows = portal.client.call("crm.lead.list", {"filter": {"@ID": part}, "select": lead_select(portal.settings)})
        for row in rows or []:
            items[int(row["ID"])] = row
    return items


def watch_qc(portal: Portal) -> dict[str, int]:
    """Leads waiting in quality control: those QC moved to the release status go to sales."""
    waiting = store.awaiting_release(portal.db, portal.member_id)
    report = {"waiting": len(waiting), "released": 0}
    if not waiting:
        return report
    items = _read_leads(portal, [d.entity_id for d in waiting])
    for d in waiting:
        item = items.get(d.entity_id)
        if item is None:
            store.close_qc(portal.db, portal.member_id, int(d.id or 0), "the lead no longer exists")
            continue
        if release(portal, d.entity_id, item) is not None:
            report["released"] += 1
    return report


def _iso(ts: float, settings: Mapping[str, Any]) -> str:
    return engine.company_now(settings, ts).replace(microsecond=0).isoformat()


def reconcile(portal: Portal) -> dict[str, int]:
    """Nothing is lost: apply decisions whose writer died, retry held (queued) leads, release QC leads
    whose update event was missed, and distribute new leads nobody took (their ONCRMLEADADD was lost
    or arrived while distribution could not run)."""
    db, member, client = portal.db, portal.member_id, portal.client
    dist = portal.dist
    report = {"unapplied": 0, "queued": 0, "released": 0, "lost": 0}
    if not dist.get("enabled", True) or not (dist.get("reconcile") or {}).get("enabled", True):
        return report
    if not (dist.get("rules") or []):
        return report
    stale = store.unapplied(db, member, older_than=clock.now() - 60)
    if stale:
        writer.apply(client, db, member, portal.settings, stale)
        report["unapplied"] = len(stale)
    held = [d for d in store.queued(db, member) if d.entity_type == "lead"]
    items = _read_leads(portal, [d.entity_id for d in held])
    pool_users = engine.all_pool_users(portal.settings, world(portal).people) if held else []
    for d in held:
        item = items.get(d.entity_id)
        if item is None:
            store.mark_failed(db, member, int(d.id or 0), "the lead no longer exists")
            continue
        if d.phase == INTAKE and not engine.is_unprocessed(item, portal.settings, pool_users):
            store.mark_failed(db, member, int(d.id or 0), "taken by someone meanwhile")
            continue
        got = distribute_one(portal, "lead", d.entity_id, trigger="reconcile", phase=d.phase, item=item)
        report["queued"] += int(got is not None and got.status == APPLIED)
    report["released"] = watch_qc(portal)["released"]
    rec = dist.get("reconcile") or {}
    now = clock.now()
    flt = {"STATUS_ID": dist.get("initial_status") or "NEW",
           ">DATE_CREATE": _iso(now - 86400 * int(rec.get("lookback_days") or 3), portal.settings),
           "<DATE_CREATE": _iso(now - 60 * int(rec.get("grace_min") or 5), portal.settings)}
    candidates: list[dict[str, Any]] = []
    for page in client.iter_pages("crm.lead.list", {"filter": flt, "select": lead_select(portal.settings)}):
        candidates.extend(page)
    if candidates:
        decided = store.get_decisions(db, member, "lead", [int(c["ID"]) for c in candidates], INTAKE)
        w = world(portal)
        pool_users = engine.all_pool_users(portal.settings, w.people)
        for item in candidates:
            lid = int(item["ID"])
            if lid in decided or not engine.is_unprocessed(item, portal.settings, pool_users):
                continue
            got = distribute_one(portal, "lead", lid, trigger="reconcile", item=item)
            report["lost"] += int(got is not None)
    return report


def explain(db: Database, member_id: str, lead_id: int, lang: str = "ru", entity_type: str = "lead") -> list[dict]:
    """Every decision about the item, with its readable summary (``b24app leads explain``)."""
    out = []
    for d in store.decisions_of(db, member_id, entity_type, lead_id):
        summary = (d.explanation.get("summary") or {}).get(lang) or ""
        out.append({**d.public(), "summary": summary, "explanation": d.explanation,
                    "watches": [{k: w[k] for k in ("id", "user_id", "state", "reminded", "reroutes", "closed_reason")}
                                for w in store.watches_of(db, member_id, entity_type, lead_id)
                                if w["decision_id"] == d.id]})
    return out


def safe_int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def lead_id_of(event: Mapping[str, Any]) -> int | None:
    data = event.get("data") or {}
    fields = data.get("FIELDS") or {}
    return safe_int(fields.get("ID")) if isinstance(fields, dict) else None

