"""Handler-level tests of crm.item, tasks, users, timeman, notifications, disk and the seed loader."""

from __future__ import annotations

import base64
import time

import pytest

from b24sandbox.portal.methods import crm_item, disk, im, seed

from .harness import Harness
from .shapes import fixture, shape_diff


@pytest.fixture()
def h() -> Harness:
    return Harness()


def test_crm_item_deal_shape_and_same_data_as_legacy(h: Harness) -> None:
    h.call("crm.deal.userfield.add", {"fields": {"FIELD_NAME": "1721244707107", "USER_TYPE_ID": "double"}})
    item = h.call("crm.item.add", {"entityTypeId": 2, "fields": {"title": "New deal", "opportunity": 999.99,
                                                                 "contactIds": [4, 5], "companyId": 5,
                                                                 "ufCrm_1721244707107": 1111.1, "parentId1220": 2}})
    exp = fixture("crm_item_add_response_deal.json")["result"]["item"]
    ignore = {"dateCreateShort", "dateModifyShort", "productId", "begindateShort", "closedateShort", "eventDate",
              "eventDateShort", "eventId", "eventDescription", "webformId", "searchContent", "orderStage", "isWork",
              "isWon", "isLose", "receivedAmount", "lostAmount", "hasProducts"}
    assert shape_diff(exp, item["item"], ignore=ignore) == []
    got = item["item"]
    assert got["ufCrm_1721244707107"] == 1111.1 and got["contactIds"] == [4, 5] and got["parentId1220"] == 2
    legacy = h.call("crm.deal.get", {"id": got["id"]})
    assert legacy["TITLE"] == "New deal" and legacy["CONTACT_ID"] == "4" and legacy["OPPORTUNITY"] == "999.99"
    assert [e[0] for e in h.portal.events] == ["ONCRMDEALUSERFIELDADD", "ONCRMDEALADD"]


def test_crm_item_lead_get_and_list_shapes(h: Harness) -> None:
    lid = h.call("crm.lead.add", {"fields": {"TITLE": "Lead", "NAME": "Admin", "OPPORTUNITY": 999.9,
                                             "PHONE": [{"VALUE": "+6111111111"}], "EMAIL": [{"VALUE": "a@b.c"}]}})
    got = h.call("crm.item.get", {"entityTypeId": 1, "id": lid})["item"]
    exp = fixture("crm_item_get_response.json")["result"]["item"]
    keys = {"id", "createdTime", "updatedTime", "createdBy", "updatedBy", "assignedById", "opened", "companyId",
            "contactId", "stageId", "stageSemanticId", "opportunity", "currencyId", "sourceId", "title", "name",
            "lastName", "comments", "isReturnCustomer", "isManualOpportunity", "movedBy", "movedTime", "fm",
            "observers", "contactIds", "entityTypeId", "hasPhone", "hasEmail", "birthdate", "utmSource"}
    assert shape_diff({k: exp[k] for k in keys}, got) == []
    assert got["stageId"] == "NEW" and got["fm"][0]["typeId"] == "PHONE" and got["companyId"] == 0
    page = h.call("crm.item.list", {"entityTypeId": 1, "select": ["id", "assignedById", "stageId", "opportunity",
                                                                  "sourceId", "title", "name", "lastName",
                                                                  "isManualOpportunity"]})
    exp_list = fixture("crm_item_list_response.json")
    assert list(page.items) == ["items"] and sorted(page.items["items"][0]) == sorted(exp_list["result"]["items"][0])
    assert shape_diff(exp_list["result"]["items"][0], page.items["items"][0]) == []
    err = h.error("crm.item.list", {"entityTypeId": 1, "filter": {"NOPE": 1}})
    assert err.code == "INVALID_ARG_VALUE"
    assert h.error("crm.item.add", {"entityTypeId": 128}).envelope() == fixture("crm_item_add_error.json")


def test_crm_item_moves_deal_funnel(h: Harness) -> None:
    cat = h.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "B"}})["category"]["id"]
    item = h.call("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x"}})["item"]
    moved = h.call("crm.item.update", {"entityTypeId": 2, "id": item["id"], "fields": {"categoryId": cat}})["item"]
    assert moved["categoryId"] == cat and moved["stageId"] == f"C{cat}:NEW"
    assert ("ONCRMDEALMOVETOCATEGORY", {"FIELDS": {"ID": str(item["id"]), "CATEGORY_ID": str(cat),
                                                   "STAGE_ID": f"C{cat}:NEW"}}) in h.portal.events
    assert h.error("crm.item.update", {"entityTypeId": 2, "id": item["id"],
                                       "fields": {"stageId": "WON"}}).code == "CRM_FIELD_ERROR_VALUE_NOT_VALID"
    assert h.error("crm.item.get", {"entityTypeId": 2, "id": 999}).envelope()["error"] == "NOT_FOUND"


def test_smart_invoice(h: Harness) -> None:
    did = h.call("crm.deal.add", {"fields": {"TITLE": "d"}})
    inv = h.call("crm.item.add", {"entityTypeId": 31, "fields": {"title": "Счёт", "opportunity": 1200,
                                                                 "parentId2": did, "accountNumber": "MP-1"}})["item"]
    cat = inv["categoryId"]
    assert inv["stageId"] == f"DT31_{cat}:N" and inv["accountNumber"] == "MP-1" and inv["parentId2"] == did
    upd = h.call("crm.item.update", {"entityTypeId": 31, "id": inv["id"], "fields": {"stageId": f"DT31_{cat}:P"}})
    assert upd["item"]["stageId"] == f"DT31_{cat}:P" and upd["item"]["previousStageId"] == f"DT31_{cat}:N"
    names = [e[0] for e in h.portal.events if "DYNAMIC" in e[0]]
    assert names == ["ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_31", "ONCRMDYNAMICITEMUPDATE",
                     "ONCRMDYNAMICITEMUPDATE_31"]
    assert h.portal.events[-1][1] == {"FIELDS": {"ID": str(inv["id"]), "ENTITY_TYPE_ID": "31"}}
    hist = h.call("crm.stagehistory.list", {"entityTypeId": 31}).items["items"]
    assert [x["TYPE_ID"] for x in hist] == ["1", "3"]
    listed = h.call("crm.item.list", {"entityTypeId": 31, "filter": {"parentId2": did}})
    assert listed.total == 1 and listed.items["items"][0]["id"] == inv["id"]
    cats = h.call("crm.category.list", {"entityTypeId": 31}).items["categories"]
    assert cats[0]["entityTypeId"] == 31


def test_tasks_shape_binding_and_events(h: Harness) -> None:
    did = h.call("crm.deal.add", {"fields": {"TITLE": "d"}})
    task = h.call("tasks.task.add", {"fields": {"TITLE": "task for test", "RESPONSIBLE_ID": 1,
                                                "UF_CRM_TASK": [f"D_{did}"], "DEADLINE": "2026-10-09T18:00:00+03:00",
                                                "ACCOMPLICES": [1], "TASK_CONTROL": "Y"}})
    exp = fixture("tasks_task_add_response.json")["result"]
    assert shape_diff(exp, task, ignore={"checkListTree", "checkListCanAdd", "accomplicesData", "auditorsData"}) == []
    t = task["task"]
    assert t["status"] == "2" and t["priority"] == "1" and t["deadline"] == "2026-10-09T18:00:00+03:00"
    acts = h.call("crm.activity.list", {"filter": {"OWNER_ID": did, "TYPE_ID": 3}})
    assert acts.total == 1 and acts.items[0]["ASSOCIATED_ENTITY_ID"] == t["id"]
    sel = h.call("tasks.task.get", {"taskId": t["id"], "select": ["ID", "TITLE", "UF_CRM_TASK"]})["task"]
    assert sel == {"id": t["id"], "title": "task for test", "ufCrmTask": [f"D_{did}"]}
    h.call("tasks.task.start", {"taskId": t["id"]})
    done = h.call("tasks.task.complete", {"taskId": t["id"]})["task"]
    assert done["status"] == "5" and done["closedDate"]  # the creator completes: no control step
    listed = h.call("tasks.task.list", {"filter": {"RESPONSIBLE_ID": 1, "STATUS": 5}, "select": ["ID", "STATUS"]})
    assert listed.total == 1 and listed.items == {"tasks": [{"id": t["id"], "status": "5"}]}
    assert h.call("tasks.task.delete", {"taskId": t["id"]}) == {"task": True}
    names = [e for e in h.portal.events if e[0].startswith("ONTASK")]
    assert names[0] == ("ONTASKADD", fixture("event_ontaskadd.json")["data"] | {"FIELDS_AFTER": {"ID": int(t["id"])}})
    assert names[-1][1]["FIELDS_AFTER"] == "undefined" and names[-1][0] == "ONTASKDELETE"
    err = h.error("tasks.task.add", {"fields": {"RESPONSIBLE_ID": 1}})
    assert err.envelope() == fixture("tasks_task_add_error.json")


def test_task_control_and_checklist(h: Harness) -> None:
    h.call("user.add", {"EMAIL": "m@metal.ru", "NAME": "Иван"})
    task = h.call("tasks.task.add", {"fields": {"TITLE": "t", "RESPONSIBLE_ID": 2, "TASK_CONTROL": "Y"}})["task"]
    from b24sandbox.portal.api import METHODS, Call

    as_responsible = Call("tasks.task.complete", {"taskId": task["id"]}, h.portal, 2, "oauth")
    assert METHODS["tasks.task.complete"].handler(as_responsible)["task"]["status"] == "4"
    assert h.call("tasks.task.approve", {"taskId": task["id"]})["task"]["status"] == "5"
    item = h.call("task.checklistitem.add", {"TASKID": task["id"], "FIELDS": {"TITLE": "Проверить"}})
    assert isinstance(item, int)
    h.call("task.checklistitem.complete", {"TASKID": task["id"], "ITEMID": item})
    assert h.call("task.checklistitem.getlist", {"TASKID": task["id"]})[0]["IS_COMPLETE"] == "Y"
    assert h.error("task.checklistitem.add", {"TASKID": 999, "FIELDS": {"TITLE": "x"}}).envelope() == \
        fixture("task_checklistitem_add_error.json")


def test_users_departments_absence_timeman(h: Harness) -> None:
    uid = h.call("user.add", {"EMAIL": "z@metal.ru", "NAME": "Софья", "LAST_NAME": "Зуева", "UF_DEPARTMENT": [1]})
    got = h.call("user.get", {"ID": uid})
    exp = fixture("user_get_response.json")
    assert shape_diff(exp["result"][0], got.items[0]) == [] and got.total == 1
    h.call("user.update", {"ID": uid, "ACTIVE": "N"})
    assert h.call("user.get", {"FILTER": {"ACTIVE": "false"}, "sort": "ID", "order": "DESC"}).items[0]["ID"] == "1"
    assert h.call("user.get", {"ACTIVE": "N"}).items[0]["ID"] == str(uid)
    assert h.call("user.get", {"NAME": "Никто"}) == []
    assert h.call("user.admin") is True
    assert shape_diff(fixture("profile_response.json")["result"], h.call("profile")) == []
    dep = h.call("department.add", {"NAME": "Отдел продаж", "PARENT": 1, "UF_HEAD": uid})
    deps = h.call("department.get", {"ID": dep})
    assert deps.items == [{"ID": str(dep), "NAME": "Отдел продаж", "SORT": 500, "PARENT": "1", "UF_HEAD": str(uid)}]
    from b24sandbox.portal.methods import users

    users.add_absence(h.portal, uid, "2026-10-01", "2026-10-09", "vacation")
    acc = h.call("calendar.accessibility.get", {"users": [uid, 1], "from": "2026-10-05", "to": "2026-10-06"})
    assert acc[str(uid)][0]["ACCESSIBILITY"] == "absent" and acc["1"] == []
    assert h.call("im.user.get", {"ID": uid})["absent"].startswith("2026-10-09")
    assert h.call("im.user.get", {"ID": 1})["absent"] is False
    status = h.call("timeman.status", {"USER_ID": 1})
    assert shape_diff(fixture("timeman_status_response.json")["result"], h.call("timeman.open")) == []
    assert status["STATUS"] == "CLOSED" and h.call("timeman.pause")["STATUS"] == "PAUSED"
    assert h.error("timeman.pause").code == "WORKDAY_PAUSE_ERROR"
    assert h.call("timeman.close")["STATUS"] == "CLOSED"


def test_notifications_tag_replaces(h: Harness) -> None:
    first = h.call("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "Новый лид", "TAG": "lead-1"})
    assert isinstance(first, int)
    h.call("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "Лид обновлён", "TAG": "lead-1"})
    h.call("im.notify.personal.add", {"USER_ID": 1, "MESSAGE": "Привет"})
    rows = [im.notification_out(r) for r in im.notifications(h.portal).values()]
    assert [(r["message"], r["kind"], r["author"]) for r in rows] == [("Лид обновлён", "system", None),
                                                                       ("Привет", "personal", 1)]
    assert h.error("im.notify.system.add", {"MESSAGE": "x"}).envelope() == fixture("im_notify_system_add_error.json")


def test_disk_upload_and_bytes(h: Harness) -> None:
    storage = h.call("disk.storage.getforapp")
    folder = h.call("disk.folder.addsubfolder", {"id": storage["ROOT_OBJECT_ID"], "data": {"NAME": "Договоры"}})
    up = h.call("disk.folder.uploadfile", {"id": folder["ID"], "data": {"NAME": "test.png"},
                                           "fileContent": ["test.png", base64.b64encode(b"PNGDATA").decode()]})
    assert shape_diff(fixture("disk_folder_uploadfile_response.json")["result"], up) == []
    assert disk.read_bytes(h.portal, up["ID"]) == b"PNGDATA"
    assert h.call("disk.file.get", {"id": up["ID"]})["SIZE"] == "7"
    assert [c["NAME"] for c in h.call("disk.folder.getchildren", {"id": folder["ID"]})] == ["test.png"]
    two_step = h.call("disk.folder.uploadfile", {"id": folder["ID"], "data": {"NAME": "b.txt"}})
    assert two_step["field"] == "file" and "/upload/" in two_step["uploadUrl"]
    assert h.error("disk.folder.uploadfile", {"id": 999}).code == "ERROR_NOT_FOUND"


def test_metalprom_seed_and_generator_speed() -> None:
    started = time.monotonic()
    h = Harness("metalprom")
    assert time.monotonic() - started < 5
    leads = h.call("crm.lead.list", {"select": ["ID", "STATUS_ID"]})
    assert leads.total > 50
    for status in ("NEW", "IN_PROCESS", "JUNK", "CONVERTED"):
        assert h.call("crm.lead.list", {"filter": {"STATUS_ID": status}}).total > 0, status
    deals = h.call("crm.deal.list", {"select": ["ID", "STAGE_ID", "OPPORTUNITY"]})
    assert deals.total > 20
    first = h.call("crm.deal.productrows.get", {"id": int(deals.items[0]["ID"])})
    assert first and float(deals.items[0]["OPPORTUNITY"]) == pytest.approx(
        sum(r["PRICE"] * r["QUANTITY"] for r in first), abs=0.05)
    assert h.call("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4}}).total > 10
    hist = h.call("crm.stagehistory.list", {"entityTypeId": 2}).total
    assert hist >= deals.total
    assert any(u["WORK_POSITION"] for u in h.call("user.get", {}).items)
    started = time.monotonic()
    out = seed.generate(h.portal, {"leads": 3000, "deals": 200, "companies": 20, "rng_seed": 2})
    assert out["leads"] == 3000 and time.monotonic() - started < 10
    assert h.call("crm.lead.list", {"start": -1, "filter": {">ID": out["first_ids"]["lead"] + 2900}}).total is None
    assert crm_item is not None
