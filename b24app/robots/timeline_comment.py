"""Robot "Записать комментарий в таймлайн": a templated comment on the CRM item's timeline.

Placeholders ``{FIELD}`` take the item's fields (``{TITLE}``, ``{OPPORTUNITY}``, ``{UF_CRM_...}``),
``{ID}`` and ``{LINK}``; an unknown placeholder stays as written. Returns the comment id.
"""

from __future__ import annotations

from typing import Any

from b24app.jobs.context import JobContext
from b24app.portal.placeholders import item_link, render
from b24app.robots.base import Prop, Robot, RobotCallData
from b24app.store import effects


def run(ctx: JobContext, call: RobotCallData) -> dict[str, Any]:
    client = ctx.client
    item = client.call(f"crm.{call.entity_type}.get", {"id": call.entity_id}) or {}
    fields = {**item, "ID": call.entity_id, "LINK": item_link(client.client_endpoint, call.entity_type,
                                                              call.entity_id)}
    text = render(call.properties["text"], fields)
    key = f"robot:timeline_comment:{call.event_token}"

    def create() -> int:
        return int(client.call("crm.timeline.comment.add", {"fields": {
            "ENTITY_ID": call.entity_id, "ENTITY_TYPE": call.entity_type, "COMMENT": text,
        }}))

    def find() -> int | None:
        rows = client.call("crm.timeline.comment.list", {
            "filter": {"ENTITY_ID": call.entity_id, "ENTITY_TYPE": call.entity_type},
            "order": {"ID": "DESC"},
        }) or []
        for row in rows:
            if row.get("COMMENT") == text:
                return int(row["ID"])
        return None

    comment_id = effects.ensure(ctx.db, ctx.member_id, key, create, find)
    return {"comment_id": comment_id}


ROBOT = Robot(
    code="b24app_timeline_comment",
    name_key="robot.timeline_comment.name",
    description_key="robot.timeline_comment.description",
    run=run,
    properties=(Prop("text", "text", "robot.timeline_comment.prop.text", required=True),),
    return_properties=(Prop("comment_id", "int", "robot.timeline_comment.ret.comment_id"),),
    documents=("lead", "deal", "contact", "company"),
    summary_key="robot.timeline_comment.summary",
)
