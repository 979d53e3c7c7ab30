"""The backlog: distribute tens of thousands of accumulated leads with few REST requests.

Requests of a run (N leads, standard portal):
1. one ``batch``: users, departments and the number of leads to do;
2. one ``batch`` (more only for big lists): absences and work days, loads of the pool members, and the
   contacts, companies, open deals and open leads used to recognise repeat clients and duplicates;
3. the leads, 2,500 per request (``iter_pages``: ``start=-1``, ``>ID``, 50 chained pages);
4. the writes, 50 commands per request: per lead one ``crm.lead.update`` carrying the assignment and
   its reason (the reason field, b24app.leads.reason) -> N/50 requests; with timeline comments
   (``--comments`` or ``distribution.notify.backlog_timeline``) two commands per lead -> N/25;
5. one ``batch`` of summary notifications: one per manager ("N leads assigned to you") and one alert
   about held leads — instead of one notification per lead.
So 5,000 leads take ``2 + 2 + 3 + 100 + 1 = 108`` requests (``208`` with comments), within
``ceil(5000/50)*2 + 10``; making the reason field at a portal's first run adds one or two.

The trade-off: loads, absences and work days are read once per run (a run of 60,000 leads at 2
requests/s lasts about 20 minutes; a manager going on a break meanwhile is not noticed), the loads
then grow with our own assignments in the store; notifications are aggregated per manager; deadline
watches are not started for backlog leads (they are old already; reminders by the thousand help
nobody).

Resumable: a run record (``lead_runs``) keeps the last processed lead id; a run with the same filter
that did not finish continues from there (``--restart`` starts over). Decisions are stored before the
writes and the writes are effect-guarded, so an interrupted chunk is finished, never doubled.
"""

from __future__ import annotations

import copy
import logging
import os
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.errors import Busy, ConfigError
from b24app.leads import apply as writer
from b24app.leads import duplicates, engine, store
from b24app.leads.engine import INTAKE, Books, World
from b24app.leads.rules import rules_for
from b24app.leads.service import Portal, lead_select
from b24app.leads.snapshots import (
    load_commands,
    loads_from,
    people_from,
    people_specs,
    presence_commands,
    presence_from,
    read_lists,
)
from b24app.leads.store import ASSIGNING_KINDS, Decision
from b24app.messages import t
from b24app.store import leases

log = logging.getLogger("b24app.leads")

INDEXED_KINDS = ("assign", "repeat_client", "duplicate", "fallback_pool", "head", "qc")
LEASE_TTL_S = 600.0
# leads decided in one transaction and written together: the counters the decisions read are loaded
# once per chunk (a query over the day's decisions), and 500 is whole batches of 50 commands
CHUNK = 500


@dataclass
class BacklogResult:
    run_id: int | None
    dry_run: bool
    total: int | None
    processed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    finished: bool = False
    resumed_from: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "dry_run": self.dry_run, "total": self.total, "processed": self.processed,
                "counts": self.counts, "requests": self.requests, "finished": self.finished,
                "resumed_from": self.resumed_from, "leads": self.rows}


def effective_filter(settings: Mapping[str, Any], user_filter: Mapping[str, Any] | None) -> dict[str, Any]:
    """The default filter (new leads owned by the "nobody" users) with the operator's conditions; a
    condition on a field replaces the default's condition on that field."""
    dist = settings.get("distribution") or {}
    flt: dict[str, Any] = {"STATUS_ID": dist.get("initial_status") or "NEW",
                           "@ASSIGNED_BY_ID": [int(u) for u in dist.get("unassigned_user_ids") or [1]]}
    for key, value in (user_filter or {}).items():
        name = key.lstrip("=!<>@%")
        for old in [k for k in flt if k.lstrip("=!<>@%") == name]:
            del flt[old]
        flt[key] = value
    return flt


def parse_filter(items: list[str]) -> dict[str, Any]:
    """``["SOURCE_ID=UC_YANDEX", "@SOURCE_ID=EMAIL,WEBFORM", ">DATE_CREATE=2026-01-01"]`` -> filter dict
    (``@``/``!@`` values are comma-separated lists)."""
    out: dict[str, Any] = {}
    for raw in items:
        if "=" not in raw.lstrip("=!<>@%"):
            raise ConfigError(f"filter {raw!r}: use FIELD=VALUE (operators before the field: > < >= <= ! @ %)")
        prefix_len = len(raw) - len(raw.lstrip("=!<>@%"))
        body = raw[prefix_len:]
        name, value = body.split("=", 1)
        key = raw[:prefix_len] + name.strip()
        out[key] = [v.strip() for v in value.split(",") if v.strip()] if key.startswith(("@", "!@")) else value.strip()
    return out


def _chunks(pages: Iterable[list[dict[str, Any]]], size: int, limit: int | None) -> Iterator[list[dict[str, Any]]]:
    """The pages regrouped into chunks of ``size`` leads (the last one shorter). With ``limit`` a chunk
    ends as soon as it holds what the limit leaves, so no page is read beyond it."""
    buf: list[dict[str, Any]] = []
    taken = 0
    for page in pages:
        buf.extend(page)
        want = size if limit is None else min(size, limit - taken)
        if len(buf) >= want:
            taken += len(buf)
            yield buf
            buf = []
    if buf:
        yield buf


def _row(d: Decision) -> dict[str, Any]:
    return {"lead_id": d.entity_id, "user_id": d.user_id, "rule": d.rule, "reason": d.reason, "kind": d.kind,
            "status": d.status, "previous_user_id": d.previous_user_id,
            "user": (d.explanation.get("names") or {}).get(str(d.user_id), "") if d.user_id else ""}


def _prefetch(portal: Portal, flt: dict[str, Any], last_id: int) -> tuple[World, duplicates.Index, int | None]:
    """Two requests: people and the count; then presence, loads and the duplicate lists."""
    settings, client = portal.settings, portal.client
    dist = portal.dist
    at = clock.now()
    lists, first = read_lists(client, people_specs(), extra={
        "total": ("crm.lead.list", {"filter": {**flt, ">ID": last_id}, "select": ["ID"], "start": 0})})
    people = people_from(lists["users"], lists["departments"], lists["statuses"])
    store.put_snapshot(portal.db, portal.member_id, "people", people, at)
    total = first.totals.get("total")
    if total is None and "total" in first.results:
        total = len(first.results.get("total") or [])
    now = engine.company_now(settings)
    uids = engine.watched_users(settings, people)
    timeman = bool((dist.get("availability") or {}).get("timeman"))
    extra = {**presence_commands(uids, today=now.date(), timeman=timeman),
             **load_commands(uids, list(dist.get("working_statuses") or ["NEW", "IN_PROCESS"]))} if uids else {}
    dup = dist.get("duplicates") or {}
    specs = duplicates.backlog_specs(list(dup.get("search") or []) if dup.get("enabled", True) else [],
                                     engine.all_pool_users(settings, people),
                                     list(dist.get("working_statuses") or []))
    at = clock.now()
    rows, res = read_lists(client, specs, extra=extra)
    presence = presence_from(res, client, uids, now, timeman) if uids else {"users": [], "absent": {}, "timeman": {}}
    loads = loads_from(res, uids) if uids else {}
    store.put_snapshot(portal.db, portal.member_id, "presence", presence, at)
    store.put_snapshot(portal.db, portal.member_id, "loads", loads, at)
    idx = duplicates.index_from_lists(rows.get("contacts", []), rows.get("companies", []), rows.get("deals", []),
                                      [r for r in rows.get("open_leads", [])
                                       if int(r.get("ASSIGNED_BY_ID") or 0) not in set(dist.get("unassigned_user_ids")
                                                                                        or [])])
    w = World(portal.member_id, settings, people, presence, {int(k): int(v) for k, v in loads.items()}, at,
              set(store.paused(portal.db, portal.member_id)), now)
    return w, idx, int(total) if total is not None else None


def without_caps(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with no per-day or open-at-once caps (a one-off backlog the operator allows)."""
    doc = copy.deepcopy(dict(settings))
    doc.setdefault("distribution", {})["caps"] = {"daily": None, "open": None, "users": {}}
    return doc


def without_comments(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with no timeline comment per lead (the reason field and the decision log keep the
    reasons)."""
    doc = copy.deepcopy(dict(settings))
    dist = doc.setdefault("distribution", {})
    dist["notify"] = {**(dist.get("notify") or {}), "timeline": False}
    return doc


def run(portal: Portal, *, user_filter: Mapping[str, Any] | None = None, dry_run: bool = False,
        limit: int | None = None, restart: bool = False, caps: bool = True, comments: bool | None = None,
        progress: Callable[[int], None] | None = None, on_total: Callable[[int | None], None] | None = None) -> BacklogResult:
    """Distribute the backlog (see the module docstring). ``progress(n)`` is called after each chunk;
    ``caps=False`` lifts the caps for this run (they would send most of a big backlog to the fallback);
    ``comments``: a timeline comment per lead besides the reason field (two write commands per lead:
    N/25 requests instead of N/50); None takes ``distribution.notify.backlog_timeline`` (off by default)."""
    if not caps:
        portal = Portal(portal.db, portal.member_id, portal.client, without_caps(portal.settings))
    if comments is None:
        comments = bool((portal.dist.get("notify") or {}).get("backlog_timeline", False))
    if not comments:
        portal = Portal(portal.db, portal.member_id, portal.client, without_comments(portal.settings))
    dist = portal.dist
    if not dist.get("enabled", True):
        raise ConfigError("distribution is disabled in the settings (distribution.enabled)")
    rules = rules_for(dist)
    if not rules:
        raise ConfigError("distribution has no rules (distribution.rules): nothing to distribute by")
    db, member, client = portal.db, portal.member_id, portal.client
    flt = effective_filter(portal.settings, user_filter)
    sent_before = getattr(client, "requests_sent", 0)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    lease = f"leads-backlog:{member}"
    if not dry_run and not leases.try_acquire(db, lease, holder, LEASE_TTL_S):
        raise Busy(f"another backlog run holds {lease} ({leases.holder_of(db, lease)})")
    run_id: int | None = None
    try:
        run_row = None if dry_run else store.open_run(db, member, flt, restart=restart)
        run_id = int(run_row["id"]) if run_row else None
        last_id = int(run_row["last_id"]) if run_row else 0
        counts: dict[str, int] = dict(run_row["counts"]) if run_row else {}
        w, idx, total = _prefetch(portal, flt, last_id)
        result = BacklogResult(run_id, dry_run, total, resumed_from=last_id)
        if on_total is not None:
            on_total(total if limit is None else min(total or limit, limit))
        books = Books.load(db, w, engine.strategy_keys(portal.settings)) if dry_run else None

        def remember(d: Decision, item: Mapping[str, Any]) -> None:
            if d.kind in INDEXED_KINDS and d.user_id is not None:
                idx.add_lead(int(item["ID"]), d.user_id, duplicates.keys_of(item), str(item.get("TITLE") or ""))

        def find(item: Mapping[str, Any]) -> list[duplicates.Match]:
            return idx.find(item, exclude=("lead", int(item["ID"])))

        processed = 0
        finished = True
        pages = client.iter_pages("crm.lead.list", {"filter": flt, "select": lead_select(portal.settings)},
                                  last_id=last_id)
        for chunk in _chunks(pages, CHUNK, limit):
            if limit is not None and processed + len(chunk) >= limit:
                chunk = chunk[:max(0, limit - processed)]
                finished = False
            if not chunk:
                break
            w.now = engine.company_now(portal.settings)
            items = {int(i["ID"]): i for i in chunk}
            if dry_run:
                assert books is not None
                decisions = []
                for item in chunk:
                    d = engine.decide_item(w, books, item, trigger="backlog", rules=rules, find_matches=find)
                    books.count(d)
                    remember(d, item)
                    decisions.append(d)
            else:
                decisions = engine.decide_and_save(db, w, chunk, trigger="backlog", rules=rules, find_matches=find,
                                                   after_each=remember, run_id=run_id)
                writer.apply(client, db, member, portal.settings, decisions, items=items, notify_each=False,
                             watch=False, people=w.people)
            for d in decisions:
                already = d.run_id != run_id and d.trigger != "backlog"
                key = "already" if already and not dry_run else d.kind
                counts[key] = counts.get(key, 0) + 1
                result.rows.append(_row(d))
            processed += len(chunk)
            last_id = int(chunk[-1]["ID"])
            if run_id is not None:
                store.advance_run(db, run_id, last_id, counts, total)
                leases.try_acquire(db, lease, holder, LEASE_TTL_S)
            if progress is not None:
                progress(len(chunk))
            if not finished:
                break
        result.processed = processed
        result.counts = counts
        result.finished = finished
        if run_id is not None:
            _summaries(portal, run_id, w)
            store.finish_run(db, run_id, "done" if finished else "partial")
        result.requests = getattr(client, "requests_sent", 0) - sent_before
        return result
    except Exception as exc:
        if run_id is not None:
            store.finish_run(db, run_id, "interrupted", str(exc)[:500])
        raise
    finally:
        if not dry_run:
            leases.release(db, lease, holder)


def _summaries(portal: Portal, run_id: int, w: World) -> None:
    """One notification per manager for the whole run, and one alert about held leads."""
    db, member, client = portal.db, portal.member_id, portal.client
    lang = w.lang
    rows = db.query(
        "SELECT user_id, entity_id, kind, status FROM lead_decisions WHERE member_id = ? AND run_id = ? ORDER BY id",
        (member, run_id))
    per_user: dict[int, list[int]] = {}
    queued = 0
    for r in rows:
        if r["kind"] in ASSIGNING_KINDS and r["user_id"] and r["status"] == store.APPLIED:
            per_user.setdefault(int(r["user_id"]), []).append(int(r["entity_id"]))
        elif r["status"] == store.QUEUED:
            queued += 1
    cmds = []
    for uid, ids in sorted(per_user.items()):
        links = ", ".join(f"[URL={writer.link(client, 'lead', i)}]#{i}[/URL]" for i in ids[:5])
        cmds.append(writer._Cmd(f"leads:summary:{run_id}:{uid}:{len(ids)}", "im.notify.system.add", {
            "USER_ID": uid, "TAG": f"b24app_backlog_{run_id}",
            "MESSAGE": t("leads.notify.summary", lang, count=len(ids), links=links)}, None, "notify"))
    if queued:
        fake = Decision("lead", 0, INTAKE, "queued", explanation={"pool": ""})
        for uid in writer._alert_users(portal.settings, w.people, fake):
            cmds.append(writer._Cmd(f"leads:summary:{run_id}:queued:{uid}:{queued}", "im.notify.system.add", {
                "USER_ID": uid, "TAG": f"b24app_backlog_queued_{run_id}",
                "MESSAGE": t("leads.notify.queued_summary", lang, count=queued)}, None, "notify"))
    if cmds:
        writer.run_commands(client, db, member, cmds)
