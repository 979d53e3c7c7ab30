"""Managers, channels, time, clients and lights on small hand-made data sets whose answers are
worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from b24app.analytics import payments, reports, spend
from b24app.analytics.filters import Filters

H = "+03:00"
MSK = ZoneInfo("Europe/Moscow")


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text + H).timestamp()


def lead(i, status, uid, src, created, history=None, company=None):
    return {"ID": i, "STATUS_ID": status, "ASSIGNED_BY_ID": uid, "SOURCE_ID": src, "DATE_CREATE": created + H,
            "COMPANY_ID": company, "history": [{"STATUS_ID": s, "CREATED_TIME": t + H} for s, t in history or []]}


def deal(i, stages_times, uid=4, amount=1000.0, company=1, src="UC_YANDEX", lead_id=None, category=0):
    stages = [s for s, _ in stages_times]
    return {"ID": i, "TITLE": f"Сделка {i}", "CATEGORY_ID": category, "STAGE_ID": stages[-1], "ASSIGNED_BY_ID": uid,
            "OPPORTUNITY": amount, "COMPANY_ID": company, "SOURCE_ID": src, "LEAD_ID": lead_id,
            "DATE_CREATE": stages_times[0][1] + H,
            "history": [{"STAGE_ID": s, "CREATED_TIME": t + H} for s, t in stages_times]}


@pytest.fixture
def ld(loader):
    x = loader()
    x.dictionaries()
    x.users({3: "Иванов Иван", 4: "Петров Иван", 5: "Зуева Софья", 9: "Козлов Сергей"}, inactive=(9,))
    return x


def build(services, name, f=None, **options):
    return reports.build(name, services.db, "portal-a", f or Filters(), {"now": ts("2026-10-31T12:00:00"), **options})


def test_managers_deal_figures_and_load(services, ld) -> None:
    ld.deals([
        deal(1, [("NEW", "2026-10-01T10:00:00"), ("WON", "2026-10-05T10:00:00")], uid=4, amount=300_000),
        deal(2, [("NEW", "2026-10-02T10:00:00"), ("WON", "2026-10-06T10:00:00")], uid=4, amount=100_000),
        deal(3, [("NEW", "2026-10-03T10:00:00"), ("LOSE", "2026-10-07T10:00:00")], uid=4, amount=50_000),
        deal(4, [("NEW", "2026-10-04T10:00:00")], uid=4, amount=70_000),
        deal(5, [("NEW", "2026-08-04T10:00:00")], uid=5, amount=10_000),  # before the period
    ])
    ld.leads([lead(1, "NEW", 5, "CALL", "2026-10-01T09:00:00"), lead(2, "JUNK", 4, "CALL", "2026-10-01T09:00:00")])
    rows = {r["manager_id"]: r for r in build(services, "managers", Filters(date_from=dt.date(2026, 10, 1))).tables[0].rows}
    p = rows[4]
    # 4 deals of the period: 2 won (400 000), 1 lost, 1 open (70 000)
    assert (p["deals"], p["won"], p["won_sum"], p["in_work_sum"]) == (4, 2, 400_000.0, 70_000.0)
    assert p["avg_won"] == 200_000.0 and p["deal_conversion_pct"] == pytest.approx(66.67)
    assert p["load_now"] == 1  # the open deal; the junk lead is closed
    z = rows[5]
    assert z["deals"] == 0 and z["load_now"] == 2  # the open lead and the older open deal: load ignores the period
    assert z["deal_conversion_pct"] is None and z["avg_won"] is None  # nothing closed: no ratio, not zero


def test_channels_spend_prorated_revenue_and_roi(services, ld, monkeypatch) -> None:
    # September spend 300 000 for Яндекс; the period 16-30 September covers 15 of its 30 days
    spend.save(services.db, "portal-a", [spend.Spend("UC_YANDEX", "2026-09", 300_000.0),
                                         spend.Spend("UC_GOOGLE", "2026-10", 90_000.0)], tz="Europe/Moscow")
    ld.leads([lead(i, "CONVERTED", 4, "UC_YANDEX", "2026-09-20T10:00:00") for i in (1, 2)]
             + [lead(3, "JUNK", 4, "UC_YANDEX", "2026-09-21T10:00:00"),
                lead(4, "NEW", 4, "UC_GOOGLE", "2026-09-22T10:00:00"),
                lead(5, "NEW", 4, "UC_YANDEX", "2026-09-01T10:00:00")])  # before the period
    ld.deals([
        deal(1, [("NEW", "2026-09-20T11:00:00"), ("WON", "2026-09-25T10:00:00")], amount=400_000, lead_id=1),
        deal(2, [("NEW", "2026-09-20T12:00:00")], amount=200_000, src=None, lead_id=2),  # source from its lead
    ])
    # payments from the 1C sync: 250 000 received for deal 1
    monkeypatch.setattr(payments, "configured", lambda db, m: True)
    monkeypatch.setattr(payments, "source", lambda: lambda db, m, a, b: [
        {"deal_id": 1, "amount": 150_000, "date": dt.date(2026, 9, 28)},
        {"deal_id": "1", "amount": "100000", "date": "2026-10-02T10:00:00+03:00"}])
    with services.db.transaction():
        payments.store_snapshot(services.db, "portal-a", payments.fetch(services.db, "portal-a") or [])
    from b24app.store import sync_state

    sync_state.put(services.db, "portal-a", "analytics", None, {"payments_available": True})
    f = Filters(date_from=dt.date(2026, 9, 16), date_to=dt.date(2026, 9, 30))
    rows = {r["source_id"]: r for r in build(services, "channels", f).tables[0].rows}
    y = rows["UC_YANDEX"]
    assert y["spend"] == 150_000.0 and y["leads"] == 3 and y["cpl"] == 50_000.0
    assert y["deals"] == 2 and y["won"] == 1 and y["channel_conversion_pct"] == pytest.approx(33.33)
    assert y["revenue_won"] == 400_000.0 and y["revenue_paid"] == 250_000.0
    assert y["roi_won_pct"] == pytest.approx(166.67) and y["roi_paid_pct"] == pytest.approx(66.67)
    g = rows["UC_GOOGLE"]
    assert g["spend"] == 0.0 and g["leads"] == 1 and g["roi_won_pct"] is None  # October spend is outside


def test_payments_come_through_the_sync_features_api(services, ld, monkeypatch) -> None:
    """The real ``b24app.sync_1c.api.payments_for_analytics`` over payments recorded by the sync's own
    repository functions: reversed payments do not count, dates and deals arrive as we need them."""
    from b24app.sync_1c import state
    from b24app.sync_1c.records import InvoiceRec, PaymentRec

    fn = payments.source()
    assert fn is not None and fn.__module__ == "b24app.sync_1c.api"
    with services.db.transaction():
        state.record_invoice(services.db, "portal-a", "main", InvoiceRec(ref="inv-1", number="17", amount=500.0,
                                                                         posted=True), origin="1c", deal_id=7)
        state.put_payment(services.db, "portal-a", "main", PaymentRec(ref="p-1", date="2026-09-28T10:00:00",
                                                                      posted=True, amount=300.0), [("inv-1", 300.0)])
        state.put_payment(services.db, "portal-a", "main", PaymentRec(ref="p-2", date="2026-09-29T10:00:00",
                                                                      posted=False, amount=50.0), [("inv-1", 50.0)])
    assert payments.fetch(services.db, "portal-a") is None  # no 1C base in the settings: not available
    monkeypatch.setattr(payments, "configured", lambda db, m: True)
    got = payments.fetch(services.db, "portal-a")
    assert [(p["deal_id"], p["amount"], str(p["date"])[:10]) for p in got] == [(7, 300.0, "2026-09-28")]
    with services.db.transaction():
        assert payments.store_snapshot(services.db, "portal-a", got) == 1
    row = services.db.one("SELECT deal_id, amount, paid_at FROM analytics_payments WHERE member_id = 'portal-a'")
    assert row["deal_id"] == 7 and row["amount"] == 300.0
    assert dt.datetime.fromtimestamp(row["paid_at"], MSK).date() == dt.date(2026, 9, 28)


def test_channels_without_payments_say_not_available(services, ld, monkeypatch) -> None:
    monkeypatch.setattr(payments, "source", lambda: None)
    assert payments.fetch(services.db, "portal-a") is None
    ld.leads([lead(1, "NEW", 4, "UC_YANDEX", "2026-09-20T10:00:00")])
    tbl = build(services, "channels").tables[0]
    assert tbl.rows[0]["revenue_paid"] is None and tbl.total["revenue_paid"] is None
    assert tbl.note_key == "analytics.note.payments_unavailable"


def test_time_in_stage_average_p90_and_stuck(services, ld) -> None:
    # ten deals stay 1..10 days in NEW, then move to PREPARATION where they stay
    deals = []
    for i in range(1, 11):
        start = dt.datetime(2026, 10, 1, 10, tzinfo=MSK)
        moved = start + dt.timedelta(days=i)
        deals.append(deal(i, [("NEW", start.isoformat()[:19]), ("PREPARATION", moved.isoformat()[:19])]))
    deals.append(deal(11, [("NEW", "2026-10-30T12:00:00")]))  # still in NEW for 1 day
    deals.append(deal(12, [("NEW", "2026-10-01T12:00:00"), ("UC_CONTRACT", "2026-10-20T12:00:00")]))
    ld.deals(deals)
    rep = build(services, "stages", stuck_days=14, contract_days=5, contract_stages=["UC_CONTRACT"])
    times = {r["stage"]: r for r in rep.table("stage_times").rows}
    new = times["Новая сделка"]
    # stays in NEW: 1..10 days and 19 days (deal 12): average 74/11 = 6.7; p90 = 9th of 11 sorted = 10 days
    assert new["stays"] == 11 and new["avg_days"] == 6.7 and new["p90_days"] == 10.0 and new["now_in_stage"] == 1
    assert times["Подготовка счета"]["stays"] == 0 and times["Подготовка счета"]["now_in_stage"] == 10
    stuck = {r["deal_id"]: r["days_in_stage"] for r in rep.table("stuck_deals").rows}
    # now = 31.10 12:00; PREPARATION entered 2.10..11.10 10:00 -> 29.1..20.1 days; deal 12: 11 days (not stuck)
    assert set(stuck) == set(range(1, 11)) and stuck[1] == pytest.approx(29.1)
    overdue = {r["deal_id"] for r in rep.table("overdue_contracts").rows}
    assert overdue == {12}


def test_lead_processing_time(services, ld) -> None:
    ld.leads([
        lead(1, "IN_PROCESS", 4, "CALL", "2026-10-01T10:00:00", [("NEW", "2026-10-01T10:00:00"),
                                                                ("IN_PROCESS", "2026-10-01T12:00:00")]),
        lead(2, "JUNK", 4, "CALL", "2026-10-01T10:00:00", [("NEW", "2026-10-01T10:00:00"),
                                                          ("JUNK", "2026-10-01T20:00:00")]),
        lead(3, "NEW", 4, "CALL", "2026-10-02T10:00:00", [("NEW", "2026-10-02T10:00:00")]),
        lead(4, "IN_PROCESS", 5, "CALL", "2026-10-01T10:00:00", [("NEW", "2026-10-01T10:00:00"),
                                                                ("IN_PROCESS", "2026-10-01T14:00:00"),
                                                                ("CONVERTED", "2026-10-03T10:00:00")]),
    ])
    tbl = build(services, "stages").table("lead_processing")
    rows = {r["manager_id"]: r for r in tbl.rows}
    assert rows[4]["processed"] == 2 and rows[4]["avg_hours"] == 6.0 and rows[4]["p90_hours"] == 10.0
    assert rows[4]["waiting"] == 1
    assert rows[5]["avg_hours"] == 4.0  # the first status change counts, not the conversion
    assert tbl.total["processed"] == 3 and tbl.total["avg_hours"] == pytest.approx(5.3)
    assert tbl.total["waiting"] == 1 and tbl.total["manager"] is None


def test_clients_ltv_retention_and_churn(services, ld) -> None:
    ld.companies([{"ID": c, "TITLE": f"Клиент {c}", "ASSIGNED_BY_ID": 4, "HAS_PHONE": "Y"} for c in (1, 2, 3, 4)])
    ld.deals([
        # client 1 bought in August and in October: retained
        deal(1, [("NEW", "2026-08-01T10:00:00"), ("WON", "2026-08-10T10:00:00")], company=1, amount=100),
        deal(2, [("NEW", "2026-10-01T10:00:00"), ("WON", "2026-10-11T10:00:00")], company=1, amount=300),
        # client 2 bought in August only: churned
        deal(3, [("NEW", "2026-08-01T10:00:00"), ("WON", "2026-08-20T10:00:00")], company=2, amount=50),
        # client 3 bought first in October: new
        deal(4, [("NEW", "2026-10-01T10:00:00"), ("WON", "2026-10-05T10:00:00")], company=3, amount=70),
        # client 4 has an open deal only
        deal(5, [("NEW", "2026-10-01T10:00:00")], company=4, amount=10),
    ])
    f = Filters(date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31))
    rep = build(services, "clients", f)
    ret = rep.table("retention").rows[0]
    assert (ret["base_clients"], ret["retained"], ret["churned"], ret["new_clients"]) == (2, 1, 1, 1)
    assert ret["retention_pct"] == 50.0 and ret["churn_pct"] == 50.0
    assert ret["period_purchases"] == 2 and ret["purchases_per_client"] == 1.0
    rows = {r["company_id"]: r for r in rep.table("clients").rows}
    assert rows[1]["ltv"] == 400.0 and rows[1]["purchases"] == 2 and rows[1]["interval_days"] == 62.0
    assert rows[1]["first_purchase"] == "2026-08-10" and rows[1]["period_status"] == "retained"
    assert rows[2]["period_status"] == "churned" and rows[3]["period_status"] == "new"
    assert rows[4]["purchases"] == 0 and rows[4]["open_deals"] == 1
    assert build(services, "clients").table("retention").rows == []  # no period: retention is not defined


def test_lights_rules(services, ld) -> None:
    ld.companies([
        {"ID": 1, "TITLE": "Зелёный", "ASSIGNED_BY_ID": 4, "HAS_PHONE": "Y"},
        {"ID": 2, "TITLE": "Без ИНН", "ASSIGNED_BY_ID": 4, "HAS_EMAIL": "Y"},
        {"ID": 3, "TITLE": "Просрочено дело", "ASSIGNED_BY_ID": 5, "HAS_PHONE": "Y"},
        {"ID": 4, "TITLE": "Нет открытой сделки", "ASSIGNED_BY_ID": 5, "HAS_PHONE": "Y"},
        {"ID": 5, "TITLE": "Нет контактов", "ASSIGNED_BY_ID": 3},
    ])
    ld.requisites([{"ID": i, "ENTITY_TYPE_ID": 4, "ENTITY_ID": i, "RQ_INN": "7448053174"} for i in (1, 3, 4, 5)])
    ld.deals([deal(1, [("NEW", "2026-10-01T10:00:00")], company=1, uid=4),
              deal(2, [("NEW", "2026-10-01T10:00:00")], company=2, uid=4),
              deal(3, [("NEW", "2026-10-01T10:00:00")], company=3, uid=5),
              deal(4, [("NEW", "2026-09-01T10:00:00"), ("WON", "2026-09-10T10:00:00")], company=4, uid=5),
              deal(5, [("NEW", "2026-10-01T10:00:00")], company=5, uid=3)])
    ld.activities([
        {"ID": 1, "OWNER_TYPE_ID": 2, "OWNER_ID": 3, "RESPONSIBLE_ID": 5, "DEADLINE": "2026-10-20T10:00:00" + H},
        {"ID": 2, "OWNER_TYPE_ID": 4, "OWNER_ID": 1, "RESPONSIBLE_ID": 4, "DEADLINE": "2026-11-20T10:00:00" + H},
    ])
    rep = build(services, "lights")
    clients = {r["company_id"]: r for r in rep.table("client_lights").rows}
    assert clients[1]["light"] == "green" and clients[1]["reasons"] == ""
    assert clients[2]["light"] == "yellow" and clients[2]["reasons"] == "no_profile,"
    assert clients[3]["light"] == "red" and clients[3]["reasons"] == "overdue_activity,"
    assert clients[4]["light"] == "red" and clients[4]["reasons"] == "no_active_deal,"
    assert clients[5]["light"] == "yellow" and clients[5]["reasons"] == "no_contacts,"
    managers = {r["manager_id"]: r for r in rep.table("manager_lights").rows}
    assert managers[4]["light"] == "green"  # its clients are green and yellow, no overdue activity
    assert managers[5]["light"] == "red" and managers[5]["overdue_activities"] == 1
    assert managers[3]["light"] == "green"
    assert 9 not in managers  # inactive users have no light
    assert rep.summary["clients_red"] == 2 and rep.summary["managers_red"] == 1
    only = build(services, "lights", Filters(manager_id=5)).table("client_lights").rows
    assert {r["company_id"] for r in only} == {3, 4}
