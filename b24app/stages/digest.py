"""The daily digest for each head, sent at the end of the working day (company business calendar) as an
im notification: overdue stages of the head's team (from the last SLA scan), stuck leads (in a process
status without a move for N working days) and the team's tasks due today or overdue.

The team of a head is every active user whose head (from the departments' ``UF_HEAD``, walking up through
departments without a head) is that head. One notification per head and day (effect key and ``TAG``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from b24app import clock
from b24app.calendar.settings_section import business_calendar
from b24app.messages import t
from b24app.stages import items, repo
from b24app.stages import org as org_mod
from b24app.stages.creation import lang_of
from b24app.stages.model import sla_config
from b24app.stages.notify import tag_of
from b24app.stages.sla import fmt_time
from b24app.store import effects

log = logging.getLogger("b24app.stages")

MAX_LINES = 15
LATE_AFTER_END_S = 3 * 3600  # a digest not sent within 3 hours after the day's end is skipped


def end_of_day(settings: dict[str, Any], day: dt.date) -> dt.datetime | None:
    """The end of the company's working day ``day``; None for a day off."""
    bc = business_calendar(settings)
    spans = bc.day_intervals(day)
    return spans[-1][1] if spans else None


def due_run_at(settings: dict[str, Any], now: dt.datetime) -> tuple[dt.date, dt.datetime] | None:
    """(today, when to send) for the digest of today, or None (day off, or too late today)."""
    cfg = sla_config(settings).digest
    bc = business_calendar(settings)
    today = now.astimezone(bc.tz).date()
    end = end_of_day(settings, today)
    if end is None or now.timestamp() > end.timestamp() + LATE_AFTER_END_S:
        return None
    return today, end - dt.timedelta(minutes=cfg.minutes_before_end)


def _lines(rows: list[str], lang: str) -> list[str]:
    if len(rows) <= MAX_LINES:
        return rows
    return [*rows[:MAX_LINES], t("stages.digest.more", lang, n=len(rows) - MAX_LINES)]


def _tasks_due(client: Any, users: list[int], until: dt.datetime) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    while users:
        answer = client.call_raw("tasks.task.list", {
            "filter": {"RESPONSIBLE_ID": users, "<=DEADLINE": until.isoformat(timespec="seconds"),
                       "REAL_STATUS": [2, 3]},  # tasks.task.list: an array value means "one of"
            "select": ["ID", "TITLE", "RESPONSIBLE_ID", "DEADLINE", "STATUS"], "order": {"DEADLINE": "ASC"},
            "start": start,
        })
        result = answer.get("result") or {}
        rows = result.get("tasks", []) if isinstance(result, dict) else result
        out.extend(r for r in rows or [] if isinstance(r, dict))
        if answer.get("next") is None or not rows:
            break
        start = int(answer["next"])
    return out


def run(ctx: Any, day: str | None = None) -> dict[str, Any]:
    settings = ctx.settings()
    cfg = sla_config(settings).digest
    if not cfg.enabled:
        return {"skipped": "digest is off"}
    lang = lang_of(settings)
    bc = business_calendar(settings)
    now = clock.utcnow()
    date = dt.date.fromisoformat(day) if day else now.astimezone(bc.tz).date()
    org = org_mod.load(ctx.client, ctx.member_id, fresh=True)
    heads = list(cfg.heads) or org.heads()
    teams = {h: org.team_of(h) for h in heads}
    everyone = sorted({u for team in teams.values() for u in team})
    client = ctx.client
    # stuck leads of every team member, read once
    stuck: dict[int, list[dict[str, Any]]] = {}
    if everyone:
        for page in client.iter_pages("crm.lead.list", {
                "filter": {"STATUS_SEMANTIC_ID": "P", "@ASSIGNED_BY_ID": everyone},
                "select": ["ID", "TITLE", "STATUS_ID", "ASSIGNED_BY_ID", "MOVED_TIME", "DATE_CREATE"]}):
            for lead in page:
                since = items.entered_at(lead)
                if since is not None and bc.working_days_between(since, now) >= cfg.stuck_lead_days:
                    stuck.setdefault(int(lead["ASSIGNED_BY_ID"]), []).append({**lead, "_since": since})
    end = dt.datetime(date.year, date.month, date.day, 23, 59, 59, tzinfo=bc.tz)
    tasks_by_user: dict[int, list[dict[str, Any]]] = {}
    for task in _tasks_due(client, everyone, end):
        tasks_by_user.setdefault(int(task.get("responsibleId") or task.get("RESPONSIBLE_ID") or 0), []).append(task)
    sent = []
    for head, team in teams.items():
        if not team:
            continue
        overdue = repo.overdue_rows(ctx.db, ctx.member_id, managers=team)
        leads = [lead for u in team for lead in stuck.get(u, [])]
        tasks = [task for u in team for task in tasks_by_user.get(u, [])]
        if not (overdue or leads or tasks) and not cfg.send_empty:
            continue
        parts = [t("stages.digest.header", lang, date=date.strftime("%d.%m.%Y"))]
        if overdue:
            parts.append(t("stages.digest.overdue", lang, n=len(overdue)))
            parts += _lines([t("stages.digest.overdue.line", lang,
                               link=items.link(client.client_endpoint, r["entity"], int(r["item_id"])),
                               title=r["title"] or f"#{r['item_id']}",
                               stage=items.stage_name(client, ctx.member_id, r["entity"], r["stage_id"]),
                               manager=org.name(r["assigned_by_id"]),
                               due=fmt_time(dt.datetime.fromtimestamp(r["due_at"], dt.UTC), bc.tz))
                             for r in overdue], lang)
        if leads:
            parts.append(t("stages.digest.stuck", lang, n=len(leads), days=cfg.stuck_lead_days))
            parts += _lines([t("stages.digest.stuck.line", lang,
                               link=items.link(client.client_endpoint, "lead", int(lead["ID"])),
                               title=lead.get("TITLE") or f"#{lead['ID']}",
                               stage=items.stage_name(client, ctx.member_id, "lead", str(lead.get("STATUS_ID"))),
                               manager=org.name(int(lead["ASSIGNED_BY_ID"])), since=fmt_time(lead["_since"], bc.tz))
                             for lead in leads], lang)
        if tasks:
            parts.append(t("stages.digest.tasks", lang, n=len(tasks)))
            parts += _lines([t("stages.digest.tasks.line", lang, title=task.get("title") or task.get("TITLE"),
                               manager=org.name(int(task.get("responsibleId") or task.get("RESPONSIBLE_ID") or 0)),
                               due=fmt_time(_parse(task.get("deadline") or task.get("DEADLINE")), bc.tz))
                             for task in tasks], lang)
        if not (overdue or leads or tasks):
            parts.append(t("stages.digest.empty", lang))
        message = "\n".join(parts)
        key = f"stages:digest:{date.isoformat()}:{head}"
        effects.ensure(ctx.db, ctx.member_id, key, lambda h=head, m=message, k=key: client.call(
            "im.notify.system.add", {"USER_ID": h, "MESSAGE": m, "TAG": tag_of(k)}))
        sent.append({"head": head, "overdue": len(overdue), "stuck_leads": len(leads), "tasks": len(tasks)})
    return {"date": date.isoformat(), "sent": sent}


def _parse(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
