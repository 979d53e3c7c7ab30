"""Stage deadlines (SLA): when an item in a limited stage is late, the escalation steps, the
"Просрочено" field, and the periodic scan.

One function decides for one item (:func:`evaluate`): the limit of its current stage on the
responsible's business calendar (from the stage entry, or a date field of the item), whether it is
late, which escalation steps are due (each once per stage entry and limit: a changed date gives a new
limit and a new cycle), and whether the flag must be set or cleared. The update-event path calls it for
the changed item at once (a new stage or a moved date recalculates the limit immediately); the scan
calls it for every item of the limited stages, read with ``iter_pages`` (about 2,500 items per request),
and sends notifications and field writes in batches of 50.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.calendar.settings_section import business_calendar
from b24app.errors import B24AppError
from b24app.messages import t
from b24app.stages import items, repo, userfields
from b24app.stages.creation import OrgSource, lang_of
from b24app.stages.deadlines import late_hours, limit_due, steps_due
from b24app.stages.failures import permanent
from b24app.stages.model import Limit, SlaConfig, sla_config
from b24app.stages.notify import Outbox
from b24app.stages.tasks import TaskSpec, ensure_task

log = logging.getLogger("b24app.stages")


def fmt_time(moment: dt.datetime | None, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M") if moment else "—"


@dataclass
class ScanState:
    """What one evaluation run shares: settings, the org (loaded on demand), the outbox."""

    ctx: Any
    settings: dict[str, Any]
    cfg: SlaConfig
    now: dt.datetime
    outbox: Outbox
    orgs: OrgSource
    stage_names: dict[tuple[str, str], str] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=lambda: {"items": 0, "overdue": 0, "steps": 0, "flags_set": 0,
                                                            "flags_cleared": 0, "head_tasks": 0})

    @property
    def lang(self) -> str:
        return lang_of(self.settings)

    def stage_name(self, entity: str, stage: str) -> str:
        key = (entity, stage)
        if key not in self.stage_names:
            self.stage_names[key] = items.stage_name(self.ctx.client, self.ctx.member_id, entity, stage)
        return self.stage_names[key]


def new_state(ctx: Any, settings: dict[str, Any] | None = None, now: dt.datetime | None = None) -> ScanState:
    settings = settings if settings is not None else ctx.settings()
    return ScanState(ctx, settings, sla_config(settings), now or clock.utcnow(), Outbox(ctx), OrgSource(ctx))


def watched_values(cfg: SlaConfig, entity: str, item: dict[str, Any]) -> dict[str, Any]:
    lim = cfg.limit(entity, items.stage_of(entity, item))
    if lim is None or not lim.date_field:
        return {}
    return {lim.date_field: item.get(lim.date_field)}


def _set_flag(st: ScanState, entity: str, item_id: int, value: bool) -> None:
    st.outbox.update(f"{items.meta(entity).api}.update",
                     {"id": item_id, "fields": {st.cfg.flag_field: 1 if value else 0}})
    st.stats["flags_set" if value else "flags_cleared"] += 1


def evaluate(st: ScanState, entity: str, item: dict[str, Any]) -> dict[str, Any]:
    """Decide and queue what one item needs; returns its SLA row (or ``{}`` when not watched)."""
    ctx, cfg = st.ctx, st.cfg
    item_id = int(item["ID"])
    stage = items.stage_of(entity, item)
    limit: Limit | None = cfg.limit(entity, stage)
    flag_known = userfields.exists(ctx, entity, cfg.flag_field)
    flagged = flag_known and userfields.is_set(item.get(cfg.flag_field))
    st.stats["items"] += 1
    assignee = items.assigned(item)
    bc = business_calendar(st.settings, assignee)
    due = limit_due(limit, items.entered_at(item), item.get(limit.date_field), bc) if limit else None
    if limit is None or due is None:
        repo.drop_sla(ctx.db, ctx.member_id, entity, item_id)
        if flagged:
            _set_flag(st, entity, item_id, False)
        return {}
    overdue = st.now >= due
    entry = items.entry_token(item)
    late = late_hours(due, st.now, bc)
    done = steps_due(limit.escalation, due, st.now, bc)
    if overdue:
        st.stats["overdue"] += 1
        _escalate(st, entity, item, limit, due, late, done, bc)
    if cfg.set_flag and overdue and not flagged:
        userfields.ensure_flag_field(ctx, entity, cfg.flag_field, st.lang)
        _set_flag(st, entity, item_id, True)
    elif flagged and not overdue:
        _set_flag(st, entity, item_id, False)
    row = {"entity": entity, "item_id": item_id, "category_id": items.category_id(entity, item), "stage_id": stage,
           "entry": entry, "title": str(item.get("TITLE") or ""), "assigned_by_id": assignee,
           "entered_at": (items.entered_at(item) or st.now).timestamp(), "due_at": due.timestamp(),
           "overdue": overdue, "late_hours": round(late, 2), "steps_done": len(done),
           "flagged": overdue and (cfg.set_flag or flagged), "scanned_at": clock.now()}
    repo.put_sla(ctx.db, ctx.member_id, row)
    return row


def step_key(entity: str, item_id: int, entry: str, due: dt.datetime, code: str) -> str:
    return f"stages:sla:{entity}:{item_id}:{entry}:{int(due.timestamp())}:{code}"


def _escalate(st: ScanState, entity: str, item: dict[str, Any], limit: Limit, due: dt.datetime, late: float,
              done: list[int], bc: Any) -> None:
    ctx = st.ctx
    item_id = int(item["ID"])
    entry = items.entry_token(item)
    assignee = items.assigned(item)
    title = str(item.get("TITLE") or f"#{item_id}")
    link = items.link(ctx.client.client_endpoint, entity, item_id)
    lang = st.lang
    for i in done:
        step = limit.escalation[i]
        key = step_key(entity, item_id, entry, due, step.code)
        words = {"stage": st.stage_name(entity, limit.stage), "entity": t(f"stages.entity.{entity}", lang),
                 "link": link, "title": title, "due": fmt_time(due, bc.tz),
                 "late": f"{late:.1f}".replace(".", ",") if lang == "ru" else f"{late:.1f}"}
        if step.action == "notify_assignee":
            if st.outbox.notify(key, assignee, t("stages.sla.notify_assignee", lang, **words)):
                st.stats["steps"] += 1
        elif step.action == "notify_head":
            head = st.orgs.get().head_of(assignee) if assignee else None
            if head is None:
                log.info("no head to escalate to", extra={"member_id": ctx.member_id, "user_id": assignee})
                continue
            words["manager"] = st.orgs.get().name(assignee)
            if st.outbox.notify(key, head, t("stages.sla.notify_head", lang, **words)):
                st.stats["steps"] += 1
        elif step.action == "task_for_head":
            head = st.orgs.get().head_of(assignee) if assignee else None
            if head is None:
                continue
            from b24app.store import effects

            state = effects.get(ctx.db, ctx.member_id, key)
            if state and state[0] == effects.DONE:
                continue
            words["manager"] = st.orgs.get().name(assignee)
            head_bc = business_calendar(st.settings, head)
            ensure_task(ctx, TaskSpec(
                key=key, title=t("stages.sla.head_task.title", lang, **words),
                description=t("stages.sla.head_task.description", lang, **words), responsible_id=head,
                entity=entity, item_id=item_id, binding=f"{items.meta(entity).binding}_{item_id}",
                stage_id=limit.stage, entry=entry, template_id=f"sla:{step.code}",
                deadline=head_bc.add_working_hours(st.now, step.task_deadline_hours) if step.task_deadline_hours else None,
                auditors=(assignee,) if assignee else (), priority=2,
            ), lang)
            st.stats["head_tasks"] += 1
            st.stats["steps"] += 1


def list_select(cfg: SlaConfig, entity: str) -> list[str]:
    meta = items.meta(entity)
    fields = [*items.LIST_FIELDS, meta.stage_field]
    if entity == "deal":
        fields.append("CATEGORY_ID")
    for lim in cfg.limits.values():
        if lim.entity == entity and lim.date_field and lim.date_field not in fields:
            fields.append(lim.date_field)
    fields.append(cfg.flag_field)
    return fields


def _evaluate_guarded(st: ScanState, entity: str, item: dict[str, Any]) -> None:
    """One item's failure that retrying cannot fix (e.g. a head who cannot get tasks) must not stop the
    scan for every other item; transient errors still fail the job, which is retried as a whole."""
    try:
        evaluate(st, entity, item)
    except B24AppError as exc:
        if not permanent(exc):
            raise
        st.stats["errors"] = st.stats.get("errors", 0) + 1
        log.warning("SLA step failed for an item", extra={"member_id": st.ctx.member_id, "entity": entity,
                                                          "item_id": item.get("ID"), "error": str(exc)})


def scan(ctx: Any) -> dict[str, Any]:
    """One SLA pass over every limited stage (and every flagged item) of the portal."""
    st = new_state(ctx)
    cfg = st.cfg
    if not cfg.enabled:
        return {"skipped": "sla disabled"}
    entities = set(cfg.entities()) | {e for e in items.ENTITIES if userfields.exists(ctx, e, cfg.flag_field)}
    for entity in sorted(entities):
        meta = items.meta(entity)
        stages = cfg.stages_of(entity)
        select = list_select(cfg, entity)
        seen: set[int] = set()
        if stages:
            for page in ctx.client.iter_pages(f"{meta.api}.list",
                                              {"filter": {f"@{meta.stage_field}": stages}, "select": select}):
                for item in page:
                    seen.add(int(item["ID"]))
                    _evaluate_guarded(st, entity, item)
                st.outbox.flush()
                ctx.extend_lease(600)
        if userfields.exists(ctx, entity, cfg.flag_field):  # flags left on items outside the limited stages
            for page in ctx.client.iter_pages(f"{meta.api}.list",
                                              {"filter": {cfg.flag_field: 1}, "select": select}):
                for item in page:
                    if int(item["ID"]) not in seen:
                        seen.add(int(item["ID"]))
                        _evaluate_guarded(st, entity, item)
                st.outbox.flush()
        for item_id in repo.sla_item_ids(ctx.db, ctx.member_id, entity):
            if item_id not in seen:  # left the limited stages (or deleted) since the last scan
                repo.drop_sla(ctx.db, ctx.member_id, entity, item_id)
    st.outbox.flush()
    return {**st.stats, "notifications": st.outbox.sent}
