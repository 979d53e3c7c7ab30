"""Deadlines under a frozen clock (the app and the in-process sandbox move together): a lead assigned
on Friday at 17:50 that nobody takes gets a reminder after 15 working minutes — on Monday at 09:05,
not on Friday evening — and after 30 working minutes it is re-routed to the next available manager
of its rule with the head told; when the re-routes are used up the head is asked to decide. Leads
that were taken (status changed, an activity added) are left alone."""

from __future__ import annotations

import datetime as dt

from b24app.leads import plugin
from b24app.store import jobs
from b24sandbox.seed.metalprom import HEAD_OF_SALES_ID, PETROV_ID, ZUEVA_ID
from tests.scenarios.leads.conftest import MSK


def at(mp, *when: int) -> None:
    mp.clock.move_to(dt.datetime(*when, tzinfo=MSK) + dt.timedelta(milliseconds=1))


def scan(mp) -> bool:
    """The periodic task enqueues a scan only when a watch is due; returns whether it did."""
    before = len(jobs.list_jobs(mp.app.db, kind="leads.deadlines", limit=1000))
    plugin.enqueue_deadlines(mp.app.services)
    mp.app.drain()
    return len(jobs.list_jobs(mp.app.db, kind="leads.deadlines", limit=1000)) > before


def test_reminder_then_reroute_then_escalation_in_working_minutes(mp_frozen) -> None:
    mp = mp_frozen
    mp.configure(deadline__max_reroutes=1)
    at(mp, 2026, 10, 9, 17, 50)  # Friday
    a = mp.add_lead("UC_YANDEX", TITLE="Яндекс: не взят")
    b = mp.add_lead("UC_YANDEX", TITLE="Яндекс: взят")
    c = mp.add_lead("UC_YANDEX", TITLE="Яндекс: звонок запланирован")
    mp.settle()
    assert [mp.intake(i).user_id for i in (a, b, c)] == [PETROV_ID, ZUEVA_ID, PETROV_ID]
    at(mp, 2026, 10, 9, 17, 55)
    mp.rest("crm.lead.update", {"id": b, "fields": {"STATUS_ID": "IN_PROCESS"}}, user_id=ZUEVA_ID)
    mp.rest("crm.activity.todo.add", {"ownerTypeId": 1, "ownerId": c, "deadline": "2026-10-12T10:00:00+03:00",
                                      "title": "Позвонить клиенту"}, user_id=PETROV_ID)
    mp.sandbox.wait_deliveries()

    at(mp, 2026, 10, 9, 18, 40)  # 10 working minutes so far: nothing is due
    assert not scan(mp)
    at(mp, 2026, 10, 12, 9, 6)  # Monday: 16 working minutes
    assert scan(mp)
    reminders = [n for n in mp.notifications(PETROV_ID) if "Напоминание" in n["message"]]
    assert len(reminders) == 1 and f"/details/{a}/" in reminders[0]["message"]
    assert not [n for n in mp.notifications(ZUEVA_ID) if "Напоминание" in n["message"]]
    states = {w["entity_id"]: (w["state"], w["closed_reason"]) for w in mp.app.db.query(
        "SELECT entity_id, state, closed_reason FROM lead_watches")}
    assert states[a] == ("open", None)
    assert states[b] == ("closed", "status changed") and states[c] == ("closed", "activity")

    at(mp, 2026, 10, 12, 9, 12)
    assert not scan(mp)  # the re-route is due at 09:20
    at(mp, 2026, 10, 12, 9, 21)
    assert scan(mp)
    rerouted = [d for d in mp.decisions() if d.entity_id == a and d.phase == "reroute:1"]
    assert len(rerouted) == 1 and rerouted[0].kind == "reroute" and rerouted[0].user_id == ZUEVA_ID
    assert int(mp.lead(a)["ASSIGNED_BY_ID"]) == ZUEVA_ID
    text = mp.comments(a)[-1]["COMMENT"]
    assert "не взят в работу за 30 рабочих минут" in text and "с Петров Иван на Зуева Софья" in text
    assert "(переназначение 1 из 1)" in text
    head = [n for n in mp.notifications(HEAD_OF_SALES_ID) if f"/details/{a}/" in n["message"]]
    assert len(head) == 1 and "переназначен на Зуева Софья" in head[0]["message"]

    at(mp, 2026, 10, 12, 9, 52)  # Зуева did not take it either: the re-routes are used up
    assert scan(mp)
    head = [n for n in mp.notifications(HEAD_OF_SALES_ID) if f"/details/{a}/" in n["message"]]
    assert "Нужно ваше решение" in head[-1]["message"]
    assert int(mp.lead(a)["ASSIGNED_BY_ID"]) == ZUEVA_ID
    assert mp.app.db.scalar("SELECT COUNT(*) FROM lead_watches WHERE state = 'open'") == 0
    explained = mp.cli("explain", str(a)).output
    assert "reroute:1" in explained and "escalated" in explained
