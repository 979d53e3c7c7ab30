"""Stage changes without robots: ``ONCRMDEALADD|UPDATE`` and ``ONCRMLEADADD|UPDATE`` carry only the id,
so the item is fetched and compared with the last stage we saw (``stages_seen``).

- A new stage entry (another stage, or the same stage entered again: another ``MOVED_TIME``) creates
  the tasks of the stage's templates, and of every stage the item passed through since the entry we
  saw (the portal's stage history: two moves before the event is handled lose nothing); with ``skipped_stages`` a forward jump inside one funnel also
  creates the tasks of the process stages in between (each keyed by the jump).
- The stage left: with ``close_tasks_on_leave`` the app's open tasks of that entry are completed.
- The SLA of the item is evaluated at once, so a new stage or a changed date field recalculates the
  limit and clears the "Просрочено" flag without waiting for the scan.
- An item seen for the first time through an update (the app was installed later, or an event was
  lost) counts as entering its stage only if it moved there after the app was installed: older items
  are brought up to date by ``b24app stages apply``, on purpose.

Everything is keyed so that duplicate or late deliveries change nothing: the item is always read
fresh, and tasks are created once per (item, stage entry, template).
"""

from __future__ import annotations

import logging
from typing import Any

from b24app.stages import creation, items, repo, sla, userfields
from b24app.stages.model import sla_config, stages_config
from b24app.stages.tasks import close_tasks, item_lease
from b24app.store import installations

log = logging.getLogger("b24app.stages")

FIRST_SIGHT_GRACE_S = 120.0


def entity_of_event(name: str) -> str | None:
    name = name.upper()
    if name.startswith("ONCRMDEAL"):
        return "deal"
    if name.startswith("ONCRMLEAD"):
        return "lead"
    return None


def on_crm_event(ctx: Any, event: dict[str, Any]) -> dict[str, Any]:
    entity = entity_of_event(str(event.get("event", "")))
    fields = (event.get("data") or {}).get("FIELDS") or {}
    raw_id = fields.get("ID") if isinstance(fields, dict) else None
    if entity is None or not str(raw_id or "").isdigit():
        return {"skipped": "not a lead or deal event"}
    settings = ctx.settings()
    cfg = stages_config(settings)
    sla_cfg = sla_config(settings)
    wants_tasks = cfg.enabled and cfg.detect_changes and entity in cfg.entities()
    wants_sla = entity in sla_cfg.entities() or (sla_cfg.enabled and userfields.exists(ctx, entity, sla_cfg.flag_field))
    if not (wants_tasks or wants_sla):
        return {"skipped": f"nothing configured for {entity}s"}
    item_id = int(str(raw_id))
    item = items.fetch(ctx.client, entity, item_id)
    if item is None:
        repo.drop_sla(ctx.db, ctx.member_id, entity, item_id)
        return {"skipped": "item deleted"}
    return process_item(ctx, settings, entity, item, is_new=str(event.get("event", "")).upper().endswith("ADD"),
                        tasks_on=wants_tasks, sla_on=wants_sla)


def process_item(ctx: Any, settings: dict[str, Any], entity: str, item: dict[str, Any], *, is_new: bool,
                 tasks_on: bool = True, sla_on: bool = True) -> dict[str, Any]:
    """Compare the fresh item with the last seen stage and act (see the module docstring)."""
    cfg = stages_config(settings)
    item_id = int(item["ID"])
    stage, entry = items.stage_of(entity, item), items.entry_token(item)
    category = items.category_id(entity, item)
    out: dict[str, Any] = {"entity": entity, "id": item_id, "stage": stage, "created": [], "closed": []}
    with item_lease(ctx, entity, item_id):
        seen = repo.get_seen(ctx.db, ctx.member_id, entity, item_id)
        orgs = creation.OrgSource(ctx)
        if seen is None:
            out["change"] = "first_sight"
            entered = items.entered_at(item)
            inst = installations.get(ctx.db, ctx.member_id)
            after_install = bool(entered and inst and entered.timestamp() >= inst.installed_at - FIRST_SIGHT_GRACE_S)
            if tasks_on and (is_new or after_install):
                if is_new:  # created and moved on before this event was handled: the stages it passed
                    for passed, passed_entry in items.visited_between(
                            ctx.client, entity, item_id, "", str(item.get("DATE_CREATE") or ""), stage, entry):
                        out["created"] += _create_passed(ctx, settings, cfg, entity, item, passed, passed_entry,
                                                         orgs)
                out["created"] += _create(ctx, settings, cfg, entity, item, stage, entry, orgs)
        elif (seen.stage_id, seen.entry) != (stage, entry):
            out["change"] = f"{seen.stage_id} -> {stage}"
            old_rule = cfg.rule(entity, seen.stage_id)
            if old_rule is not None and old_rule.close_on_leave:
                left = repo.tasks_of_entry(ctx.db, ctx.member_id, entity, item_id, seen.stage_id, seen.entry)
                out["closed"] = close_tasks(ctx, left)
            if tasks_on:
                if seen.category_id == category and seen.stage_id != stage and _skips_wanted(cfg, entity, category):
                    stages = items.funnel(ctx.client, ctx.member_id, entity, category)
                    for skipped in items.skipped_between(stages, seen.stage_id, stage):
                        rule = cfg.rule(entity, skipped)
                        if rule is not None and rule.tasks and cfg.creates_skipped(rule):
                            out["created"] += _create(ctx, settings, cfg, entity, item, skipped, f"skip:{entry}", orgs)
                for passed, passed_entry in items.visited_between(ctx.client, entity, item_id, seen.stage_id,
                                                                  seen.entry, stage, entry):
                    out["created"] += _create_passed(ctx, settings, cfg, entity, item, passed, passed_entry, orgs)
                out["created"] += _create(ctx, settings, cfg, entity, item, stage, entry, orgs)
        else:
            watched = sla.watched_values(sla_config(settings), entity, item)
            out["change"] = "dates" if watched and watched != seen.watched else "none"
        if sla_on:
            st = sla.new_state(ctx, settings)
            st.orgs = orgs
            row = sla.evaluate(st, entity, item)
            st.outbox.flush()
            out["overdue"] = bool(row.get("overdue"))
        repo.put_seen(ctx.db, ctx.member_id, repo.Seen(
            entity, item_id, category, stage, entry,
            (items.entered_at(item).timestamp() if items.entered_at(item) else None), items.assigned(item),
            sla.watched_values(sla_config(settings), entity, item)))
    return out


def _skips_wanted(cfg: Any, entity: str, category: int) -> bool:
    return any(r.tasks and cfg.creates_skipped(r) and r.category == category
               for (e, _s), r in cfg.rules.items() if e == entity)


def _create(ctx: Any, settings: dict[str, Any], cfg: Any, entity: str, item: dict[str, Any], stage: str, entry: str,
            orgs: creation.OrgSource) -> list[int]:
    rule = cfg.rule(entity, stage)
    if rule is None or not rule.tasks:
        return []
    made = creation.create_for_entry(ctx, settings, rule, entity, item, stage, entry, orgs=orgs)
    return [c.task_id for c in made]


def _create_passed(ctx: Any, settings: dict[str, Any], cfg: Any, entity: str, item: dict[str, Any], stage: str,
                   entry: str, orgs: creation.OrgSource) -> list[int]:
    """The tasks of a stage the item passed through (entered and left before we looked): created as
    they would have been at the entry, and closed at once when the stage closes its tasks on leave."""
    made = _create(ctx, settings, cfg, entity, item, stage, entry, orgs)
    rule = cfg.rule(entity, stage)
    if made and rule is not None and rule.close_on_leave:
        close_tasks(ctx, repo.tasks_of_entry(ctx.db, ctx.member_id, entity, int(item["ID"]), stage, entry))
    return made
