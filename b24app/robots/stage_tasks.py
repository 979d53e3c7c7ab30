"""Robot "Создать задачи стадии": creates the tasks of the stage's templates (settings section "stages")
for the CRM item the robot runs on.

Without the ``stage`` property the item's current stage is used and the tasks belong to its current
stage entry (the item's ``MOVED_TIME``): the same effect keys as the event path and ``stages apply``,
so a robot placed on a stage together with the automatic detection never doubles a task, and a repeated
robot call neither. With another ``stage`` the tasks belong to this robot run. Returns the task ids.
"""

from __future__ import annotations

from typing import Any

from b24app.errors import DataError
from b24app.jobs.context import JobContext
from b24app.robots.base import Prop, Robot, RobotCallData
from b24app.stages import creation, items
from b24app.stages.model import stages_config
from b24app.stages.tasks import item_lease


def run(ctx: JobContext, call: RobotCallData) -> dict[str, Any]:
    entity = call.entity_type
    if entity not in items.ENTITIES:
        raise DataError(f"stage tasks work with leads and deals, not {entity}")
    item = items.fetch(ctx.client, entity, call.entity_id)
    if item is None:
        raise DataError(f"{entity} {call.entity_id} not found")
    settings = ctx.settings()
    current = items.stage_of(entity, item)
    stage = str(call.properties.get("stage") or "").strip() or current
    rule = stages_config(settings).rule(entity, stage)
    if rule is None or not rule.tasks:
        raise DataError(f"no task templates for stage {stage} ({entity}) in the settings section 'stages'")
    only = {s.strip() for s in str(call.properties.get("templates") or "").split(",") if s.strip()} or None
    if only is not None and not only & {t.id for t in rule.tasks}:
        raise DataError(f"stage {stage} has no templates {', '.join(sorted(only))}")
    entry = items.entry_token(item) if stage == current else f"robot:{call.event_token}"
    with item_lease(ctx, entity, call.entity_id):
        made = creation.create_for_entry(ctx, settings, rule, entity, item, stage, entry, only=only)
    ids = [m.task_id for m in made]
    return {"task_ids": ",".join(str(i) for i in ids), "created": len(ids)}


ROBOT = Robot(
    code="b24app_stage_tasks",
    name_key="robot.stage_tasks.name",
    description_key="robot.stage_tasks.description",
    run=run,
    properties=(
        Prop("stage", "string", "robot.stage_tasks.prop.stage"),
        Prop("templates", "string", "robot.stage_tasks.prop.templates"),
    ),
    return_properties=(
        Prop("task_ids", "string", "robot.stage_tasks.ret.task_ids"),
        Prop("created", "int", "robot.stage_tasks.ret.created"),
    ),
    documents=("lead", "deal"),
    summary_key="robot.stage_tasks.summary",
)
