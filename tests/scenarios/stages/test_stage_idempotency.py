"""Nothing is created twice: the robot "Создать задачи стадии" together with the automatic detection,
an update event delivered again, ``stages apply`` after the fact, and a task whose creation answer was
lost (the portal committed it, the app saw a 500) are all one task per (deal, stage entry, template)."""

from __future__ import annotations

from click.testing import CliRunner

from b24app.cli import main
from b24app.store import effects
from b24app.store import jobs as jobs_repo
from tests.scenarios.stages.conftest import msk

PETROV = 4


def test_robot_event_redelivery_and_apply_give_one_task(stage) -> None:
    m = stage.member_id
    stage.sandbox.control("POST", f"/portals/{m}/automation", {
        "entity": "deal", "category_id": 0, "stage_id": "UC_AWAIT_PAYMENT", "robot_code": "b24app_stage_tasks",
        "properties": {}})
    deal = stage.new_deal("Крепёж, 2 паллеты", PETROV, stage="UC_DOCS")
    stage.settle()
    stage.move(deal, "UC_AWAIT_PAYMENT", at=msk(2026, 10, 30, 15, 0))
    tasks = stage.tasks(deal)
    assert len(tasks) == 1 and tasks[0]["responsibleId"] == str(PETROV)
    runs = [r for r in stage.sandbox.control("GET", f"/portals/{m}/robot-runs") if r["state"] == "done"]
    assert len(runs) == 1
    values = {k.lower(): v for k, v in runs[0]["return_values"].items()}
    assert str(values["task_ids"]) == tasks[0]["id"] and str(values["created"]) == "1"
    assert values["ok"] in ("Y", True, 1, "1")

    # the same change announced again (a later delivery, another ts): the item is read fresh, nothing new
    for second in (5, 6):
        stage.at(msk(2026, 10, 30, 15, 0, second))
        stage.sandbox.control("POST", f"/portals/{m}/fire-event",
                              {"event": "ONCRMDEALUPDATE", "data": {"FIELDS": {"ID": str(deal)}}})
        stage.settle()
    assert len(stage.tasks(deal)) == 1
    results = [r for r in stage.job_results("event.handle") if isinstance(r, dict) and r.get("id") == deal]
    assert [r["change"] for r in results].count("none") == 2

    # the robot run again by the portal (e.g. the rule re-applied): the same task comes back
    stage.sandbox.control("POST", f"/portals/{m}/stage-entered", {"entity": "deal", "id": deal, "category_id": 0,
                                                                  "stage_id": "UC_AWAIT_PAYMENT"})
    stage.settle()
    runs = [r for r in stage.sandbox.control("GET", f"/portals/{m}/robot-runs") if r["state"] == "done"]
    assert len(runs) == 2
    assert {str({k.lower(): v for k, v in r["return_values"].items()}["task_ids"]) for r in runs} == {tasks[0]["id"]}
    assert len(stage.tasks(deal)) == 1

    # `stages apply` afterwards: the deal's task exists, only the seed's deals get theirs
    result = CliRunner().invoke(main, ["stages", "apply", "--portal", m, "--stage", "UC_AWAIT_PAYMENT", "--json"],
                                env=stage.app.env())
    assert result.exit_code == 0, result.output
    assert len(stage.tasks(deal)) == 1
    assert stage.dead() == []


def test_a_lost_answer_never_creates_a_second_task(stage) -> None:
    m = stage.member_id
    deal = stage.new_deal("Лист г/к 4 мм", PETROV, stage="UC_DOCS")
    stage.settle()
    # the portal creates the task but the app gets HTTP 500: it cannot know the task exists
    stage.sandbox.control("PUT", f"/portals/{m}/faults", {"commit_then_500_rate": 1.0, "methods": ["tasks.task.add"]})
    try:
        stage.at(msk(2026, 10, 30, 15, 0))
        stage.rest("crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "UC_AWAIT_PAYMENT"}})
        stage.settle()  # the failed attempt is retried after its backoff (the frozen clock is moved on)
    finally:
        stage.sandbox.control("PUT", f"/portals/{m}/faults", {"commit_then_500_rate": 0.0, "methods": []})
    tasks = stage.tasks(deal)
    assert len(tasks) == 1, [t["id"] for t in tasks]
    handled = [j for j in jobs_repo.list_jobs(stage.app.db, kind="event.handle", member_id=m, limit=100)
               if (j.result or {}).get("id") == deal and (j.result or {}).get("stage") == "UC_AWAIT_PAYMENT"]
    assert len(handled) == 1 and handled[0].attempts == 2  # failed once, then found the task by its marker
    done = effects.done_keys(stage.app.db, m, f"stages:task:deal:{deal}:UC_AWAIT_PAYMENT")
    assert list(done.values()) == [int(tasks[0]["id"])]
    assert stage.dead() == []
