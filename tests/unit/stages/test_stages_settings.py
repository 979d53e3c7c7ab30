"""The "stages" and "sla" settings sections: validation with exact paths, normalization of short
forms, and the МеталПром demo values built from the seed portal's facts."""

from __future__ import annotations

from functools import cache
from typing import Any

from b24app.settings import document
from b24app.settings.schema import validate
from b24app.stages.demo import sla_demo, stages_demo
from b24app.stages.model import sla_config, stages_config
from b24app.stages.settings_schema import SLA, STAGES, category_of
from b24sandbox.seed import metalprom


@cache
def facts() -> dict[str, Any]:
    data = metalprom.build(1)
    by_entity: dict[str, list[dict[str, Any]]] = {}
    for s in data["statuses"]:
        by_entity.setdefault(s["ENTITY_ID"], []).append(s)
    return {"users": [u for u in data["users"] if u.get("ACTIVE", True)], "departments": data["departments"],
            "statuses": by_entity, "admin_user_id": 1}


def issues_of(node, value) -> dict[str, str]:
    _, issues = validate(node, value, "x")
    return {i.path: i.ru for i in issues}


def test_demo_sections_validate_and_say_what_the_issue_asks() -> None:
    f = facts()
    doc = {"stages": stages_demo(f), "sla": sla_demo(f)}
    normalized, issues = document.check(doc)
    assert not issues, [i.text() for i in issues]
    cfg = stages_config(normalized)
    approval = cfg.rule("deal", "UC_APPROVAL")
    assert approval and approval.tasks[0].responsible == {"type": "user", "user_id": 2}  # head of sales
    assert approval.tasks[0].approval and approval.on_approved == "next" and approval.on_rejected == "PREPARATION"
    contract = cfg.rule("deal", "UC_CONTRACT")
    assert contract and contract.tasks[0].responsible == {"type": "user", "user_id": 6}  # the lawyer
    assert len(contract.tasks[0].checklist) == 4 and cfg.creates_skipped(contract)
    call = cfg.rule("deal", "UC_AWAIT_PAYMENT")
    assert call and call.tasks[0].responsible == {"type": "assignee"} and call.tasks[0].deadline == {"working_days": 3}
    sla = sla_config(normalized)
    assert sla.limit("deal", "UC_APPROVAL") and sla.limit("lead", "NEW")
    assert [s.days for s in sla.payments.steps] == [3, 10, 20, 30]
    assert sla.payments.claim_stage == "C2:NEW" and sla.payments.lawyer_id == 6
    assert [s.action for s in sla.limit("deal", "UC_APPROVAL").escalation] == [
        "notify_assignee", "notify_head", "task_for_head"]


def test_short_forms_of_recipients_are_normalized() -> None:
    value, issues = validate(STAGES, {"rules": [{"stage": "NEW", "tasks": [{
        "id": "t1", "title": "x", "responsible": "head", "accomplices": [5, "assignee"],
        "auditors": [{"type": "department", "department_id": 4}]}]}]})
    assert not issues
    tpl = value["rules"][0]["tasks"][0]
    assert tpl["responsible"] == {"type": "head"}
    assert tpl["accomplices"] == [{"type": "user", "user_id": 5}, {"type": "assignee"}]
    assert tpl["auditors"] == [{"type": "department", "department_id": 4}]
    assert tpl["priority"] == "normal" and tpl["deadline"] == {} and tpl["checklist"] == []


def test_stage_ids_are_checked_for_shape_and_funnel() -> None:
    got = issues_of(STAGES, {"rules": [
        {"entity": "lead", "stage": "C1:NEW", "tasks": []},
        {"entity": "deal", "stage": "uc approval", "tasks": []},
        {"entity": "deal", "stage": "C1:NEW", "on_approved": "C2:NEW",
         "tasks": [{"id": "a", "title": "x", "approval": True}]},
    ]})
    assert "x.rules[0].stage" in got and "x.rules[1].stage" in got
    assert got["x.rules[2].on_approved"] == "стадия из другой воронки"
    assert category_of("C2:NEW") == 2 and category_of("NEW") == 0


def test_moves_need_an_approval_task_and_recipients_must_be_known() -> None:
    got = issues_of(STAGES, {"rules": [
        {"stage": "UC_APPROVAL", "on_approved": "next", "tasks": [{"id": "a", "title": "x"}]},
        {"stage": "UC_CONTRACT", "tasks": [{"id": "b", "title": "x", "responsible": "boss"}]},
        {"stage": "UC_DOCS", "tasks": [{"id": "c", "title": "x", "responsible": {"type": "user"},
                                        "deadline": {"working_days": 1, "working_hours": 2}}]},
    ]})
    assert "x.rules[0].tasks" in got
    assert "x.rules[1].tasks[0].responsible" in got
    assert "x.rules[2].tasks[0].responsible.user_id" in got
    assert "x.rules[2].tasks[0].deadline" in got


def test_duplicates_are_reported_where_they_are() -> None:
    got = issues_of(STAGES, {"rules": [
        {"stage": "NEW", "tasks": [{"id": "same", "title": "x"}]},
        {"stage": "NEW", "tasks": [{"id": "same", "title": "y"}]},
    ]})
    assert "x.rules[1].stage" in got and "x.rules[1].tasks[0].id" in got


def test_sla_limits_and_payment_steps_are_validated() -> None:
    got = issues_of(SLA, {
        "limits": [{"stage": "NEW"}, {"stage": "PREPARATION", "working_hours": 2, "working_days": 1},
                   {"stage": "UC_DOCS", "date_field": "ship date"},
                   {"stage": "UC_X", "working_hours": 1,
                    "escalation": [{"after_hours": 4, "action": "notify_head"},
                                   {"after_hours": 1, "action": "notify_assignee"}]}],
        "payments": {"enabled": True, "steps": [{"days": 10, "action": "lawyer_task"},
                                                {"days": 20, "action": "move_to_claim"},
                                                {"days": 30, "action": "move_to_claim"}]},
    })
    assert "x.limits[0]" in got and "x.limits[1]" in got and "x.limits[2].date_field" in got
    assert "x.limits[3].escalation[1].after_hours" in got
    assert {"x.payments.steps", "x.payments.lawyer_id", "x.payments.claim_stage", "x.payments.stages"} <= set(got)


def test_defaults_are_quiet() -> None:
    doc = document.defaults()
    assert stages_config(doc).rules == {}
    sla = sla_config(doc)
    assert sla.limits == {} and not sla.payments.enabled and not sla.digest.enabled
    assert sla.flag_field == "UF_CRM_B24APP_OVERDUE"
