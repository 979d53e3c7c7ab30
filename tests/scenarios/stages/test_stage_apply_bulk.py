"""``stages apply`` over many deals: the tasks of a page travel 50 commands per request (a task with its
checklist items in the same request), and a request whose answer is lost after the portal committed it
makes no second task when the run is repeated."""

from __future__ import annotations

import math
from typing import Any

import pytest

from b24app.errors import TransportError
from b24app.jobs.context import JobContext
from b24app.stages import apply
from tests.scenarios.stages.conftest import Stage

LAWYER = 6
NEW_DEALS = 40
CHECKLIST = 4  # the demo's UC_CONTRACT template has four checklist items


def app_requests(stage: Stage, since: int) -> list[dict[str, Any]]:
    log = stage.sandbox.control("GET", f"/portals/{stage.member_id}/requests?since={since}")
    return [r for r in log if r.get("auth_kind") != "webhook"]


def last_request(stage: Stage) -> int:
    return max((int(r["id"]) for r in stage.sandbox.control("GET", f"/portals/{stage.member_id}/requests")),
               default=0)


def contract_deals(stage: Stage) -> list[int]:
    rows = stage.rest("crm.deal.list", {"filter": {"STAGE_ID": "UC_CONTRACT"}, "select": ["ID"]})
    more = stage.rest("crm.deal.list", {"filter": {"STAGE_ID": "UC_CONTRACT"}, "select": ["ID"], "start": 50})
    return sorted({int(d["ID"]) for d in rows + more})


def test_a_page_of_tasks_goes_fifty_commands_a_request(stage: Stage) -> None:
    for i in range(NEW_DEALS):
        stage.new_deal(f"Арматура А500С, партия {i + 1}", 4, "UC_CONTRACT", COMPANY_ID=1)
    deals = contract_deals(stage)
    assert len(deals) >= NEW_DEALS
    since = last_request(stage)
    report = apply.apply_existing(JobContext.for_portal(stage.app.services, stage.member_id), stage="UC_CONTRACT")
    assert report["created"] == len(deals) and report["existing"] == 0
    sent = app_requests(stage, since)
    writes = [r for r in sent if r["method"] == "batch" and "tasks.task.add" in str(r.get("params") or r)]
    commands = len(deals) * (1 + CHECKLIST)
    assert len(writes) == math.ceil(commands / 50), [r["method"] for r in sent]
    # everything else is the listing and the names and people the titles need, not one call per deal
    assert len(sent) <= math.ceil(commands / 50) + 8, [r["method"] for r in sent]
    for d in deals:
        (task,) = stage.tasks(d)
        assert task["responsibleId"] == str(LAWYER) and len(stage.checklist(int(task["id"]))) == CHECKLIST


def test_a_lost_answer_of_a_task_batch_makes_no_second_task(stage: Stage, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(12):
        stage.new_deal(f"Лист г/к, партия {i + 1}", 4, "UC_CONTRACT")
    deals = contract_deals(stage)
    ctx = JobContext.for_portal(stage.app.services, stage.member_id)
    real = type(ctx.client).batch
    lost: list[int] = []

    def commit_then_fail(self: Any, commands: Any, **kw: Any) -> Any:
        res = real(self, commands, **kw)
        if not lost and any(m == "tasks.task.add" for _k, m, _p in commands):
            lost.append(len(commands))
            raise TransportError("connection reset after the portal committed the batch")
        return res

    monkeypatch.setattr(type(ctx.client), "batch", commit_then_fail)
    with pytest.raises(TransportError):
        apply.apply_existing(ctx, stage="UC_CONTRACT")
    monkeypatch.undo()
    assert lost and all(len(stage.tasks(d)) <= 1 for d in deals)

    again = apply.apply_existing(JobContext.for_portal(stage.app.services, stage.member_id), stage="UC_CONTRACT")
    assert again["created"] + again["existing"] == len(deals)
    for d in deals:  # the committed ones were found by their markers, the rest created: one task each
        (task,) = stage.tasks(d)
        assert len(stage.checklist(int(task["id"]))) == CHECKLIST
    third = apply.apply_existing(JobContext.for_portal(stage.app.services, stage.member_id), stage="UC_CONTRACT")
    assert third["created"] == 0 and third["existing"] == len(deals)
