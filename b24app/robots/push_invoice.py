"""Robot "Выставить счет в 1С": issue the deal's invoice in the 1C base of its legal entity.

The work is b24app.sync_1c.push.push_deal: routing, counterparty by ИНН+КПП (created once),
contract, products, the invoice with an idempotency key, write-back to the deal and smart invoice.
A second run for the same deal returns the invoice already issued (no second invoice).
"""

from __future__ import annotations

from typing import Any

from b24app.jobs.context import JobContext
from b24app.robots.base import Prop, Robot, RobotCallData


def run(ctx: JobContext, call: RobotCallData) -> dict[str, Any]:
    from b24app.sync_1c.push import push_deal

    result = push_deal(ctx.services, ctx.member_id, call.entity_id)
    return {"number": result.number, "ref_key": result.ref_key, "base": result.base, "link": result.link}


ROBOT = Robot(
    code="b24app_push_invoice_1c",
    name_key="robot.push_invoice.name",
    description_key="robot.push_invoice.description",
    run=run,
    properties=(),
    return_properties=(
        Prop("number", "string", "robot.push_invoice.ret.number"),
        Prop("ref_key", "string", "robot.push_invoice.ret.ref_key"),
        Prop("base", "string", "robot.push_invoice.ret.base"),
        Prop("link", "string", "robot.push_invoice.ret.link"),
    ),
    documents=("deal",),
    summary_key="robot.push_invoice.summary",
)
