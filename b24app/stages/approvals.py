"""Approval tasks move their CRM item (``ONTASKUPDATE`` carries only the task id).

A stage rule with ``on_approved`` / ``on_rejected`` and templates marked ``approval: true``:

- **approved**: every approval task of the stage entry is completed (status 5; a deleted one no longer
  counts) -> the item moves to ``on_approved`` (``next`` = the next stage of the funnel, or a stage id);
- **rejected**: an approval task is *deferred* (status 6, «Отложена») or *returned for rework* by its
  controller (it was awaiting control, status 4, and went back to pending/in progress, 2/3: the
  "disapprove" action) -> the item moves to ``on_rejected`` (``previous`` or a stage id).

Nothing moves when the item has left that stage entry already (somebody moved it by hand). Each move
happens once per (item, stage entry, outcome). An update of a task that is not the app's costs no REST
call: the task id is looked up in the app's own table first.
"""

from __future__ import annotations

import logging
from typing import Any

from b24app.stages import items, repo
from b24app.stages.model import stages_config
from b24app.stages.tasks import AWAITING_CONTROL, COMPLETED, DEFERRED, item_lease, statuses
from b24app.store import effects

log = logging.getLogger("b24app.stages")


def is_rejection(previous: int, current: int) -> bool:
    """Deferred, or returned from "awaiting control" to work (see the module docstring)."""
    return current == DEFERRED or (previous == AWAITING_CONTROL and current in (2, 3))


def on_task_event(ctx: Any, event: dict[str, Any]) -> dict[str, Any]:
    after = (event.get("data") or {}).get("FIELDS_AFTER")
    raw = after.get("ID") if isinstance(after, dict) else None
    if not str(raw or "").isdigit():
        return {"skipped": "no task id"}
    task_id = int(str(raw))
    ours = repo.get_task(ctx.db, ctx.member_id, task_id)
    if ours is None:
        return {"skipped": "not a task of the app"}
    current = statuses(ctx.client, [task_id]).get(task_id)
    if current is None:
        repo.set_task_status(ctx.db, ctx.member_id, task_id, ours.status, closed=True)
        return {"task": task_id, "skipped": "task deleted"}
    previous = ours.status
    out: dict[str, Any] = {"task": task_id, "status": current, "previous": previous}
    rule = stages_config(ctx.settings()).rule(ours.entity, ours.stage_id) if ours.approval else None
    if rule is not None and is_rejection(previous, current) and rule.on_rejected:
        out["moved"] = move(ctx, ours, rule.on_rejected, "rejected")
    elif rule is not None and current == COMPLETED and rule.on_approved:
        mates = [x for x in repo.tasks_of_entry(ctx.db, ctx.member_id, ours.entity, ours.item_id, ours.stage_id,
                                                ours.entry) if x.approval]
        now = statuses(ctx.client, [x.task_id for x in mates if x.task_id != task_id])
        now[task_id] = current
        for x in mates:
            if x.task_id in now and x.task_id != task_id:
                repo.set_task_status(ctx.db, ctx.member_id, x.task_id, now[x.task_id],
                                     closed=now[x.task_id] == COMPLETED)
        if all(now[x.task_id] == COMPLETED for x in mates if x.task_id in now):
            out["moved"] = move(ctx, ours, rule.on_approved, "approved")
        else:
            out["waiting_for"] = [x.task_id for x in mates if now.get(x.task_id, COMPLETED) != COMPLETED]
    # the status is stored last: a retry after a failed move still sees the transition
    repo.set_task_status(ctx.db, ctx.member_id, task_id, current, closed=current == COMPLETED)
    return out


def move(ctx: Any, ours: repo.OurTask, target: str, outcome: str) -> str | None:
    """Move the task's item from its stage entry to ``target`` (once); None when it has left already."""
    entity = ours.entity
    with item_lease(ctx, entity, ours.item_id):
        item = items.fetch(ctx.client, entity, ours.item_id)
        if item is None or items.stage_of(entity, item) != ours.stage_id or items.entry_token(item) != ours.entry:
            log.info("item left the stage already; not moved", extra={"member_id": ctx.member_id,
                                                                       "entity": entity, "item_id": ours.item_id})
            return None
        if target in ("next", "previous"):
            stages = items.funnel(ctx.client, ctx.member_id, entity, items.category_id(entity, item))
            resolved = items.neighbour(stages, ours.stage_id, 1 if target == "next" else -1)
            if resolved is None:
                return None
            target = resolved
        key = f"stages:move:{entity}:{ours.item_id}:{ours.stage_id}:{ours.entry}:{outcome}"
        field = items.meta(entity).stage_field

        def do_move() -> str:
            ctx.client.call(f"{items.meta(entity).api}.update", {"id": ours.item_id, "fields": {field: target}})
            return target

        return str(effects.ensure(ctx.db, ctx.member_id, key, do_move))
