"""The inbound pipeline end to end: a robot call runs and the portal records its return values;
duplicate deliveries (also concurrent) give one side effect; expired tokens are refreshed once
by 4 worker processes; a worker killed with SIGKILL mid-job is replaced and the job finishes once."""

from __future__ import annotations

import os
import signal
import threading
import time

import requests

from b24app.portal.phpform import flatten
from b24app.store import inbound, installations, jobs
from tests.scenarios.harness import wait_for

ROBOT = "b24app_timeline_comment"


def add_rule(sandbox, member_id: str, stage: str = "PREPARATION", text: str = "Сделка «{TITLE}» на {OPPORTUNITY}") -> None:
    sandbox.control("POST", f"/portals/{member_id}/automation", {
        "entity": "deal", "category_id": 0, "stage_id": stage, "robot_code": ROBOT,
        "properties": {"text": text},
    })


def new_deal(hook: str, title: str, stage: str = "PREPARATION") -> int:
    r = requests.post(hook + "crm.deal.add.json", json={"fields": {
        "TITLE": title, "STAGE_ID": stage, "OPPORTUNITY": 150000, "CURRENCY_ID": "RUB"}}, timeout=10)
    r.raise_for_status()
    return int(r.json()["result"])


def comments(hook: str, deal_id: int) -> list[dict]:
    r = requests.post(hook + "crm.timeline.comment.list.json", json={
        "filter": {"ENTITY_ID": deal_id, "ENTITY_TYPE": "deal"}}, timeout=10)
    r.raise_for_status()
    return r.json()["result"]


def robot_deliveries(sandbox, member_id: str) -> list[dict]:
    return [d for d in sandbox.control("GET", f"/portals/{member_id}/deliveries") if d.get("kind") == "robot"]


def test_robot_call_runs_end_to_end(sandbox, installed) -> None:
    app, portal, _ = installed
    m = portal["member_id"]
    hook = sandbox.webhook(m)
    add_rule(sandbox, m)
    deal = new_deal(hook, "Арматура А500С 12 мм, 20 т")
    sandbox.wait_deliveries()
    app.drain()
    runs = wait_for(lambda: [r for r in sandbox.control("GET", f"/portals/{m}/robot-runs")
                             if r["state"] == "done"], what="robot run done")
    assert len(runs) == 1
    values = {k.lower(): v for k, v in runs[0]["return_values"].items()}
    got = comments(hook, deal)
    assert len(got) == 1 and got[0]["COMMENT"] == "Сделка «Арматура А500С 12 мм, 20 т» на 150000.00"
    assert str(values["comment_id"]) == str(got[0]["ID"])
    assert values["ok"] in ("Y", True, "1", 1)


def test_failing_robot_answers_the_workflow_with_an_error(sandbox, installed) -> None:
    app, portal, _ = installed
    m = portal["member_id"]
    add_rule(sandbox, m, text="")  # the required text is empty
    new_deal(sandbox.webhook(m), "Без текста")
    sandbox.wait_deliveries()
    app.drain()
    run = wait_for(lambda: [r for r in sandbox.control("GET", f"/portals/{m}/robot-runs") if r["state"] == "done"])[0]
    values = {k.lower(): v for k, v in run["return_values"].items()}
    assert values["ok"] in ("N", False, "0", 0, "")
    assert "Текст комментария" in values["error"]
    assert any("Текст комментария" in str(entry) for entry in run["log"])


def test_duplicate_and_concurrent_deliveries_give_one_effect(sandbox, installed) -> None:
    app, portal, _ = installed
    m = portal["member_id"]
    hook = sandbox.webhook(m)
    add_rule(sandbox, m)
    deal = new_deal(hook, "Лист г/к 4 мм")
    sandbox.wait_deliveries()
    body = robot_deliveries(sandbox, m)[0]["body"]
    pairs = flatten(body)
    url = f"{app.url}/robots/{ROBOT}"
    statuses: list[int] = []

    def post() -> None:
        statuses.append(requests.post(url, data=pairs, timeout=10).status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 5
    app.drain()
    assert len(comments(hook, deal)) == 1
    assert inbound.count(app.db, m, "robot") == 1
    # the same for an event delivered twice: one inbound row, one job
    event = {"event": "ONCRMDEALUPDATE", "event_handler_id": "7", "data": {"FIELDS": {"ID": str(deal)}},
             "ts": "1795000000", "auth": {"member_id": m, "application_token": installations.get(app.db, m).application_token}}
    before = _updates(app, m)
    for _ in range(3):
        assert requests.post(app.url + "/events", data=flatten(event), timeout=10).status_code == 200
    assert _updates(app, m) == before + 1


def _updates(app, member_id: str) -> int:
    return int(app.db.scalar("SELECT COUNT(*) FROM inbound WHERE member_id = ? AND name = 'ONCRMDEALUPDATE' "
                             "AND dedupe_key LIKE 'event:%:7'", (member_id,)))


def test_expired_tokens_are_refreshed_once_by_four_worker_processes(sandbox, installed) -> None:
    app, portal, _ = installed
    m = portal["member_id"]
    hook = sandbox.webhook(m)
    add_rule(sandbox, m)
    for i in range(8):
        new_deal(hook, f"Сделка {i}")
    sandbox.wait_deliveries()
    before = sandbox.control("GET", f"/portals/{m}/oauth-stats")
    sandbox.control("POST", f"/portals/{m}/expire-tokens")
    procs = [app.spawn_worker("--until-idle") for _ in range(4)]
    for p in procs:
        assert p.wait(120) == 0, p.stderr.read().decode()[-2000:]
    after = sandbox.control("GET", f"/portals/{m}/oauth-stats")
    cid = app.config.client_id
    refreshes = after[cid]["refresh"] - before.get(cid, {}).get("refresh", 0)
    assert refreshes == 1, (before, after)
    assert after[cid]["refresh_failed"] == 0
    assert len([r for r in sandbox.control("GET", f"/portals/{m}/robot-runs") if r["state"] == "done"]) == 8
    assert jobs.counts(app.db)["dead"] == 0


def test_worker_killed_mid_job_is_replaced_and_the_job_finishes_once(sandbox, installed) -> None:
    app, portal, _ = installed
    m = portal["member_id"]
    hook = sandbox.webhook(m)
    add_rule(sandbox, m)
    deal = new_deal(hook, "Профильная труба 60x40")
    sandbox.wait_deliveries()
    sandbox.control("PUT", f"/portals/{m}/faults", {"latency_ms": 1500})
    first = app.spawn_worker(lease=3)
    wait_for(lambda: any(j.kind == "robot" for j in jobs.list_jobs(app.db, status="running")), timeout=20,
             what="robot job running")
    time.sleep(0.8)  # inside the slow REST calls of the robot
    os.kill(first.pid, signal.SIGKILL)
    first.wait(10)
    sandbox.control("PUT", f"/portals/{m}/faults", {"latency_ms": 0})
    second = app.spawn_worker("--until-idle", lease=3)
    assert second.wait(120) == 0, second.stderr.read().decode()[-2000:]
    assert len(comments(hook, deal)) == 1
    robot_jobs = jobs.list_jobs(app.db, kind="robot")
    assert [j.status for j in robot_jobs] == ["done"] and robot_jobs[0].attempts == 2
    assert wait_for(lambda: [r for r in sandbox.control("GET", f"/portals/{m}/robot-runs") if r["state"] == "done"])
