"""Runs robot jobs and answers the workflow.

A robot job runs the robot (idempotent by its effect keys), then enqueues ``robot.answer``
(deduplicated by the event token) that sends ``bizproc.event.send``. A robot that fails for good
is answered too, with ``ok=N``, the error text and a readable log message, so no workflow waits
forever.
"""

from __future__ import annotations

from typing import Any

from b24app.context import Services
from b24app.errors import DataError, Rule
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job
from b24app.messages import t
from b24app.robots.base import RobotCallData
from b24app.robots.registry import robots
from b24app.store import jobs as jobs_repo
from b24app.store.jobs import Job


def call_data(payload: dict[str, Any], robot_props: dict[str, Any]) -> RobotCallData:
    return RobotCallData(
        code=payload["code"],
        entity_type=payload["entity_type"],
        entity_id=int(payload["entity_id"]),
        properties=robot_props,
        event_token=payload["event_token"],
        workflow_id=payload["workflow_id"],
        user_id=payload.get("user_id"),
        lang=payload.get("lang", "ru"),
    )


@job("robot", max_attempts=6, robot=True)
def run_robot(ctx: JobContext) -> dict[str, Any]:
    payload = ctx.payload
    robot = robots().get(payload["code"])
    if robot is None:
        raise DataError(f"unknown robot {payload['code']!r}")
    lang = payload.get("lang", "ru")
    if payload["entity_type"] not in robot.documents:
        raise DataError(t("error.unsupported_document", lang, document=payload["document_id"]))
    props = robot.parse_properties(payload.get("properties", {}), lang)
    values = robot.run(ctx, call_data(payload, props)) or {}
    values = {**values, "ok": True, "error": ""}
    summary = t(robot.summary_key, lang, **values) if robot.summary_key else ""
    if payload.get("use_subscription", True):
        ctx.enqueue("robot.answer", {
            "event_token": payload["event_token"],
            "return_values": values,
            "log_message": t("robot.ok.log", lang, summary=summary) if summary else "",
        }, dedupe_key=f"answer:{ctx.member_id}:{payload['event_token']}", priority=10)
    return values


@job("robot.answer", max_attempts=12)
def answer(ctx: JobContext) -> bool:
    p = ctx.payload
    params: dict[str, Any] = {"EVENT_TOKEN": p["event_token"], "RETURN_VALUES": p.get("return_values", {})}
    if p.get("log_message"):
        params["LOG_MESSAGE"] = p["log_message"]
    return bool(ctx.client.call("bizproc.event.send", params))


def answer_failure(services: Services, job: Job, error: str, rule: Rule) -> None:
    """The robot job is dead: tell the workflow (ok=N, error, log message)."""
    payload = job.payload
    if not payload.get("use_subscription", True) or not job.member_id:
        return
    lang = payload.get("lang", "ru")
    jobs_repo.enqueue(services.db, "robot.answer", {
        "event_token": payload["event_token"],
        "return_values": {"ok": False, "error": error[:900]},
        "log_message": t("robot.error.log", lang, error=error[:900]),
    }, member_id=job.member_id, dedupe_key=f"answer:{job.member_id}:{payload['event_token']}", priority=10)
