"""Handler-level tests of the CRM methods (in-process portal; the HTTP tests cover the wire)."""

from __future__ import annotations

import pytest

from .harness import Harness
from .shapes import fixture, shape_diff


@pytest.fixture()
def h() -> Harness:
    return Harness()


def test_lead_get_has_the_real_shape(h: Harness) -> None:
    lid = h.call("crm.lead.add", {"fields": {"TITLE": "Лид", "NAME": "", "PHONE": [{"VALUE": "+15454777777",
                                                                                   "VALUE_TYPE": "OTHER"}],
                                             "IM": [{"VALUE": "imol|livechat|1|67|21", "VALUE_TYPE": "OPENLINE"}],
                                             "CURRENCY_ID": "EUR", "SOURCE_ID": "1", "STATUS_ID": "IN_PROCESS"}})
    assert isinstance(lid, int)
    got = h.call("crm.lead.get", {"id": lid})
    assert shape_diff(fixture("crm_lead_get_response.json")["result"], got) == []
    assert got["ID"] == str(lid) and got["OPPORTUNITY"] == "0.00" and got["STATUS_SEMANTIC_ID"] == "P"
    assert got["PHONE"][0]["TYPE_ID"] == "PHONE" and got["IM"][0]["VALUE_TYPE"] == "OPENLINE"


def test_deal_get_and_list_have_the_real_shape(h: Harness) -> None:
    h.call("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "1721244482250", "USER_TYPE_ID": "string"}})
    did = h.call("crm.deal.add", {"fields": {"TITLE": "New Deal #1", "TYPE_ID": "COMPLEX", "STAGE_ID": "PREPARATION",
                                             "PROBABILITY": 99, "CURRENCY_ID": "EUR", "OPPORTUNITY": 1000000,
                                             "COMPANY_ID": 9, "CONTACT_ID": 84, "COMMENTS": "x",
                                             "UF_CRM_1721244482250": "Hello world!", "PARENT_ID_1220": 22}})
    got = h.call("crm.deal.get", {"id": did})
    assert shape_diff(fixture("crm_deal_get_response.json")["result"], got) == []
    assert got["UF_CRM_1721244482250"] == "Hello world!" and got["PARENT_ID_1220"] == "22"
    assert got["IS_MANUAL_OPPORTUNITY"] == "Y" and got["CONTACT_ID"] == "84"
    page = h.call("crm.deal.list", {"select": ["ID", "TITLE", "TYPE_ID", "CATEGORY_ID", "STAGE_ID", "OPPORTUNITY",
                                               "IS_MANUAL_OPPORTUNITY", "ASSIGNED_BY_ID", "DATE_CREATE"]})
    exp = fixture("crm_deal_list_response.json")
    assert sorted(page.items[0]) == sorted(exp["result"][0]) and shape_diff(exp["result"], page.items) == []
    assert page.total == 1


def test_legacy_errors(h: Harness) -> None:
    assert h.error("crm.deal.get", {"id": 999}).envelope() == {"error": "", "error_description": "Not found"}
    assert h.error("crm.deal.get", {}).envelope()["error_description"] == "ID is not defined or invalid."
    err = h.error("crm.deal.add", {"fields": "x"})
    assert err.envelope() == fixture("crm_deal_get_error.json") and err.status == 400
    err = h.error("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "X"}})
    assert err.envelope() == fixture("crm_deal_userfield_add_error.json")
    assert h.error("crm.company.add", {"fields": {}}).envelope()["error"] == ""


def test_multifield_update_semantics(h: Harness) -> None:
    cid = h.call("crm.contact.add", {"fields": {"NAME": "Анна", "PHONE": [
        {"VALUE": "111", "VALUE_TYPE": "WORK"}, {"VALUE": "222", "VALUE_TYPE": "WORK"},
        {"VALUE": "333", "VALUE_TYPE": "WORK"}, {"VALUE": "444", "VALUE_TYPE": "WORK"}]}})
    phones = h.call("crm.contact.get", {"id": cid})["PHONE"]
    ids = [int(p["ID"]) for p in phones]
    h.call("crm.contact.update", {"id": cid, "fields": {"PHONE": [{"VALUE": "55555", "VALUE_TYPE": "WORK"}]}})
    h.call("crm.contact.update", {"id": cid, "fields": {"PHONE": [{"ID": ids[0], "VALUE": "444444",
                                                                    "VALUE_TYPE": "MOBILE"}]}})
    h.call("crm.contact.update", {"id": cid, "fields": {"PHONE": [{"ID": ids[1], "DELETE": "Y"},
                                                                   {"ID": ids[2], "VALUE": ""}, {"ID": ids[3]}]}})
    got = h.call("crm.contact.get", {"id": cid})["PHONE"]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in got] == [("444444", "MOBILE"), ("55555", "WORK")]
    listed = h.call("crm.contact.list", {"select": ["ID", "PHONE"]}).items[0]
    assert listed["PHONE"][0]["TYPE_ID"] == "PHONE"
    assert "PHONE" not in h.call("crm.contact.list", {"select": ["*"]}).items[0]


def test_deal_stage_corrections_and_history(h: Harness) -> None:
    cat = h.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт", "sort": 200}})["category"]["id"]
    did = h.call("crm.deal.add", {"fields": {"TITLE": "a", "CATEGORY_ID": cat, "STAGE_ID": "WON"}})
    deal = h.call("crm.deal.get", {"id": did})
    assert deal["CATEGORY_ID"] == str(cat) and deal["STAGE_ID"] == f"C{cat}:NEW"  # foreign stage -> first
    bad = h.call("crm.deal.add", {"fields": {"TITLE": "b", "CATEGORY_ID": 777}})
    assert h.call("crm.deal.get", {"id": bad})["CATEGORY_ID"] == "0"
    h.call("crm.deal.update", {"id": did, "fields": {"STAGE_ID": "PREPARATION", "CATEGORY_ID": 0}})
    deal = h.call("crm.deal.get", {"id": did})
    assert deal["STAGE_ID"] == f"C{cat}:NEW" and deal["CATEGORY_ID"] == str(cat)
    h.call("crm.deal.update", {"id": did, "fields": {"STAGE_ID": f"C{cat}:WON"}})
    deal = h.call("crm.deal.get", {"id": did})
    assert deal["STAGE_SEMANTIC_ID"] == "S" and deal["CLOSED"] == "Y"
    hist = h.call("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"OWNER_ID": did}}).items["items"]
    assert [(x["TYPE_ID"], x["STAGE_ID"]) for x in hist] == [("1", f"C{cat}:NEW"), ("3", f"C{cat}:WON")]
    assert set(hist[0]) == {"ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME", "CATEGORY_ID", "STAGE_SEMANTIC_ID", "STAGE_ID"}
    assert ("deal", did, cat, f"C{cat}:WON") in h.portal.stages
    assert ("ONCRMDEALUPDATE", {"FIELDS": {"ID": str(did)}}) in h.portal.events


def test_lead_status_history_and_events(h: Harness) -> None:
    lid = h.call("crm.lead.add", {"fields": {"TITLE": "x", "COMPANY_ID": 3}})
    assert h.call("crm.lead.get", {"id": lid})["IS_RETURN_CUSTOMER"] == "Y"
    h.call("crm.lead.update", {"id": lid, "fields": {"STATUS_ID": "IN_PROCESS"}})
    h.call("crm.lead.update", {"id": lid, "fields": {"STATUS_ID": "JUNK"}})
    lead = h.call("crm.lead.get", {"id": lid})
    assert lead["STATUS_SEMANTIC_ID"] == "F" and lead["DATE_CLOSED"]
    hist = h.call("crm.stagehistory.list", {"entityTypeId": 1}).items["items"]
    assert [x["STATUS_ID"] for x in hist] == ["NEW", "IN_PROCESS", "JUNK"]
    assert [x["TYPE_ID"] for x in hist] == ["1", "2", "3"] and "STATUS_SEMANTIC_ID" in hist[0]
    h.call("crm.lead.delete", {"id": lid})
    names = [e[0] for e in h.portal.events]
    assert names == ["ONCRMLEADADD", "ONCRMLEADUPDATE", "ONCRMLEADUPDATE", "ONCRMLEADDELETE"]
    assert h.portal.events[0][1] == {"FIELDS": {"ID": str(lid)}}


def test_userfields_rules_and_values(h: Harness) -> None:
    fid = h.call("crm.lead.userfield.add", {"fields": {"FIELD_NAME": "uf_manager_note", "USER_TYPE_ID": "enumeration",
                                                       "LIST": [{"VALUE": "Горячий"}, {"VALUE": "Холодный"}]}})
    uf = h.call("crm.lead.userfield.get", {"id": fid})
    assert uf["FIELD_NAME"] == "UF_CRM_MANAGER_NOTE" and len(uf["LIST"]) == 2
    item_id = int(uf["LIST"][1]["ID"])
    lid = h.call("crm.lead.add", {"fields": {"TITLE": "x", "UF_CRM_MANAGER_NOTE": item_id}})
    assert h.call("crm.lead.get", {"id": lid})["UF_CRM_MANAGER_NOTE"] == str(item_id)
    assert h.call("crm.lead.list", {"filter": {"UF_CRM_MANAGER_NOTE": item_id}, "select": ["ID"]}).total == 1
    assert h.call("crm.lead.fields")["UF_CRM_MANAGER_NOTE"]["isDynamic"] is True
    for bad in ("bad-name", "X" * 60):
        assert h.error("crm.lead.userfield.add", {"fields": {"FIELD_NAME": bad, "USER_TYPE_ID": "string"}}).code == ""
    assert h.error("crm.lead.userfield.add", {"fields": {"FIELD_NAME": "MANAGER_NOTE",
                                                        "USER_TYPE_ID": "string"}}).code == ""
    assert len(h.call("crm.lead.userfield.list", {}).items) == 1


def test_lead_fields_shape() -> None:
    h = Harness()
    got = h.call("crm.lead.fields")
    for key in ("ID", "TITLE", "STATUS_ID", "PHONE", "COMPANY_ID", "CONTACT_IDS"):
        assert set(got[key]) >= {"type", "isRequired", "isReadOnly", "isImmutable", "isMultiple", "isDynamic", "title"}
    assert got["STATUS_ID"]["statusType"] == "STATUS" and got["PHONE"]["type"] == "crm_multifield"


def test_dictionaries(h: Harness) -> None:
    stages = h.call("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    assert shape_diff(fixture("crm_status_list_response_deal_stage.json")["result"], stages.items) == []
    assert [s["STATUS_ID"] for s in stages.items][-3:] == ["WON", "LOSE", "APOLOGY"]
    h.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Funnel", "sort": 50}})
    cats = h.call("crm.category.list", {"entityTypeId": 2})
    expected = fixture("crm_category_list_response.json")["result"]["categories"]
    assert shape_diff(expected[0], cats.items["categories"][0]) == []  # an added funnel
    assert sorted(cats.items["categories"][1]) == sorted(expected[-1])  # the default one: no origin keys
    assert cats.total == 2
    cid = h.call("crm.dealcategory.add", {"fields": {"NAME": "Проекты"}})
    stage_list = h.call("crm.dealcategory.stage.list", {"id": cid})
    assert stage_list[0] == {"NAME": "Новая", "SORT": 10, "STATUS_ID": f"C{cid}:NEW"}
    sid = h.call("crm.status.add", {"fields": {"ENTITY_ID": f"DEAL_STAGE_{cid}", "STATUS_ID": "CHECK",
                                               "NAME": "Проверка", "SORT": 15}})
    assert h.call("crm.status.get", {"id": sid})["STATUS_ID"] == f"C{cid}:CHECK"
    assert h.error("crm.status.delete", {"id": 1}).envelope()["error"] == ""


def test_duplicates_normalize_phones(h: Harness) -> None:
    lid = h.call("crm.lead.add", {"fields": {"TITLE": "a", "PHONE": [{"VALUE": "8 (912) 345-67-89"}],
                                             "EMAIL": [{"VALUE": "Ivan@Example.ru"}]}})
    cid = h.call("crm.contact.add", {"fields": {"NAME": "b", "PHONE": [{"VALUE": "+7 912 345 67 89"}]}})
    got = h.call("crm.duplicate.findbycomm", {"type": "PHONE", "values": ["79123456789"]})
    assert got == {"LEAD": [lid], "CONTACT": [cid]}
    assert h.call("crm.duplicate.findbycomm", {"type": "EMAIL", "values": ["ivan@example.ru"],
                                               "entity_type": "LEAD"}) == {"LEAD": [lid]}
    assert h.call("crm.duplicate.findbycomm", {"type": "PHONE", "values": ["000"]}) == {}
    assert h.error("crm.duplicate.findbycomm", {"values": ["1"]}).envelope()["error"] == ""
    assert h.error("crm.duplicate.findbycomm", {"type": "PHONE", "values": [str(i) for i in range(21)]}).code == ""


def test_productrows_recompute_opportunity(h: Harness) -> None:
    pid = h.call("crm.product.add", {"fields": {"NAME": "Арматура", "PRICE": 100}})
    did = h.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    h.call("crm.deal.productrows.set", {"id": did, "rows": [
        {"PRODUCT_ID": pid, "PRICE": 120, "QUANTITY": 3, "TAX_RATE": 20, "TAX_INCLUDED": "Y"},
        {"PRODUCT_NAME": "Доставка", "PRICE": 500, "QUANTITY": 1}]})
    rows = h.call("crm.deal.productrows.get", {"id": did})
    assert rows[0]["PRODUCT_NAME"] == "Арматура" and rows[0]["PRICE_EXCLUSIVE"] == 100.0
    deal = h.call("crm.deal.get", {"id": did})
    assert deal["OPPORTUNITY"] == "860.00" and deal["TAX_VALUE"] == "60.00"
    manual = h.call("crm.deal.add", {"fields": {"TITLE": "m", "OPPORTUNITY": 5}})
    h.call("crm.deal.productrows.set", {"id": manual, "rows": [{"PRODUCT_NAME": "a", "PRICE": 10, "QUANTITY": 1}]})
    assert h.call("crm.deal.get", {"id": manual})["OPPORTUNITY"] == "5.00"
    assert h.call("crm.product.get", {"id": pid})["PRICE"] == "100.00"


def test_requisites_bankdetails_addresses(h: Harness) -> None:
    co = h.call("crm.company.add", {"fields": {"TITLE": "ООО Ромашка"}})
    assert h.error("crm.requisite.add", {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": co, "PRESET_ID": 9,
                                                    "NAME": "x"}}).code == ""
    rq = h.call("crm.requisite.add", {"fields": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": co, "PRESET_ID": 1, "NAME": "ООО",
                                                 "RQ_INN": "7707083893", "RQ_KPP": "773601001"}})
    got = h.call("crm.requisite.get", {"id": rq})
    assert got["RQ_INN"] == "7707083893" and got["ENTITY_ID"] == str(co) and got["PRESET_ID"] == "1"
    bd = h.call("crm.requisite.bankdetail.add", {"fields": {"ENTITY_ID": rq, "NAME": "Счёт", "RQ_BIK": "044525225",
                                                            "RQ_ACC_NUM": "40702810938000000001"}})
    assert h.call("crm.requisite.bankdetail.list", {"filter": {"ENTITY_ID": rq}}).items[0]["ID"] == str(bd)
    assert h.call("crm.address.add", {"fields": {"TYPE_ID": 6, "ENTITY_TYPE_ID": 8, "ENTITY_ID": rq,
                                                 "ADDRESS_1": "ул. Ленина, 1", "CITY": "Челябинск"}}) is True
    addr = h.call("crm.address.list", {"filter": {"ENTITY_ID": rq}})
    assert addr.total is None and addr.next is None and addr.items[0]["CITY"] == "Челябинск"
    assert len(h.call("crm.requisite.preset.list").items) == 3
    h.call("crm.company.delete", {"id": co})
    assert h.call("crm.requisite.list", {}).total == 0


def test_timeline_and_activities(h: Harness) -> None:
    did = h.call("crm.deal.add", {"fields": {"TITLE": "x"}})
    err = h.error("crm.timeline.comment.add", {"FIELDS": {"ENTITY_ID": did, "ENTITY_TYPE": "deal", "COMMENT": "a"}})
    assert err.code == ""
    cid = h.call("crm.timeline.comment.add", {"fields": {"ENTITY_ID": did, "ENTITY_TYPE": "deal", "COMMENT": "Привет",
                                                         "FILES": [["a.txt", "aGVsbG8="]]}})
    got = h.call("crm.timeline.comment.get", {"id": cid})
    assert got["COMMENT"] == "Привет" and len(got["FILES"]) == 1
    assert h.call("crm.timeline.comment.list", {"filter": {"ENTITY_ID": did, "ENTITY_TYPE": "deal"}}).total == 1
    todo = h.call("crm.activity.todo.add", {"ownerTypeId": 2, "ownerId": did, "deadline": "2026-10-06T10:00:00+03:00",
                                            "title": "Позвонить"})
    assert set(todo) == set(fixture("crm_activity_todo_add_response.json")["result"])
    assert h.error("crm.activity.todo.add", {"ownerTypeId": 2, "ownerId": did}).code == "100"
    aid = h.call("crm.activity.add", {"fields": {"OWNER_TYPE_ID": 2, "OWNER_ID": did, "TYPE_ID": 2, "SUBJECT": "Звонок",
                                                 "COMMUNICATIONS": [{"VALUE": "+79120000000"}]}})
    h.call("crm.activity.update", {"id": aid, "fields": {"COMPLETED": "Y"}})
    assert h.call("crm.activity.get", {"id": aid})["COMPLETED"] == "Y"
    assert h.call("crm.activity.list", {"filter": {"OWNER_ID": did}}).total == 2
    assert h.error("crm.activity.add", {"fields": {"OWNER_TYPE_ID": 2, "OWNER_ID": did, "TYPE_ID": 3}}).code == ""
