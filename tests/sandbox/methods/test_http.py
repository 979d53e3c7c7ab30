"""The business methods over real HTTP: plain requests, fast-bitrix24 and the control routes.

One sandbox server per module (port 0, stopped at the end); each test makes its own portal."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fast_bitrix24 import Bitrix

from b24sandbox.server import serve_in_thread

from .shapes import fixture, shape_diff

_N = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = serve_in_thread(tmp_path_factory.mktemp("sandbox"))
    try:
        yield srv
    finally:
        srv.stop()


class Portal:
    def __init__(self, server: Any, seed: str) -> None:
        self.server = server
        r = requests.post(f"{server.url}/_sandbox/portals",
                          json={"domain": f"p{next(_N)}-{seed}.bitrix24.ru", "seed": seed}, timeout=30)
        assert r.status_code in (200, 201), r.text
        self.info = r.json()
        self.member_id = self.info["member_id"]
        hook = requests.post(f"{server.url}/_sandbox/portals/{self.member_id}/webhooks", json={"user_id": 1},
                             timeout=10)
        self.hook = hook.json()["url"]

    def raw(self, method: str, params: dict[str, Any] | None = None) -> requests.Response:
        return requests.post(self.hook + method, json=params or {}, timeout=30)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        r = self.raw(method, params)
        assert r.status_code == 200, (method, r.status_code, r.text)
        return r.json()

    def control(self, verb: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(verb, f"{self.server.url}/_sandbox/portals/{self.member_id}{path}", json=body,
                                timeout=60)


@pytest.fixture()
def empty(server: Any) -> Portal:
    return Portal(server, "empty")


@pytest.fixture(scope="module")
def metalprom(server: Any) -> Portal:
    return Portal(server, "metalprom")


def test_lead_crud_envelopes_and_form_bodies(empty: Portal) -> None:
    add = empty.call("crm.lead.add", {"fields": {"TITLE": "Заявка <сайт>", "PHONE": [{"VALUE": "8 912 000-00-01",
                                                                                       "VALUE_TYPE": "WORK"}],
                                                 "IM": [{"VALUE": "imol|livechat|1|67|21", "VALUE_TYPE": "OPENLINE"}]}})
    assert shape_diff(fixture("crm_lead_add_response.json"), add) == [] and isinstance(add["result"], int)
    got = requests.post(empty.hook + "crm.lead.get.json", data={"id": str(add["result"])}, timeout=10)
    assert got.status_code == 200 and "\\u003C" in got.text  # PHP json_encode escaping
    lead = got.json()["result"]
    assert shape_diff(fixture("crm_lead_get_response.json")["result"], lead) == []
    upd = requests.post(empty.hook + "crm.lead.update", data={"id": lead["ID"], "fields[STATUS_ID]": "IN_PROCESS",
                                                              "fields[PHONE][0][VALUE]": "+7 912 000 00 02"},
                        timeout=10).json()
    assert upd["result"] is True
    lead = empty.call("crm.lead.get", {"id": lead["ID"]})["result"]
    assert lead["STATUS_ID"] == "IN_PROCESS" and len(lead["PHONE"]) == 2
    err = empty.raw("crm.lead.get", {"id": 999999})
    assert err.status_code == 400 and err.json() == {"error": "", "error_description": "Not found"}
    err = empty.raw("crm.deal.add", {"fields": "oops"})
    assert err.status_code == 400 and err.json() == fixture("crm_deal_get_error.json")
    assert empty.call("crm.lead.delete", {"id": lead["ID"]})["result"] is True


def test_deal_funnels_history_and_events_over_http(empty: Portal) -> None:
    cat = empty.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт"}})["result"]["category"]["id"]
    did = empty.call("crm.deal.add", {"fields": {"TITLE": "Поставка", "CATEGORY_ID": cat, "STAGE_ID": "NEW"}})["result"]
    deal = empty.call("crm.deal.get", {"id": did})["result"]
    assert deal["STAGE_ID"] == f"C{cat}:NEW" and deal["CATEGORY_ID"] == str(cat)
    empty.call("crm.deal.update", {"id": did, "fields": {"CATEGORY_ID": 0, "STAGE_ID": "WON"}})
    assert empty.call("crm.deal.get", {"id": did})["result"]["STAGE_ID"] == f"C{cat}:NEW"
    moved = empty.call("crm.item.update", {"entityTypeId": 2, "id": did, "fields": {"categoryId": 0}})
    assert moved["result"]["item"]["stageId"] == "NEW" and moved["result"]["item"]["categoryId"] == 0
    empty.call("crm.deal.update", {"id": did, "fields": {"STAGE_ID": "WON"}})
    hist = empty.call("crm.stagehistory.list", {"entityTypeId": 2, "filter": {"OWNER_ID": did}})
    assert list(hist["result"]) == ["items"] and hist["total"] == 3
    assert [h["TYPE_ID"] for h in hist["result"]["items"]] == ["1", "2", "3"]
    cats = empty.call("crm.category.list", {"entityTypeId": 2})
    assert cats["total"] == 2 and list(cats["result"]) == ["categories"]


def test_fast_bitrix24_get_all_call_and_batch(empty: Portal) -> None:
    out = empty.control("POST", "/generate", {"leads": 120, "rng_seed": 3})
    assert out.status_code == 200 and out.json()["leads"] == 120
    bx = Bitrix(empty.hook, verbose=False)
    leads = bx.get_all("crm.lead.list", params={"select": ["ID", "TITLE", "PHONE"]})
    assert len(leads) == 120 and any("PHONE" in lead for lead in leads)  # only leads with phones carry PHONE
    new_id = bx.call("crm.contact.add", {"fields": {"NAME": "Пётр", "LAST_NAME": "Орлов"}})
    assert isinstance(new_id, int)
    ids = [int(x["ID"]) for x in leads[:3]]
    got = bx.get_by_ID("crm.lead.get", ids)
    assert sorted(int(k) for k in got) == sorted(ids)
    tasks = bx.call("tasks.task.add", [{"fields": {"TITLE": f"Задача {i}", "RESPONSIBLE_ID": 1}} for i in range(2)])
    assert [t["title"] for t in tasks] == ["Задача 0", "Задача 1"] and isinstance(tasks[0]["id"], str)
    page = bx.call("crm.item.list", {"entityTypeId": 1, "select": ["id", "title"], "start": 50}, raw=True)
    assert page["total"] == 120 and page["next"] == 100 and isinstance(page["result"]["items"][0]["id"], int)
    # fast-bitrix24's get_all adds order {"ID": "ASC"}: the real crm.item.list knows the UPPER_CASE
    # names of its fields (its case converter is primed with them), so the export works
    items = bx.get_all("crm.item.list", params={"entityTypeId": 1, "select": ["id"]})
    assert sorted(i["id"] for i in items) == sorted(int(x["ID"]) for x in leads)


def test_export_pattern_is_fast_on_many_rows(empty: Portal) -> None:
    out = empty.control("POST", "/generate", {"leads": 20000, "rng_seed": 5}).json()
    first = out["first_ids"]["lead"]
    started = time.monotonic()
    last, pages = first - 1, 0
    while pages < 5:
        page = empty.call("crm.lead.list", {"order": {"ID": "ASC"}, "filter": {">ID": last + 15000},
                                            "select": ["ID"], "start": -1})
        assert "total" not in page or not page["total"]
        if not page["result"]:
            break
        last = int(page["result"][-1]["ID"]) - 15000 + 50
        pages += 1
    assert time.monotonic() - started < 3
    counted = empty.call("crm.lead.list", {"select": ["ID"], "start": 19950})
    assert counted["total"] == 20000 and "next" not in counted and len(counted["result"]) == 50


def test_metalprom_seed_over_http(metalprom: Portal) -> None:
    info = metalprom.info
    assert info["admin_user_id"] == 1
    statuses = metalprom.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})["result"]
    names = [s["NAME"] for s in statuses]
    assert "Некачественный лид" in names
    for s in statuses:
        count = metalprom.call("crm.lead.list", {"filter": {"STATUS_ID": s["STATUS_ID"]}, "select": ["ID"]})["total"]
        assert count > 0, s["STATUS_ID"]
    stages = metalprom.call("crm.dealcategory.stage.list", {"id": 0})["result"]
    assert len(stages) >= 8 and stages[0]["SORT"] <= stages[1]["SORT"]
    won = metalprom.call("crm.deal.list", {"filter": {"STAGE_SEMANTIC_ID": "S"}, "select": ["ID"]})["total"]
    assert won > 0
    companies = metalprom.call("crm.company.list", {"filter": {"IS_MY_COMPANY": "N"}, "select": ["ID"]})["result"]
    req = metalprom.call("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": companies[0]["ID"]}})
    assert req["result"] and len(req["result"][0]["RQ_INN"]) in (10, 12)
    bank = metalprom.call("crm.requisite.bankdetail.list", {"filter": {"ENTITY_ID": req["result"][0]["ID"]}})
    assert bank["result"][0]["RQ_BIK"].startswith("04")
    users = metalprom.call("user.get", {"FILTER": {"ACTIVE": True}})
    assert shape_diff(fixture("user_get_response.json")["result"][0], users["result"][0]) == []
    deps = metalprom.call("department.get", {})
    assert deps["total"] >= 2 and any("UF_HEAD" in d for d in deps["result"])


def test_tasks_and_checklists_over_http(empty: Portal) -> None:
    err = empty.raw("tasks.task.add", {"fields": {"RESPONSIBLE_ID": 1}})
    assert err.status_code == 400 and err.json() == fixture("tasks_task_add_error.json")
    assert "\\u003Cbr\\u003E" in err.text
    lid = empty.call("crm.lead.add", {"fields": {"TITLE": "x"}})["result"]
    task = empty.call("tasks.task.add", {"fields": {"TITLE": "Позвонить", "RESPONSIBLE_ID": 1,
                                                    "UF_CRM_TASK": [f"L_{lid}"]}})
    assert shape_diff(fixture("tasks_task_add_response.json"), task,
                      ignore={"checkListTree", "checkListCanAdd", "time"}) == []
    tid = task["result"]["task"]["id"]
    item = empty.call("task.checklistitem.add", {"TASKID": tid, "FIELDS": {"TITLE": "Пункт"}})
    assert shape_diff(fixture("task_checklistitem_add_response.json"), item) == []
    done = empty.call("tasks.task.complete", {"taskId": tid})["result"]["task"]
    assert done["status"] == "5"
    listed = empty.call("tasks.task.list", {"filter": {"STATUS": 5}, "select": ["ID", "TITLE"]})
    assert listed["total"] == 1 and listed["result"]["tasks"][0] == {"id": tid, "title": "Позвонить"}
    acts = empty.call("crm.activity.list", {"filter": {"OWNER_TYPE_ID": 1, "OWNER_ID": lid}})
    assert acts["result"][0]["TYPE_ID"] == "3" and acts["result"][0]["COMPLETED"] == "Y"


def test_users_absence_timeman_control_routes(empty: Portal) -> None:
    r = empty.control("POST", "/users", {"NAME": "Иван", "LAST_NAME": "Иванов", "EMAIL": "ivanov@metal.ru",
                                         "WORK_POSITION": "Менеджер", "UF_DEPARTMENT": [1]})
    assert r.status_code == 201
    uid = int(r.json()["ID"])
    today = empty.call("timeman.status", {"USER_ID": uid})["result"]
    assert today["STATUS"] == "CLOSED"
    r = empty.control("PUT", f"/timeman/{uid}", {"status": "OPENED"})
    assert r.status_code == 200 and r.json()["STATUS"] == "OPENED"
    status = empty.call("timeman.status", {"USER_ID": uid})["result"]
    assert shape_diff(fixture("timeman_status_response.json")["result"], status) == [] and status["ACTIVE"] is True
    # the portal's own date (Moscow): near midnight UTC it is already the next day there
    unix = requests.get(f"{empty.server.url}/_sandbox/clock", timeout=10).json()["unix"]
    day = dt.datetime.fromtimestamp(unix, dt.timezone(dt.timedelta(hours=3))).date().isoformat()
    r = empty.control("POST", "/absences", {"user_id": uid, "date_from": day, "date_to": day, "type": "sick"})
    assert r.status_code == 201
    acc = empty.call("calendar.accessibility.get", {"users": [uid], "from": day, "to": day})["result"]
    assert acc[str(uid)][0]["ACCESSIBILITY"] == "absent"
    assert empty.call("im.user.get", {"ID": uid})["result"]["absent"] is not False
    assert empty.call("user.admin")["result"] is True
    assert shape_diff(fixture("profile_response.json")["result"], empty.call("profile")["result"]) == []
    assert empty.call("user.get", {"FILTER": {"NAME": "Никого"}}) .get("total") is None


def test_notifications_and_duplicates(empty: Portal) -> None:
    n = empty.call("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "Лид #1 без ответа", "TAG": "sla-1"})
    assert shape_diff(fixture("im_notify_system_add_response.json"), n) == []
    empty.call("im.notify.system.add", {"USER_ID": 1, "MESSAGE": "Лид #1 просрочен", "TAG": "sla-1"})
    err = empty.raw("im.notify.system.add", {"MESSAGE": "x"})
    assert err.status_code == 400 and err.json() == fixture("im_notify_system_add_error.json")
    listed = empty.control("GET", "/notifications").json()
    assert [(x["message"], x["tag"], x["kind"]) for x in listed] == [("Лид #1 просрочен", "sla-1", "system")]
    assert set(listed[0]) >= {"user_id", "message", "tag", "kind", "author", "time"}
    empty.call("crm.contact.add", {"fields": {"NAME": "Анна", "PHONE": [{"VALUE": "8 (912) 345-67-89"}]}})
    dup = empty.call("crm.duplicate.findbycomm", {"type": "PHONE", "values": ["+7 912 345 67 89"]})
    assert shape_diff(fixture("crm_duplicate_findbycomm_response.json"), dup) == []
    none = empty.call("crm.duplicate.findbycomm", {"type": "EMAIL", "values": ["no@no.ru"]})
    assert none["result"] == []


def test_disk_upload_and_download(empty: Portal) -> None:
    hook_app = empty.raw("disk.storage.getforapp")
    assert hook_app.status_code in (401, 403)  # app context only
    did = empty.call("crm.deal.add", {"fields": {"TITLE": "x"}})["result"]
    cid = empty.call("crm.timeline.comment.add", {"fields": {"ENTITY_ID": did, "ENTITY_TYPE": "deal", "COMMENT": "Счёт",
                                                             "FILES": [["a.txt", base64.b64encode(b"abc").decode()]]}})
    assert shape_diff(fixture("crm_timeline_comment_add_response.json"), cid) == []
    comment = empty.call("crm.timeline.comment.get", {"id": cid["result"]})["result"]
    file_info = next(iter(comment["FILES"].values()))
    got = requests.get(file_info["urlDownload"], timeout=10)
    assert got.status_code == 200 and got.content == b"abc"
    folder_id = empty.call("disk.file.get", {"id": file_info["id"]})["result"]["PARENT_ID"]
    up = empty.call("disk.folder.uploadfile", {"id": folder_id, "data": {"NAME": "договор.docx"},
                                               "fileContent": ["договор.docx", base64.b64encode(b"DOCX").decode()]})
    assert shape_diff(fixture("disk_folder_uploadfile_response.json"), up) == []
    assert requests.get(up["result"]["DOWNLOAD_URL"], timeout=10).content == b"DOCX"
    step = empty.call("disk.folder.uploadfile", {"id": folder_id, "data": {"NAME": "скан.pdf"}})["result"]
    posted = requests.post(step["uploadUrl"], files={step["field"]: ("скан.pdf", b"%PDF-1")}, timeout=10)
    assert posted.status_code == 200
    assert requests.get(posted.json()["result"]["DOWNLOAD_URL"], timeout=10).content == b"%PDF-1"


def test_data_survives_a_restart(tmp_path: Any) -> None:
    first = serve_in_thread(tmp_path)
    try:
        portal = Portal(first, "empty")
        lid = portal.call("crm.lead.add", {"fields": {"TITLE": "До перезапуска",
                                                      "PHONE": [{"VALUE": "+79120000001"}]}})["result"]
        portal.call("crm.lead.delete", {"id": portal.call("crm.lead.add", {"fields": {"TITLE": "x"}})["result"]})
    finally:
        first.stop()
    second = serve_in_thread(tmp_path)
    try:
        portal.server = second
        hook = requests.post(f"{second.url}/_sandbox/portals/{portal.member_id}/webhooks", json={"user_id": 1},
                             timeout=10).json()["url"]
        got = requests.post(hook + "crm.lead.get", json={"id": lid}, timeout=10).json()["result"]
        assert got["TITLE"] == "До перезапуска" and got["PHONE"][0]["VALUE"] == "+79120000001"
        new_id = requests.post(hook + "crm.lead.add", json={"fields": {"TITLE": "после"}}, timeout=10).json()["result"]
        assert new_id == lid + 2  # ids are never reused, also across restarts
        dup = requests.post(hook + "crm.duplicate.findbycomm", json={"type": "PHONE", "values": ["89120000001"]},
                            timeout=10).json()["result"]
        assert dup == {"LEAD": [lid]}
    finally:
        second.stop()
