"""Availability: a paused manager (paused in the app), a manager outside her own work schedule, one on
vacation (the absence chart) and an inactive one get nothing; when nobody in the pool can take a
lead it goes to the head, and when the head cannot either it waits in the queue with an alert — and
is distributed by the reconciliation as soon as someone is back. Never a silent drop."""

from __future__ import annotations

from collections import Counter

from b24sandbox.seed.metalprom import HEAD_OF_SALES_ID, IVANOV_ID, PETROV_ID, ZUEVA_ID

FORMER_MANAGER_ID = 9


def test_unavailable_managers_get_nothing_and_nothing_is_dropped(mp) -> None:
    doc = mp.settings()
    doc["calendar"]["users"] = {str(ZUEVA_ID): {"hours": "14:00-20:00", "breaks": []}}  # it is 11:00
    mp.save(doc)
    paused = mp.cli("pause", "--user", str(PETROV_ID), "--by", str(HEAD_OF_SALES_ID), "--reason", "обучение")
    assert "приостановлен" in paused.output
    ads = [mp.add_lead("UC_YANDEX", TITLE=f"Реклама {i}") for i in range(3)]
    calls = [mp.add_lead("CALL", TITLE=f"Звонок {i}") for i in range(2)]
    mp.settle()
    for lead_id in ads + calls:
        d = mp.intake(lead_id)
        assert d is not None and d.kind == "head" and d.user_id == HEAD_OF_SALES_ID, d and d.reason
        assert int(mp.lead(lead_id)["ASSIGNED_BY_ID"]) == HEAD_OF_SALES_ID
        skipped = {s["user_id"]: s["reason"] for s in d.explanation["skipped"]}
        assert skipped[PETROV_ID] == "paused" and skipped[ZUEVA_ID] == "off_schedule"
    skipped = {s["user_id"]: s["reason"] for s in mp.intake(calls[0]).explanation["skipped"]}
    assert skipped == {IVANOV_ID: "absent", PETROV_ID: "paused", FORMER_MANAGER_ID: "inactive",
                       ZUEVA_ID: "off_schedule"}
    comment = mp.comments(ads[0])[0]["COMMENT"]
    assert "руководителю" in comment and "Смирнова" in comment and "приём лидов приостановлен" in comment

    # the head is paused too: the lead is held, the head is alerted, the lead stays unassigned
    mp.cli("pause", "--user", str(HEAD_OF_SALES_ID))
    held = mp.add_lead("UC_GOOGLE", TITLE="Google Ads, ждёт")
    mp.settle()
    d = mp.intake(held)
    assert d.kind == "queued" and d.status == "queued" and d.user_id is None
    assert int(mp.lead(held)["ASSIGNED_BY_ID"]) == 1
    alerts = [n for n in mp.notifications(HEAD_OF_SALES_ID) if n["tag"] == f"b24app_queued_lead_{held}"]
    assert len(alerts) == 1 and "ждёт в очереди" in alerts[0]["message"]
    assert "ожидает в очереди" in mp.comments(held)[0]["COMMENT"]

    # Петров is back: the reconciliation hands him the held lead
    assert "возобновлён" in mp.cli("resume", "--user", str(PETROV_ID)).output
    mp.run_job("leads.reconcile")
    d = mp.intake(held)
    assert d.kind == "assign" and d.status == "applied" and d.user_id == PETROV_ID and d.attempts == 2
    assert int(mp.lead(held)["ASSIGNED_BY_ID"]) == PETROV_ID
    assert len(mp.comments(held)) == 2  # the wait, then the assignment

    got = Counter(d.user_id for d in mp.decisions())
    assert got[ZUEVA_ID] == 0 and got[IVANOV_ID] == 0 and got[FORMER_MANAGER_ID] == 0
    pauses = mp.cli("pauses", "--json").output
    assert f'"user_id": {HEAD_OF_SALES_ID}' in pauses and f'"user_id": {PETROV_ID}' not in pauses
