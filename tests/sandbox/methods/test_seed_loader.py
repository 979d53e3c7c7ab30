"""The metalprom seed as the portal loads it: the portal's own date, funnel history of moved deals,
replaced dictionaries, the deals' legal entity, smart invoices with history, and UPPER_CASE field
names in crm.item.* (checked against an independent ``metalprom.build`` of the same day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import requests
from fast_bitrix24 import Bitrix

from b24sandbox.portal.methods import seed
from b24sandbox.seed import metalprom

from ..conftest import Portal
from .harness import FakePortal, Harness

TODAY = dt.date(2026, 10, 5)  # the harness portal's clock: 2026-10-05 08:20 UTC = 11:20 in Moscow


@pytest.fixture(scope="module")
def h() -> Harness:
    return Harness("metalprom")


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return metalprom.build(1, today=TODAY)


def _all(h: Harness, method: str, params: dict[str, Any], key: str | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    while True:
        page = h.call(method, {**params, "start": start})
        out += page.items[key] if key else page.items
        if page.next is None:
            return out
        start = page.next


def test_demo_is_built_for_the_portals_date(h: Harness, data: dict[str, Any]) -> None:
    deals = {d["ID"]: d for d in data["deals"]}
    for row in h.call("crm.deal.list", {"select": ["ID", "DATE_CREATE", "CLOSEDATE"]}).items:
        assert row["DATE_CREATE"] == deals[int(row["ID"])]["DATE_CREATE"]
    moves = _all(h, "crm.stagehistory.list", {"entityTypeId": 2}, "items")
    last = max(dt.datetime.fromisoformat(m["CREATED_TIME"]) for m in moves)
    seeded = max(dt.datetime.fromisoformat(s["CREATED_TIME"]) for d in data["deals"] for s in d["history"])
    assert last == seeded and TODAY - dt.timedelta(days=4) <= last.date() < TODAY  # ends before the portal's today
    absences = [a for a in h.call("calendar.accessibility.get", {"users": [metalprom.IVANOV_ID],
                                                                 "from": "2026-10-01", "to": "2026-10-31"})
                [str(metalprom.IVANOV_ID)]]
    assert absences and absences[0]["DATE_FROM"].startswith("03.10.2026")  # today - 2


def test_moved_deals_keep_their_history_in_each_funnel(h: Harness, data: dict[str, Any]) -> None:
    claims = [d for d in data["deals"] if d["CATEGORY_ID"] == 2]
    assert claims
    for deal in claims:
        hist = h.call("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"OWNER_ID": deal["ID"]}}).items["items"]
        assert [(x["STAGE_ID"], x["CATEGORY_ID"]) for x in hist] == [
            (s["STAGE_ID"], str(s["CATEGORY_ID"])) for s in deal["history"]]
        assert {x["CATEGORY_ID"] for x in hist} == {"0", "2"}
        assert hist[0]["TYPE_ID"] == "1" and all(x["TYPE_ID"] in ("2", "3") for x in hist[1:])
        first_claim = next(x for x in hist if x["CATEGORY_ID"] == "2")
        assert first_claim["STAGE_ID"] == "C2:NEW" and first_claim["STAGE_SEMANTIC_ID"] == "P"
    # the funnel-0 part of the claims counts in funnel 0
    in_sales = h.call("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"CATEGORY_ID": 0,
                                                                              "OWNER_ID": claims[0]["ID"]}})
    assert in_sales.total == sum(1 for s in claims[0]["history"] if s["CATEGORY_ID"] == 0)


def test_seed_dictionaries_replace_the_defaults(h: Harness, data: dict[str, Any]) -> None:
    given: dict[str, list[str]] = {}
    for s in data["statuses"]:
        given.setdefault(s["ENTITY_ID"], []).append(s["STATUS_ID"])
    for entity, codes in given.items():
        got = h.call("crm.status.list", {"filter": {"ENTITY_ID": entity}, "order": {"SORT": "ASC"}}).items
        assert sorted(x["STATUS_ID"] for x in got) == sorted(codes), entity
    types = h.call("crm.status.list", {"filter": {"ENTITY_ID": "COMPANY_TYPE"}}).items
    assert len(types) == 5 and all(t["SEMANTICS"] is None and "EXTRA" not in t for t in types)
    assert len(h.call("crm.status.list", {"filter": {"ENTITY_ID": "INDUSTRY"}}).items) == 6
    # dictionaries the seed does not give stay as on a fresh portal
    assert [x["STATUS_ID"] for x in h.call("crm.status.list", {"filter": {"ENTITY_ID": "CONTACT_TYPE"}}).items] == [
        "CLIENT", "SUPPLIER", "PARTNER", "OTHER"]
    won = h.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "WON"}}).items[0]
    assert won["SEMANTICS"] == "S" and won["EXTRA"]["SEMANTICS"] == "success"


def test_deal_legal_entity_through_crm_item(h: Harness, data: dict[str, Any]) -> None:
    legal = {le["code"]: le["ID"] for le in data["legal_entities"]}
    expected = {d["ID"]: d["MYCOMPANY_ID"] for d in data["deals"]}
    items = _all(h, "crm.item.list", {"entityTypeId": 2, "select": ["id", "mycompanyId"]}, "items")
    assert {i["id"]: i["mycompanyId"] for i in items} == expected
    trade = _all(h, "crm.item.list", {"entityTypeId": 2, "filter": {"mycompanyId": legal["MPT"]},
                                      "select": ["id"]}, "items")
    assert sorted(i["id"] for i in trade) == sorted(k for k, v in expected.items() if v == legal["MPT"])
    assert h.call("crm.item.get", {"entityTypeId": 2, "id": 1})["item"]["mycompanyId"] == expected[1]
    descr = h.call("crm.item.fields", {"entityTypeId": 2})["fields"]["mycompanyId"]
    assert descr["type"] == "crm_company" and descr["upperName"] == "MYCOMPANY_ID"
    # the legacy deal methods know nothing of it (as crm.deal.fields / crm.deal.get on the platform)
    assert "MYCOMPANY_ID" not in h.call("crm.deal.fields") and "MYCOMPANY_ID" not in h.call("crm.deal.get",
                                                                                             {"id": 1})
    assert h.call("crm.deal.update", {"id": 1, "fields": {"MYCOMPANY_ID": 999}}) is True
    assert h.call("crm.item.get", {"entityTypeId": 2, "id": 1})["item"]["mycompanyId"] == expected[1]
    other = legal["MP"] if expected[1] != legal["MP"] else legal["MPT"]
    upd = h.call("crm.item.update", {"entityTypeId": 2, "id": 1, "fields": {"mycompanyId": other}})
    assert upd["item"]["mycompanyId"] == other
    h.call("crm.item.update", {"entityTypeId": 2, "id": 1, "fields": {"mycompanyId": expected[1]}})


def test_smart_invoices_with_links_and_history(h: Harness, data: dict[str, Any]) -> None:
    seeded = {i["ID"]: i for i in data["smart_invoices"]}
    items = _all(h, "crm.item.list", {"entityTypeId": 31}, "items")
    assert len(items) == len(seeded) == 36
    for item in items:
        src = seeded[item["id"]]
        for key in ("title", "stageId", "categoryId", "parentId2", "companyId", "contactId", "mycompanyId",
                    "assignedById", "accountNumber", "begindate", "closedate", "createdTime", "currencyId"):
            assert item[key] == src[key], (item["id"], key)
        assert item["opportunity"] == pytest.approx(src["opportunity"]) and item["contactIds"] == [src["contactId"]]
        assert item["stageSemanticId"] == {"DT31_1:P": "S", "DT31_1:D": "F"}.get(src["stageId"], "P")
    cats = h.call("crm.category.list", {"entityTypeId": 31}).items["categories"]
    assert [(c["id"], c["name"]) for c in cats] == [(1, "Счета")]
    deal_cats = h.call("crm.category.list", {"entityTypeId": 2}).items["categories"]
    assert [c["id"] for c in deal_cats] == [0, 1, 2]  # deal funnel 1 and invoice funnel 1 coexist
    by_deal = h.call("crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": items[0]["parentId2"]}})
    assert [i["id"] for i in by_deal.items["items"]] == [items[0]["id"]]

    paid: dict[int, list[str]] = {}
    for p in sorted(data["payments"], key=lambda p: p["DATE"]):
        paid.setdefault(p["INVOICE_ID"], []).append(p["DATE"])
    deals = {d["ID"]: d for d in data["deals"]}
    history = _all(h, "crm.stagehistory.list", {"entityTypeId": 31}, "items")
    for item in items:
        steps = [x for x in history if x["OWNER_ID"] == str(item["id"])]
        assert steps[0]["TYPE_ID"] == "1" and steps[0]["CREATED_TIME"] == item["createdTime"]
        assert steps[-1]["STAGE_ID"] == item["stageId"] and steps[-1]["CREATED_TIME"] == item["movedTime"]
        times = [x["CREATED_TIME"] for x in steps]
        assert times == sorted(times) and all(x["CATEGORY_ID"] == "1" for x in steps)
        stage = item["stageId"]
        if stage == "DT31_1:N":
            assert len(steps) == 1
        else:
            assert steps[0]["STAGE_ID"] == "DT31_1:S"
        if stage == "DT31_1:UC_PARTIAL":
            assert steps[-1]["CREATED_TIME"] == paid[item["id"]][0]
        if stage == "DT31_1:P":
            assert steps[-1]["CREATED_TIME"] == paid[item["id"]][-1] and steps[-1]["TYPE_ID"] == "3"
            assert [x["STAGE_ID"] for x in steps[1:-1]] == (["DT31_1:UC_PARTIAL"] if len(paid[item["id"]]) > 1
                                                             else [])
        if stage == "DT31_1:D":
            assert steps[-1]["CREATED_TIME"] == deals[item["parentId2"]]["history"][-1]["CREATED_TIME"]
        if len(steps) > 1:
            assert item["previousStageId"] == steps[-2]["STAGE_ID"]
    # a new invoice continues the ids
    new = h.call("crm.item.add", {"entityTypeId": 31, "fields": {"title": "Новый счёт"}})["item"]
    assert new["id"] == 37 and new["categoryId"] == 1 and new["stageId"] == "DT31_1:N"
    h.call("crm.item.delete", {"entityTypeId": 31, "id": 37})


def test_invoice_history_given_by_the_seed_is_used() -> None:
    portal = FakePortal()
    data = {
        "users": [{"ID": 1, "NAME": "А", "LAST_NAME": "Б", "EMAIL": "a@b.ru", "ACTIVE": True, "IS_ADMIN": True,
                   "UF_DEPARTMENT": [1]}],
        "departments": [{"ID": 1, "NAME": "Компания", "PARENT": None, "UF_HEAD": 1, "SORT": 100}],
        "statuses": [{"ENTITY_ID": "SMART_INVOICE_STAGE_3", "STATUS_ID": f"DT31_3:{c}", "NAME": c, "SORT": i * 10,
                      "SEMANTICS": sem, "COLOR": "#000000", "CATEGORY_ID": 3}
                     for i, (c, sem) in enumerate([("N", "process"), ("S", "process"), ("P", "success"),
                                                   ("D", "failure")], 1)],
        "smart_invoices": [{"ID": 5, "title": "Счёт 5", "categoryId": 3, "stageId": "DT31_3:P",
                            "createdTime": "2026-09-01T10:00:00+03:00",
                            "history": [{"stageId": "DT31_3:N", "createdTime": "2026-09-01T10:00:00+03:00"},
                                        {"stageId": "DT31_3:S", "createdTime": "2026-09-02T11:00:00+03:00"},
                                        {"stageId": "DT31_3:P", "createdTime": "2026-09-10T12:00:00+03:00"}]}],
    }
    assert seed.load_data(portal, data) == 1
    h = Harness.__new__(Harness)
    h.portal, h.admin = portal, 1
    hist = h.call("crm.stagehistory.list", {"entityTypeId": 31}).items["items"]
    assert [(x["TYPE_ID"], x["STAGE_ID"], x["CREATED_TIME"]) for x in hist] == [
        ("1", "DT31_3:N", "2026-09-01T10:00:00+03:00"), ("2", "DT31_3:S", "2026-09-02T11:00:00+03:00"),
        ("3", "DT31_3:P", "2026-09-10T12:00:00+03:00")]
    item = h.call("crm.item.get", {"entityTypeId": 31, "id": 5})["item"]
    assert item["movedTime"] == "2026-09-10T12:00:00+03:00" and item["previousStageId"] == "DT31_3:S"
    assert [c["id"] for c in h.call("crm.category.list", {"entityTypeId": 31}).items["categories"]] == [3]
    # no events while seeding
    assert portal.events == []


def test_crm_item_accepts_the_upper_case_names_of_its_fields(h: Harness) -> None:
    desc = h.call("crm.item.list", {"entityTypeId": 2, "order": {"ID": "DESC"}, "select": ["ID", "TITLE"],
                                    "filter": {">ID": 60, "STAGE_SEMANTIC_ID": "P"}})
    ids = [i["id"] for i in desc.items["items"]]
    assert ids == sorted(ids, reverse=True) and all(i > 60 for i in ids)
    assert set(desc.items["items"][0]) == {"id", "title"}
    same = h.call("crm.item.list", {"entityTypeId": 2, "order": {"id": "DESC"}, "select": ["id", "title"],
                                    "filter": {">id": 60, "stageSemanticId": "P"}})
    assert same.items == desc.items
    inv = h.call("crm.item.list", {"entityTypeId": 31, "order": {"ID": "ASC"},
                                   "filter": {"STAGE_ID": "DT31_1:D", "PARENT_ID_2": [i["parentId2"] for i in
                                              _all(h, "crm.item.list", {"entityTypeId": 31}, "items")]}})
    assert [i["stageId"] for i in inv.items["items"]] == ["DT31_1:D", "DT31_1:D"]
    added = h.call("crm.item.add", {"entityTypeId": 2, "fields": {"TITLE": "Сделка через UPPER", "STAGE_ID":
                                                                  "PREPARATION", "MYCOMPANY_ID": 1}})["item"]
    assert (added["title"], added["stageId"], added["mycompanyId"]) == ("Сделка через UPPER", "PREPARATION", 1)
    h.call("crm.item.delete", {"entityTypeId": 2, "id": added["id"]})
    # legacy-only names are not crm.item fields: the platform's converter does not know them either
    err = h.error("crm.item.list", {"entityTypeId": 2, "order": {"DATE_CREATE": "ASC"}})
    assert err.code == "INVALID_ARG_VALUE" and "DATE_CREATE" in err.description


def test_frozen_clock_demo_and_fast_bitrix24_export_over_http(sandbox: Any, make_portal: Callable[..., Portal]) -> None:
    # 22:30 UTC on the 9th is already the 10th in Moscow: the demo is built for the 10th
    r = requests.put(sandbox.url + "/_sandbox/clock", json={"now": "2026-03-09T22:30:00+00:00", "frozen": True},
                     timeout=10)
    assert r.status_code == 200
    portal = make_portal("metalprom-frozen.bitrix24.ru", seed="metalprom")
    expected = metalprom.build(1, today=dt.date(2026, 3, 10))
    bx = Bitrix(portal.webhook(1), verbose=False)
    deals = bx.get_all("crm.deal.list", params={"select": ["ID", "DATE_CREATE"]})
    assert {int(d["ID"]): d["DATE_CREATE"] for d in deals} == {d["ID"]: d["DATE_CREATE"] for d in expected["deals"]}
    absences = requests.get(portal.control + "/absences", timeout=10).json()
    assert {(a["user_id"], a["date_from"]) for a in absences} == {
        (a["USER_ID"], a["DATE_FROM"]) for a in expected["absences"]}
    # fast-bitrix24's get_all sends order {"ID": "ASC"} to crm.item.list
    invoices = bx.get_all("crm.item.list", params={"entityTypeId": 31})
    assert sorted((i["id"], i["stageId"], i["mycompanyId"]) for i in invoices) == sorted(
        (i["ID"], i["stageId"], i["mycompanyId"]) for i in expected["smart_invoices"])
