"""Robot «Сформировать договор»: number the deal's contract by type and legal entity, make the document,
store it on Disk, write number/date/type into the deal, comment in the timeline.

Properties: contract type (the six stable codes), template override (a template code of the settings),
output format (docx, or pdf as well when LibreOffice is installed). Returns the number, the date
(dd.mm.yyyy), the document link and the Disk file id. A retried or repeated call for the same deal and
type returns the same contract (b24app.contracts.service.issue_contract); missing requisites fail the
robot with a text naming each missing field, so the workflow log says what to fill in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from b24app.contracts.service import issue_contract
from b24app.contracts.types import BUILTIN_CODES
from b24app.jobs.context import JobContext
from b24app.robots.base import Prop, Robot, RobotCallData


def run(ctx: JobContext, call: RobotCallData) -> dict[str, Any]:
    props = call.properties
    res = issue_contract(
        ctx,
        call.entity_id,
        props["contract_type"],
        template=props.get("template") or None,
        output=props.get("output_format") or "docx",
        idempotency_key=f"robot:{call.event_token}",
        created_by=f"robot (user {call.user_id})" if call.user_id else "robot",
    )
    return {
        "number": res["number"],
        "date": dt.date.fromisoformat(res["date"]).strftime("%d.%m.%Y"),
        "document_url": res["document_url"],
        "file_id": res["file_id"],
    }


ROBOT = Robot(
    code="b24app_make_contract",
    name_key="robot.make_contract.name",
    description_key="robot.make_contract.description",
    run=run,
    properties=(
        Prop(
            "contract_type",
            "select",
            "robot.make_contract.prop.contract_type",
            required=True,
            default="prepayment",
            options={code: f"contracts.type.{code}" for code in BUILTIN_CODES},
        ),
        Prop("template", "string", "robot.make_contract.prop.template"),
        Prop(
            "output_format",
            "select",
            "robot.make_contract.prop.output_format",
            default="docx",
            options={"docx": "contracts.output.docx", "pdf": "contracts.output.pdf"},
        ),
    ),
    return_properties=(
        Prop("number", "string", "robot.make_contract.ret.number"),
        Prop("date", "date", "robot.make_contract.ret.date"),
        Prop("document_url", "string", "robot.make_contract.ret.document_url"),
        Prop("file_id", "int", "robot.make_contract.ret.file_id"),
    ),
    documents=("deal",),
    summary_key="robot.make_contract.summary",
)
