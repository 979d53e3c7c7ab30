"""Leads work like deals: a lead status with templates gets its task (bound to the lead, for each member
of a department when the template says so), and a lead over its status limit gets the «Просрочено» field
the app creates on leads, cleared when the lead moves on."""

from __future__ import annotations

from tests.scenarios.stages.conftest import msk

PETROV, HEAD_OF_SALES = 4, 2
FLAG = "UF_CRM_B24APP_OVERDUE"


def test_lead_tasks_and_lead_limits(stage) -> None:
    doc = stage.settings()
    doc["stages"]["rules"].append({"entity": "lead", "stage": "IN_PROCESS", "close_tasks_on_leave": True, "tasks": [
        {"id": "qualify", "title": "Квалифицировать лид «{TITLE}»", "responsible": "assignee",
         "deadline": {"working_hours": 2}, "auditors": ["head"]},
        {"id": "legal_check", "title": "Проверить контрагента: {TITLE}",
         "responsible": {"type": "department", "department_id": 4}},
    ]})
    doc["sla"]["limits"] = [{"entity": "lead", "stage": "NEW", "working_hours": 2}]
    stage.save_settings(doc)

    stage.at(msk(2026, 11, 2, 10, 0))
    lead = int(stage.rest("crm.lead.add", {"fields": {"TITLE": "Запрос на арматуру 40 т", "ASSIGNED_BY_ID": PETROV,
                                                      "STATUS_ID": "NEW"}}))
    stage.settle()
    stage.at(msk(2026, 11, 2, 12, 30))
    stage.enqueue("stages.sla_scan")
    stage.settle()
    fields = {f["FIELD_NAME"] for f in stage.rest("crm.lead.userfield.list", {})}
    assert FLAG in fields
    assert str(stage.rest("crm.lead.get", {"id": lead})[FLAG]) == "1"
    assert [n for n in stage.notes(PETROV) if "Запрос на арматуру 40 т" in n["message"] and "лиду" in n["message"]]

    stage.at(msk(2026, 11, 2, 13, 0))
    stage.rest("crm.lead.update", {"id": lead, "fields": {"STATUS_ID": "IN_PROCESS"}})
    stage.settle()
    assert str(stage.rest("crm.lead.get", {"id": lead})[FLAG]) == "0"
    tasks = stage.rest("tasks.task.list", {"filter": {"UF_CRM_TASK": f"L_{lead}"},
                                           "select": ["ID", "TITLE", "RESPONSIBLE_ID", "DEADLINE", "AUDITORS"]})["tasks"]
    by_title = {t["title"]: t for t in tasks}
    qualify = by_title["Квалифицировать лид «Запрос на арматуру 40 т»"]
    assert qualify["responsibleId"] == str(PETROV) and qualify["auditors"] == [str(HEAD_OF_SALES)]
    assert qualify["deadline"] == "2026-11-02T16:00:00+03:00"  # 13:00 is lunch: 14-16
    legal = by_title["Проверить контрагента: Запрос на арматуру 40 т"]
    assert legal["responsibleId"] == "6" and len(tasks) == 2  # the legal department has one member
    assert stage.dead() == []
