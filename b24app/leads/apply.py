"""Writing decisions to the portal: the assignment (or the junk status) with its reason in the item's
reason field (b24app.leads.reason), the timeline comment that explains it and the notification — in
``batch`` requests of 50 commands, each command guarded by an effect key (b24app.store.effects) so a
retry after a crash or a lost answer writes nothing twice.

- ``crm.lead.update`` / ``crm.deal.update`` (``REGISTER_SONET_EVENT=N``) is idempotent by nature; its
  key still records that it was done;
- ``crm.timeline.comment.add`` is not: a key left pending by a lost answer is looked up first with
  ``crm.timeline.comment.list`` (the same text on the same item) before writing again;
- ``im.notify.system.add`` carries a ``TAG`` per item and recipient: a repeat replaces, never doubles.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from b24app.calendar.settings_section import business_calendar
from b24app.errors import Action, BitrixError
from b24app.leads import availability as av
from b24app.leads import reason, store
from b24app.leads.duplicates import keys_of
from b24app.leads.store import APPLIED, DECIDED, QUEUED, Decision
from b24app.messages import t
from b24app.portal.placeholders import item_link
from b24app.store import effects
from b24app.store.db import Database

log = logging.getLogger("b24app.leads")


@dataclass
class Outcome:
    applied: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    commands: int = 0


@dataclass
class _Cmd:
    key: str  # effect key
    method: str
    params: dict[str, Any]
    decision: Decision | None
    role: str  # write | comment | notify


def link(client: Any, entity_type: str, entity_id: int) -> str:
    return item_link(client.client_endpoint, entity_type, entity_id)


def comment_text(d: Decision, lang: str) -> str:
    summary = (d.explanation.get("summary") or {}).get(lang) or (d.explanation.get("summary") or {}).get("ru") or ""
    return summary


def _alert_users(settings: Mapping[str, Any], people: Mapping[str, Any] | None, d: Decision) -> list[int]:
    dist = settings.get("distribution") or {}
    users = [int(u) for u in dist.get("alert_user_ids") or []]
    if not users and dist.get("head_user_id"):
        users = [int(dist["head_user_id"])]
    if not users and people is not None:
        pool = (dist.get("pools") or {}).get(str(d.explanation.get("pool") or "")) or {}
        members = av.pool_members(pool, people) if pool else []
        for u in members:
            h = av.head_of(people, u)
            if h:
                users = [h]
                break
    return users


def commands_for(client: Any, settings: Mapping[str, Any], d: Decision, *, notify_each: bool, lang: str,
                 people: Mapping[str, Any] | None = None, reason_field: str | None = None) -> list[_Cmd]:
    """The portal writes one decision needs (effect keys include the attempt: a queued lead that is
    re-decided gets its new outcome written). ``reason_field``: the item's user field that gets the
    reason in the same update (b24app.leads.reason)."""
    dist = settings.get("distribution") or {}
    notify = dist.get("notify") or {}
    out: list[_Cmd] = []
    suffix = f"{d.id}:{d.attempts}"
    entity = d.entity_type
    title = str(d.explanation.get("title") or f"#{d.entity_id}")
    fields: dict[str, Any] = {}
    if d.user_id is not None and d.user_id != d.previous_user_id and d.kind != "junk":
        fields["ASSIGNED_BY_ID"] = d.user_id
    if d.new_status:
        fields["STATUS_ID"] = d.new_status
    if fields and reason_field:
        fields[reason_field] = reason.value(comment_text(d, lang))
    if fields and d.status == DECIDED:
        out.append(_Cmd(f"leads:write:{suffix}", f"crm.{entity}.update",
                        {"id": d.entity_id, "fields": fields, "params": {"REGISTER_SONET_EVENT": "N"}}, d, "write"))
    if notify.get("timeline", True):
        out.append(_Cmd(f"leads:comment:{suffix}", "crm.timeline.comment.add",
                        {"fields": {"ENTITY_ID": d.entity_id, "ENTITY_TYPE": entity, "COMMENT": comment_text(d, lang)}},
                        d, "comment"))
    if not notify_each:
        return out
    url = link(client, entity, d.entity_id)
    if d.kind == "qc" and d.user_id:
        out.append(_Cmd(f"leads:notify:{suffix}", "im.notify.system.add", {
            "USER_ID": d.user_id, "TAG": f"b24app_lead_{entity}_{d.entity_id}",
            "MESSAGE": t("leads.notify.qc", lang, link=url, title=title,
                         status=d.explanation.get("release_status_name") or d.explanation.get("release_status")
                         or "")}, d, "notify"))
    elif d.assigns and notify.get("assignee", True):
        out.append(_Cmd(f"leads:notify:{suffix}", "im.notify.system.add", {
            "USER_ID": d.user_id, "TAG": f"b24app_lead_{entity}_{d.entity_id}",
            "MESSAGE": t("leads.notify.assigned", lang, link=url, title=title, why=comment_text(d, lang))},
            d, "notify"))
    elif d.kind == "queued":
        for uid in _alert_users(settings, people, d):
            out.append(_Cmd(f"leads:alert:{suffix}:{uid}", "im.notify.system.add", {
                "USER_ID": uid, "TAG": f"b24app_queued_{entity}_{d.entity_id}",
                "MESSAGE": t("leads.notify.queued", lang, link=url, title=title, pool=d.explanation.get("pool") or "—")},
                d, "notify"))
    return out


def _find_comments(client: Any, pending: Sequence[_Cmd]) -> dict[str, int]:
    """Comments an earlier attempt may have written (their answer was lost): same item, same text."""
    if not pending:
        return {}
    res = client.batch({f"c{i}": ("crm.timeline.comment.list", {
        "filter": {"ENTITY_ID": c.params["fields"]["ENTITY_ID"], "ENTITY_TYPE": c.params["fields"]["ENTITY_TYPE"]},
        "order": {"ID": "DESC"}}) for i, c in enumerate(pending)})
    found: dict[str, int] = {}
    for i, c in enumerate(pending):
        for row in res.results.get(f"c{i}") or []:
            if isinstance(row, dict) and row.get("COMMENT") == c.params["fields"]["COMMENT"]:
                found[c.key] = int(row["ID"])
                break
    return found


def run_commands(client: Any, db: Database, member_id: str, cmds: Sequence[_Cmd]) -> tuple[dict[str, Any],
                                                                                          dict[str, BitrixError]]:
    """Send the commands not done yet (effects), in batches of 50; returns results and errors by effect key."""
    todo: list[_Cmd] = []
    maybe_sent: list[_Cmd] = []
    results: dict[str, Any] = {}
    for c in cmds:
        state = effects.get(db, member_id, c.key)
        if state is not None and state[0] == effects.DONE:
            results[c.key] = state[1]
            continue
        if state is not None and c.role == "comment":
            maybe_sent.append(c)
        todo.append(c)
    for key, found in _find_comments(client, maybe_sent).items():
        effects.mark_done(db, member_id, key, found)
        results[key] = found
    todo = [c for c in todo if c.key not in results]
    errors: dict[str, BitrixError] = {}
    if not todo:
        return results, errors
    with db.transaction():
        for c in todo:
            effects.mark_pending(db, member_id, c.key)
    res = client.batch([(f"k{i}", c.method, c.params) for i, c in enumerate(todo)])
    with db.transaction():
        for i, c in enumerate(todo):
            key = f"k{i}"
            if key in res.errors:
                errors[c.key] = res.errors[key]
                if res.errors[key].action not in (Action.RETRY, Action.RATE_LIMITED, Action.REFRESH_THEN_RETRY) \
                        and c.role != "write":
                    effects.mark_done(db, member_id, c.key, {"error": str(res.errors[key])})
                continue
            results[c.key] = res.results.get(key)
            effects.mark_done(db, member_id, c.key, res.results.get(key))
    return results, errors


def apply(client: Any, db: Database, member_id: str, settings: Mapping[str, Any], decisions: Sequence[Decision], *,
          items: Mapping[int, Mapping[str, Any]] | None = None, notify_each: bool = True, watch: bool = True,
          people: Mapping[str, Any] | None = None) -> Outcome:
    """Write ``decisions`` (those not applied yet) to the portal; raise the first retryable error
    after recording what succeeded."""
    lang = str((settings.get("general") or {}).get("lang") or "ru")
    todo = [d for d in decisions if d.status in (DECIDED, QUEUED) and d.id is not None]
    reason_fields = {e: reason.field_for(client, db, member_id, settings, e)
                     for e in sorted({d.entity_type for d in todo if d.status == DECIDED})}
    cmds: list[_Cmd] = []
    for d in todo:
        cmds.extend(commands_for(client, settings, d, notify_each=notify_each, lang=lang, people=people,
                                 reason_field=reason_fields.get(d.entity_type)))
    out = Outcome(commands=len(cmds))
    results, errors = run_commands(client, db, member_id, cmds)
    retry: BitrixError | None = None
    by_decision: dict[int, list[_Cmd]] = {}
    for c in cmds:
        if c.decision is not None:
            by_decision.setdefault(int(c.decision.id or 0), []).append(c)
    done_ids: list[int] = []
    with db.transaction():
        for d in todo:
            own = by_decision.get(int(d.id or 0), [])
            write_err = next((errors[c.key] for c in own if c.role == "write" and c.key in errors), None)
            for c in own:
                err = errors.get(c.key)
                if err is not None and err.action in (Action.RETRY, Action.RATE_LIMITED, Action.REFRESH_THEN_RETRY):
                    retry = retry or err
                elif err is not None:
                    log.warning("lead write failed", extra={"member_id": member_id, "decision": d.id,
                                                            "role": c.role, "error": str(err)})
            if write_err is not None:
                if write_err.action in (Action.FAIL_DATA, Action.FAIL_CONFIG):
                    store.mark_failed(db, member_id, int(d.id or 0), str(write_err))
                    out.failed[int(d.id or 0)] = str(write_err)
                continue
            if d.status == DECIDED:
                done_ids.append(int(d.id or 0))
        store.mark_applied(db, member_id, done_ids)
        for d in todo:
            if int(d.id or 0) not in done_ids:
                continue
            d.status = APPLIED
            item = (items or {}).get(d.entity_id)
            if d.entity_type == "lead" and item is not None and d.assigns:
                store.remember_comms(db, member_id, "lead", d.entity_id, [v for _, v in keys_of(item)], d.user_id)
            if watch:
                add_watch(db, member_id, settings, d, item)
    out.applied = done_ids
    if retry is not None:
        raise retry
    return out


def add_watch(db: Database, member_id: str, settings: Mapping[str, Any], d: Decision,
              item: Mapping[str, Any] | None) -> None:
    """Start the deadline watch of an assignment (a lead the assignee must take in N working minutes)."""
    deadline = (settings.get("distribution") or {}).get("deadline") or {}
    if not deadline.get("enabled") or d.entity_type != "lead" or not d.assigns or d.kind == "qc" \
            or d.user_id is None:
        return
    cal = business_calendar(dict(settings), d.user_id)
    at = dt.datetime.fromtimestamp(d.decided_at, tz=cal.tz)
    remind = int(deadline.get("remind_after_min") or 0)
    reroute = int(deadline.get("reroute_after_min") or 0)
    remind_at = cal.add_working_minutes(at, remind).timestamp() if remind else None
    reroute_at = cal.add_working_minutes(at, reroute).timestamp() if reroute else None
    status = d.new_status or str((item or {}).get("STATUS_ID") or d.explanation.get("status") or "")
    reroutes = int((d.explanation.get("reroute") or {}).get("n", 0))
    store.add_watch(db, member_id, entity_type=d.entity_type, entity_id=d.entity_id, decision_id=int(d.id or 0),
                    user_id=d.user_id, status_at_assign=status, assigned_at=d.decided_at, remind_at=remind_at,
                    reroute_at=reroute_at, reroutes=reroutes)
