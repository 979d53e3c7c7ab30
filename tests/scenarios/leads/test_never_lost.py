"""Never lost: leads created while the app was down reach it through the offline queue
(ONCRMLEADADD is also bound offline); a new lead whose event could not be acted on (distribution
was off) is found by the reconciliation after the grace minutes and distributed; a deal is
distributed by the robot with its overrides (pool, strategy)."""

from __future__ import annotations

import datetime as dt

import requests

from b24app.store import jobs
from b24sandbox.seed.metalprom import IVANOV_ID, PETROV_ID, ZUEVA_ID
from tests.scenarios.harness import wait_for

ROBOT = "b24app_distribute_lead"


def test_offline_events_and_reconciliation(mp) -> None:
    view = mp.sandbox.control("GET", f"/portals/{mp.member_id}/apps/{mp.app.config.client_id}")
    assert any(e["event"] == "ONCRMLEADADD" and str(e.get("offline", "")) in ("1", "True", "true")
               for e in view["events"]), view["events"]
    mp.app.server.shutdown()  # the app is down: online deliveries fail and are not retried
    down = [int(requests.post(mp.hook + "crm.lead.add.json", json={"fields": {
        "TITLE": f"Пока приложение лежало {i}", "SOURCE_ID": "UC_YANDEX", "ASSIGNED_BY_ID": 1}},
        timeout=10).json()["result"]) for i in range(2)]
    mp.sandbox.wait_deliveries()
    assert all(mp.intake(i) is None for i in down)
    jobs.enqueue(mp.app.db, "events.offline_sweep", member_id=mp.member_id)
    mp.app.drain()
    for lead_id in down:
        d = mp.intake(lead_id)
        assert d is not None and d.status == "applied" and d.trigger == "event"
        assert int(mp.lead(lead_id)["ASSIGNED_BY_ID"]) == d.user_id

    mp.configure(auto=False)  # the event arrives, but automatic mode is off: nothing is done
    late = mp.add_lead("UC_SEO", TITLE="SEO: событие пропало")
    mp.settle()
    assert mp.intake(late) is None
    mp.configure(auto=True)
    mp.run_job("leads.reconcile")
    assert mp.intake(late) is None  # younger than the grace period (5 minutes): its event may still come
    mp.clock.shift(dt.timedelta(minutes=6))
    mp.run_job("leads.reconcile")
    d = mp.intake(late)
    assert d is not None and d.trigger == "reconcile" and d.user_id in (PETROV_ID, ZUEVA_ID)
    assert int(mp.lead(late)["ASSIGNED_BY_ID"]) == d.user_id


def test_deal_robot_with_pool_and_strategy_overrides(mp) -> None:
    mp.sandbox.control("POST", f"/portals/{mp.member_id}/automation", {
        "entity": "deal", "category_id": 0, "stage_id": "NEW", "robot_code": ROBOT,
        "properties": {"pool": "managers", "strategy": "least_loaded"}})
    deal = int(mp.rest("crm.deal.add", {"fields": {"TITLE": "Металлоконструкции для склада", "STAGE_ID": "NEW",
                                                   "ASSIGNED_BY_ID": 1, "OPPORTUNITY": 2_400_000}}))
    mp.settle()
    run = wait_for(lambda: [r for r in mp.sandbox.control("GET", f"/portals/{mp.member_id}/robot-runs")
                            if r["state"] == "done" and r["item_id"] == deal], what="robot answered")[0]
    values = {k.lower(): v for k, v in run["return_values"].items()}
    owner = int(mp.rest("crm.deal.get", {"id": deal})["ASSIGNED_BY_ID"])
    assert values["assigned_user"] == f"user_{owner}" and owner in (PETROV_ID, ZUEVA_ID)
    [d] = [x for x in mp.decisions() if x.entity_type == "deal" and x.entity_id == deal]
    assert d.strategy == "least_loaded" and d.explanation["pool"] == "managers"
    skipped = {s["user_id"]: s["reason"] for s in d.explanation["skipped"]}
    assert skipped[IVANOV_ID] == "absent"
    assert "наименьшая загрузка" in mp.comments(deal, "deal")[0]["COMMENT"]
    assert "наименьшая загрузка" in values["reason"]
