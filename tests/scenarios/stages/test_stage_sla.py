"""Stage deadlines against the sandbox with a frozen clock: the scan escalates step by step (the manager,
then the head, then a task for the head), sets the «Просрочено» field the app creates and clears it when
the deal moves on; a date-field limit is recalculated as soon as the date changes, and an empty date does
not hang anything."""

from __future__ import annotations

import json

from click.testing import CliRunner

from b24app.cli import main
from tests.scenarios.stages.conftest import msk

PETROV, HEAD_OF_SALES = 4, 2
FLAG = "UF_CRM_B24APP_OVERDUE"


def about(notes: list[dict], title: str) -> list[str]:
    return [n["message"] for n in notes if title in n["message"]]


def overdue_cli(stage, *args: str) -> list[dict]:
    result = CliRunner().invoke(main, ["stages", "overdue", "--portal", stage.member_id, "--json", *args],
                                env=stage.app.env())
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def scan(stage, at) -> dict:
    stage.at(at)
    stage.enqueue("stages.sla_scan")
    stage.settle()
    return stage.job_results("stages.sla_scan")[0]


def test_the_scan_escalates_step_by_step_and_the_flag_follows_the_deal(stage) -> None:
    doc = stage.settings()
    doc["sla"]["limits"] = [{"entity": "deal", "stage": "UC_APPROVAL", "working_hours": 4}]
    stage.save_settings(doc)
    title = "SLA: швеллер 16П, 8 т"
    stage.at(msk(2026, 11, 2, 9, 50))
    deal = stage.new_deal(title, PETROV, stage="PREPARATION")
    stage.settle()
    stage.move(deal, "UC_APPROVAL", at=msk(2026, 11, 2, 10, 0))  # limit: 10-13, 14-15 -> due 15:00

    scan(stage, msk(2026, 11, 2, 14, 0))
    assert about(stage.notes(PETROV), title) == []
    assert not [r for r in overdue_cli(stage) if r["id"] == deal]
    fields = {f["FIELD_NAME"] for f in stage.rest("crm.deal.userfield.list", {})}
    assert FLAG in fields  # created at first use (the seed's old deals in this stage are late already)
    assert str(stage.deal(deal).get(FLAG) or "0") in ("0", "", "None")

    scan(stage, msk(2026, 11, 2, 15, 30))  # step 1: the manager
    mine = about(stage.notes(PETROV), title)
    assert len(mine) == 1 and "Согласование счета" in mine[0] and "02.11.2026 15:00" in mine[0]
    assert str(stage.deal(deal)[FLAG]) == "1"
    listed = [r for r in overdue_cli(stage, "--manager", str(PETROV)) if r["id"] == deal]
    assert len(listed) == 1 and listed[0]["escalation_steps"] == 1 and listed[0]["flagged"]
    assert about(stage.notes(HEAD_OF_SALES), title) == []

    scan(stage, msk(2026, 11, 3, 9, 59))  # 3 h 59 min of working time after the limit: still step 1
    assert about(stage.notes(HEAD_OF_SALES), title) == []
    scan(stage, msk(2026, 11, 3, 10, 30))  # step 2: the head (4 working hours after the limit)
    head_notes = about(stage.notes(HEAD_OF_SALES), title)
    assert len(head_notes) == 1 and "Иван Петров" in head_notes[0]
    assert len(about(stage.notes(PETROV), title)) == 1  # step 1 is not repeated

    scan(stage, msk(2026, 11, 3, 15, 30))  # step 3: a task for the head (8 working hours)
    head_tasks = [t for t in stage.tasks(deal) if t["title"].startswith("Просрочена стадия")]
    assert len(head_tasks) == 1
    assert head_tasks[0]["responsibleId"] == str(HEAD_OF_SALES) and title in head_tasks[0]["title"]
    # 4 working hours: Tue 15:30-17:00 (a shortened day), Wed 4.11 a holiday, Thu 09:00-11:30
    assert head_tasks[0]["deadline"] == "2026-11-05T11:30:00+03:00"

    scan(stage, msk(2026, 11, 3, 15, 40))  # nothing happens twice
    assert len(about(stage.notes(PETROV), title)) == 1 and len(about(stage.notes(HEAD_OF_SALES), title)) == 1
    assert len([t for t in stage.tasks(deal) if t["title"].startswith("Просрочена стадия")]) == 1

    stage.move(deal, "UC_CONTRACT", at=msk(2026, 11, 3, 16, 0))  # leaving the stage clears the flag at once
    assert str(stage.deal(deal)[FLAG]) == "0"
    assert not [r for r in overdue_cli(stage) if r["id"] == deal]
    assert stage.dead() == []


def test_a_date_field_limit_is_recalculated_when_the_date_changes(stage) -> None:
    stage.rest("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "SHIP_DATE", "USER_TYPE_ID": "date",
                                                     "EDIT_FORM_LABEL": {"ru": "Дата отгрузки"}}})
    doc = stage.settings()
    doc["sla"]["limits"] = [{"entity": "deal", "stage": "UC_SHIPMENT", "date_field": "UF_CRM_SHIP_DATE",
                             "empty_date": "skip"}]
    stage.save_settings(doc)
    title = "Отгрузка по дате: уголок 50x5"
    stage.at(msk(2026, 11, 3, 11, 0))
    deal = stage.new_deal(title, PETROV, stage="UC_SHIPMENT")
    stage.settle()
    scan(stage, msk(2026, 11, 3, 11, 5))
    assert about(stage.notes(PETROV), title) == []  # no date: not watched, nothing hangs

    stage.at(msk(2026, 11, 3, 11, 10))
    stage.rest("crm.deal.update", {"id": deal, "fields": {"UF_CRM_SHIP_DATE": "2026-11-02"}})
    stage.settle()  # the update event recalculates at once: yesterday's date -> late now
    assert str(stage.deal(deal)[FLAG]) == "1"
    assert len(about(stage.notes(PETROV), title)) == 1

    stage.at(msk(2026, 11, 3, 11, 20))
    stage.rest("crm.deal.update", {"id": deal, "fields": {"UF_CRM_SHIP_DATE": "2026-11-10"}})
    stage.settle()
    assert str(stage.deal(deal)[FLAG]) == "0"
    assert not [r for r in overdue_cli(stage) if r["id"] == deal]
    row = stage.app.db.one("SELECT due_at FROM stages_sla WHERE member_id = ? AND item_id = ?",
                           (stage.member_id, deal))
    assert row is not None and row["due_at"] == msk(2026, 11, 11, 0, 0).timestamp()
    assert stage.dead() == []
