"""Deadlines: a lead the assignee has not taken (still in the status it was assigned in, still his, no
activity since) within N working minutes gets a reminder; after M working minutes it is re-routed to
the next available manager of its rule (at most K times; people who had it are skipped) and the head
is told. Working minutes follow the assignee's business calendar (the "calendar" settings section:
his schedule, breaks, company holidays), so a lead assigned at 17:50 on Friday is re-routed on Monday.

One scan reads the due leads in one ``batch`` (``crm.lead.get`` and ``crm.activity.list`` per lead).
"""

from __future__ import annotations

import logging
from typing import Any

from b24app import clock
from b24app.leads import apply as writer
from b24app.leads import availability as av
from b24app.leads import service, store
from b24app.leads.engine import INTAKE
from b24app.leads.rules import rules_for
from b24app.leads.service import Portal
from b24app.messages import t

log = logging.getLogger("b24app.leads")


def _iso(ts: float, settings: dict[str, Any]) -> str:
    from b24app.leads.engine import company_now

    return company_now(settings, ts).replace(microsecond=0).isoformat()


def scan(portal: Portal, limit: int = 100) -> dict[str, int]:
    """Handle the due watches of one portal; returns what was done."""
    db, member, client = portal.db, portal.member_id, portal.client
    report = {"checked": 0, "taken": 0, "reminded": 0, "rerouted": 0, "escalated": 0}
    now = clock.now()
    due = store.due_watches(db, member, now, limit)
    if not due:
        return report
    deadline = portal.dist.get("deadline") or {}
    if not deadline.get("enabled"):
        for w in due:
            store.update_watch(db, int(w["id"]), state="closed", closed_reason="deadlines switched off")
        return report
    cmds: dict[str, tuple[str, dict]] = {}
    for w in due:
        cmds[f"g{w['id']}"] = (f"crm.{w['entity_type']}.get", {"id": w["entity_id"]})
        cmds[f"a{w['id']}"] = ("crm.activity.list", {
            "filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": w["entity_id"], ">CREATED": _iso(w["assigned_at"],
                                                                                         portal.settings)},
            "select": ["ID"]})
    res = client.batch(cmds)
    lang = str((portal.settings.get("general") or {}).get("lang") or "ru")
    people: dict[str, Any] | None = None
    for w in due:
        report["checked"] += 1
        wid = int(w["id"])
        item = res.results.get(f"g{wid}")
        if f"g{wid}" in res.errors or not isinstance(item, dict):
            store.update_watch(db, wid, state="closed", closed_reason="lead not readable")
            continue
        owner = service.safe_int(item.get("ASSIGNED_BY_ID"))
        taken = None
        if owner != int(w["user_id"]):
            taken = "reassigned"
        elif str(item.get("STATUS_ID") or "") != w["status_at_assign"]:
            taken = "status changed"
        elif res.results.get(f"a{wid}"):
            taken = "activity"
        if taken:
            store.update_watch(db, wid, state="closed", closed_reason=taken)
            report["taken"] += 1
            continue
        if people is None:
            people = service.world(portal).people
        url = writer.link(client, w["entity_type"], int(w["entity_id"]))
        title = str(item.get("TITLE") or f"#{w['entity_id']}")
        if w["reroute_at"] is not None and now >= float(w["reroute_at"]):
            if int(w["reroutes"]) < int(deadline.get("max_reroutes") or 0):
                _reroute(portal, w, item, people, lang, url, title)
                report["rerouted"] += 1
            else:
                _escalate(portal, w, people, lang, url, title)
                report["escalated"] += 1
            continue
        if w["remind_at"] is not None and now >= float(w["remind_at"]) and not int(w["reminded"]):
            minutes = int(deadline.get("remind_after_min") or 0)
            writer.run_commands(client, db, member, [writer._Cmd(
                f"leads:remind:{wid}", "im.notify.system.add",
                {"USER_ID": int(w["user_id"]), "TAG": f"b24app_lead_{w['entity_type']}_{w['entity_id']}",
                 "MESSAGE": t("leads.notify.remind", lang, link=url, title=title, minutes=minutes)}, None, "notify")])
            report["reminded"] += 1
            nxt = float(w["reroute_at"]) if w["reroute_at"] is not None else None
            if nxt is None:
                store.update_watch(db, wid, reminded=1, state="closed", closed_reason="reminded")
            else:
                store.update_watch(db, wid, reminded=1, next_at=nxt)
        else:
            nxt_candidates = [float(x) for x in (w["remind_at"], w["reroute_at"]) if x is not None and float(x) > now]
            store.update_watch(db, wid, next_at=min(nxt_candidates) if nxt_candidates else now + 60)
    return report


def _head_of(portal: Portal, people: dict[str, Any], uid: int) -> int | None:
    return av.head_of(people, uid, default=portal.dist.get("head_user_id"))


def _reroute(portal: Portal, w: dict[str, Any], item: dict[str, Any], people: dict[str, Any], lang: str,
             url: str, title: str) -> None:
    db, member = portal.db, portal.member_id
    deadline = portal.dist.get("deadline") or {}
    n = int(w["reroutes"]) + 1
    history = store.decisions_of(db, member, w["entity_type"], int(w["entity_id"]))
    had = {d.user_id for d in history if d.user_id is not None}
    first = next((d for d in history if d.phase in ("release", INTAKE) and d.rule), None)
    rule = next((r for r in rules_for(portal.dist) if first is not None and r.get("name") == first.rule), None)
    if rule is None:
        pool = (first.explanation.get("target_pool") or first.explanation.get("pool")) if first else None
        rule = {"name": first.rule if first and first.rule else "reroute", "pool": pool or "",
                "strategy": first.strategy if first and first.strategy else "round_robin"}
    d = service.distribute_one(
        portal, w["entity_type"], int(w["entity_id"]), trigger="deadline", phase=f"reroute:{n}", exclude=had,
        release_rule=rule, item=item,
        extra_explanation={"reroute": {"n": n, "max": int(deadline.get("max_reroutes") or 0),
                                       "minutes": int(deadline.get("reroute_after_min") or 0)}})
    store.update_watch(db, int(w["id"]), state="closed", closed_reason=f"rerouted ({n})")
    previous = int(w["user_id"])
    if d is None or not d.assigns:
        _escalate(portal, w, people, lang, url, title)
        return
    if deadline.get("notify_head", True):
        head = _head_of(portal, people, previous)
        if head:
            writer.run_commands(portal.client, db, member, [writer._Cmd(
                f"leads:head:{w['id']}:rerouted", "im.notify.system.add",
                {"USER_ID": head, "TAG": f"b24app_reroute_{w['entity_type']}_{w['entity_id']}",
                 "MESSAGE": t("leads.notify.rerouted_head", lang, link=url, title=title,
                              previous=av.name_of(people, previous), user=av.name_of(people, d.user_id),
                              minutes=int(deadline.get("reroute_after_min") or 0))}, None, "notify")])


def _escalate(portal: Portal, w: dict[str, Any], people: dict[str, Any], lang: str, url: str, title: str) -> None:
    db, member = portal.db, portal.member_id
    store.update_watch(db, int(w["id"]), state="closed", closed_reason="escalated")
    head = _head_of(portal, people, int(w["user_id"]))
    if head and (portal.dist.get("deadline") or {}).get("notify_head", True):
        writer.run_commands(portal.client, db, member, [writer._Cmd(
            f"leads:head:{w['id']}:escalated", "im.notify.system.add",
            {"USER_ID": head, "TAG": f"b24app_reroute_{w['entity_type']}_{w['entity_id']}",
             "MESSAGE": t("leads.notify.escalated_head", lang, link=url, title=title, n=int(w["reroutes"]),
                          user=av.name_of(people, int(w["user_id"])))}, None, "notify")])
