"""``b24app stages apply`` brings the МеталПром deals already sitting in a stage up to date, once; the
daily digest reaches the head of sales at the end of the working day with the team's overdue stages,
stuck leads and tasks due, once per day and never on a day off."""

from __future__ import annotations

import json

from click.testing import CliRunner

from b24app.cli import main
from b24app.stages.plugin import enqueue_digests
from b24app.store import jobs as jobs_repo
from tests.scenarios.stages.conftest import msk

HEAD_OF_SALES, LAWYER, PETROV = 2, 6, 4


def cli(stage, *args: str) -> dict:
    result = CliRunner().invoke(main, ["stages", *args, "--portal", stage.member_id, "--json"], env=stage.app.env())
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_apply_creates_the_tasks_of_deals_already_in_a_stage_once(stage) -> None:
    sitting = {s: [int(d["ID"]) for d in stage.rest("crm.deal.list", {"filter": {"STAGE_ID": s}, "select": ["ID"]})]
               for s in ("UC_APPROVAL", "UC_CONTRACT", "UC_AWAIT_PAYMENT")}
    expected = sum(len(v) for v in sitting.values())
    assert expected >= 10 and all(sitting.values())  # the seed has deals in every stage
    dry = cli(stage, "apply", "--dry-run")
    assert dry["would_create"] == expected and dry["created"] == 0
    assert all(stage.tasks(d) == [] for d in sitting["UC_APPROVAL"])

    first = cli(stage, "apply")
    assert first["created"] == expected and first["existing"] == 0
    assert first["by_stage"]["deal:UC_AWAIT_PAYMENT"]["items"] == len(sitting["UC_AWAIT_PAYMENT"])
    for d in sitting["UC_APPROVAL"]:
        (task,) = stage.tasks(d)
        assert task["responsibleId"] == str(HEAD_OF_SALES) and task["title"].startswith("Согласовать счёт")
    for d in sitting["UC_CONTRACT"]:
        (task,) = stage.tasks(d)
        assert task["responsibleId"] == str(LAWYER) and len(stage.checklist(int(task["id"]))) == 4
    for d in sitting["UC_AWAIT_PAYMENT"]:
        deal = stage.deal(d)
        (task,) = stage.tasks(d)
        assert task["responsibleId"] == str(deal["ASSIGNED_BY_ID"])

    again = cli(stage, "apply")
    assert again["created"] == 0 and again["existing"] == expected
    # and a later event about one of them changes nothing either
    d = sitting["UC_APPROVAL"][0]
    stage.at(msk(2026, 10, 30, 15, 30))
    stage.sandbox.control("POST", f"/portals/{stage.member_id}/fire-event",
                          {"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": str(d)}}})
    stage.settle()
    assert len(stage.tasks(d)) == 1
    assert stage.dead() == []


def test_the_daily_digest_reaches_the_head_at_the_end_of_the_working_day(stage) -> None:
    doc = stage.settings()
    doc["sla"]["limits"] = [{"entity": "deal", "stage": "UC_APPROVAL", "working_hours": 4}]
    doc["sla"]["digest"] = {"enabled": True, "heads": [], "stuck_lead_days": 2}
    stage.save_settings(doc)
    stage.at(msk(2026, 11, 2, 12, 0))
    stage.rest("tasks.task.add", {"fields": {"TITLE": "Выставить счёт ООО «Уралстрой»", "RESPONSIBLE_ID": PETROV,
                                             "DEADLINE": "2026-11-02T17:00:00+03:00"}})
    stage.enqueue("stages.sla_scan")  # the seed's old approvals are late
    stage.settle()
    assert cli(stage, "overdue")

    enqueue_digests(stage.app.services)
    (job,) = jobs_repo.list_jobs(stage.app.db, kind="stages.digest", member_id=stage.member_id)
    assert job.run_at == msk(2026, 11, 2, 18, 0).timestamp() and job.payload == {"date": "2026-11-02"}
    stage.settle(max_shift_s=7 * 3600)  # the job waits for 18:00
    digests = [n for n in stage.notes(HEAD_OF_SALES) if "Итоги дня 02.11.2026" in n["message"]]
    assert len(digests) == 1
    text = digests[0]["message"]
    for part in ("Просроченные стадии", "Зависшие лиды", "Задачи со сроком на сегодня",
                 "Выставить счёт ООО «Уралстрой»", "Согласование счета"):
        assert part in text, part

    stage.at(msk(2026, 11, 2, 18, 30))
    enqueue_digests(stage.app.services)  # the scheduler ticks again: still one digest for the day
    stage.settle()
    assert len([n for n in stage.notes(HEAD_OF_SALES) if "Итоги дня 02.11.2026" in n["message"]]) == 1
    stage.at(msk(2026, 11, 7, 17, 0))  # Saturday: no digest
    enqueue_digests(stage.app.services)
    assert len(jobs_repo.list_jobs(stage.app.db, kind="stages.digest", member_id=stage.member_id)) == 1
    assert stage.dead() == []
