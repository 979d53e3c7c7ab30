"""Robot "Распределить лид": distributes the lead (or deal) by the distribution rules.

Properties: the rule set (a name from ``distribution.rule_sets``; empty = the main rules), a strategy
override, a pool override (a pool's name) or users instead of a pool. Returns the assigned user, the
rule and the reason. The decision is unique per item: when the ONCRMLEADADD event already distributed
the lead, the robot returns that decision instead of assigning again.
"""

from __future__ import annotations

from typing import Any

from b24app.errors import ConfigError
from b24app.jobs.context import JobContext
from b24app.leads import service
from b24app.robots.base import Prop, Robot, RobotCallData

STRATEGY_OPTIONS = {
    "round_robin": "leads.strategy.round_robin",
    "weighted": "leads.strategy.weighted",
    "least_loaded": "leads.strategy.least_loaded",
    "random": "leads.strategy.random",
}


def run(ctx: JobContext, call: RobotCallData) -> dict[str, Any]:
    props = call.properties
    portal = service.Portal.from_job(ctx)
    pool = (props.get("pool") or "").strip() or None
    if pool and pool not in (portal.dist.get("pools") or {}):
        raise ConfigError(f"distribution: no pool {pool!r} in the settings")
    users = [int(u) for u in props.get("users") or []]
    phase = "intake" if call.entity_type == "lead" else f"robot:{call.workflow_id or call.event_token}"
    d = service.distribute_one(portal, call.entity_type, call.entity_id, trigger="robot", phase=phase,
                               rule_set=(props.get("rule_set") or "").strip() or None,
                               strategy=(props.get("strategy") or "").strip() or None, pool=pool,
                               users=users or None)
    if d is None:
        raise ConfigError("distribution is switched off or has no rules (settings section 'distribution')")
    lang = call.lang
    reason = (d.explanation.get("summary") or {}).get(lang) or d.reason
    return {"assigned_user": f"user_{d.user_id}" if d.user_id else "", "rule": d.rule or "", "reason": reason[:900]}


ROBOT = Robot(
    code="b24app_distribute_lead",
    name_key="robot.distribute_lead.name",
    description_key="robot.distribute_lead.description",
    run=run,
    properties=(
        Prop("rule_set", "string", "robot.distribute_lead.prop.rule_set"),
        Prop("strategy", "select", "robot.distribute_lead.prop.strategy", options=STRATEGY_OPTIONS),
        Prop("pool", "string", "robot.distribute_lead.prop.pool"),
        Prop("users", "user", "robot.distribute_lead.prop.users", multiple=True),
    ),
    return_properties=(
        Prop("assigned_user", "user", "robot.distribute_lead.ret.assigned_user"),
        Prop("rule", "string", "robot.distribute_lead.ret.rule"),
        Prop("reason", "text", "robot.distribute_lead.ret.reason"),
    ),
    documents=("lead", "deal"),
    summary_key="robot.distribute_lead.summary",
)
