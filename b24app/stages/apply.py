"""``b24app stages apply``: bring items already sitting in a stage up to date ("robots are not
retroactive"). Every item in a stage with templates gets the tasks of its current stage entry, unless
they exist already (the same effect keys as the event path and the robot: running it twice, or after
the events, creates nothing). Items are read with ``iter_pages`` (about 2,500 per request); the tasks of
up to 2,500 items are created together, 50 commands per request (b24app.stages.bulk)."""

from __future__ import annotations

from typing import Any

from b24app.stages import bulk, creation, items, repo
from b24app.stages.model import sla_config, stages_config
from b24app.stages.sla import watched_values
from b24app.store import effects


def _pending(ctx: Any, entity: str, item: dict[str, Any], stage: str, entry: str, rule: Any) -> int:
    count = 0
    for tpl in rule.tasks:
        key = f"stages:task:{entity}:{int(item['ID'])}:{stage}:{entry}:{tpl.id}"
        state = effects.get(ctx.db, ctx.member_id, key)
        if not (state and state[0] == effects.DONE):
            count += 1
    return count


# items whose tasks are sent together (about one page of ``iter_pages``): the names their titles need
# are read once per buffer, and the last request of a buffer is the only half-filled one
BUFFER = 2500

Todo = tuple[dict[str, Any], str, str, Any, list[Any]]  # item, stage, entry, rule, templates still to do


def apply_existing(ctx: Any, *, entity: str | None = None, stage: str | None = None,
                   dry_run: bool = False) -> dict[str, Any]:
    settings = ctx.settings()
    cfg = stages_config(settings)
    rules = [r for r in cfg.rules.values() if r.tasks and (entity is None or r.entity == entity)
             and (stage is None or r.stage == stage)]
    report: dict[str, Any] = {"items": 0, "created": 0, "existing": 0, "would_create": 0, "by_stage": {}}
    orgs = creation.OrgSource(ctx)
    for ent in sorted({r.entity for r in rules}):
        meta = items.meta(ent)
        stages = [r.stage for r in rules if r.entity == ent]
        todo: list[Todo] = []
        for page in ctx.client.iter_pages(f"{meta.api}.list", {"filter": {f"@{meta.stage_field}": stages},
                                                              "select": ["*", "UF_*"]}):
            for item in page:
                current = items.stage_of(ent, item)
                rule = cfg.rule(ent, current)
                if rule is None:
                    continue
                entry = items.entry_token(item)
                report["items"] += 1
                per = report["by_stage"].setdefault(f"{ent}:{current}", {"items": 0, "created": 0, "existing": 0})
                per["items"] += 1
                if dry_run:
                    report["would_create"] += _pending(ctx, ent, item, current, entry, rule)
                    continue
                existing, pending = creation.split_done(ctx, rule, ent, item, current, entry)
                report["existing"] += len(existing)
                per["existing"] += len(existing)
                todo.append((item, current, entry, rule, pending))
            if len(todo) >= BUFFER:
                _send(ctx, settings, ent, todo, orgs, report)
                todo = []
            ctx.extend_lease(1800)
        if todo:
            _send(ctx, settings, ent, todo, orgs, report)
    return report


def _send(ctx: Any, settings: dict[str, Any], ent: str, todo: list[Todo], orgs: creation.OrgSource,
          report: dict[str, Any]) -> None:
    """The tasks of the buffered items: the names their titles need read at once, then every task
    50 commands a request (b24app.stages.bulk); the items are remembered as seen."""
    wanted = bulk.wanted_names([tpl for *_, pending in todo for tpl in pending])
    names = bulk.related_many(ctx.client, [t[0] for t in todo if t[4]], wanted) if wanted else {}
    specs = [spec for item, current, entry, _rule, pending in todo if pending
             for spec in creation.build_specs(ctx, settings, ent, item, current, entry, pending, orgs,
                                              related=names.get(int(item["ID"]), {}))]
    made = bulk.ensure_tasks(ctx, specs, creation.lang_of(settings))
    for spec in specs:
        new = made[spec.key][1]
        report["created" if new else "existing"] += 1
        report["by_stage"][f"{ent}:{spec.stage_id}"]["created" if new else "existing"] += 1
    sla_cfg = sla_config(settings)
    for item, current, entry, _rule, _pending in todo:
        if repo.get_seen(ctx.db, ctx.member_id, ent, int(item["ID"])) is None:
            entered = items.entered_at(item)
            repo.put_seen(ctx.db, ctx.member_id, repo.Seen(
                ent, int(item["ID"]), items.category_id(ent, item), current, entry,
                entered.timestamp() if entered else None, items.assigned(item),
                watched_values(sla_cfg, ent, item)))
