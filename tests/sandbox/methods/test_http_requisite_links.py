"""crm.requisite.link.* over real HTTP: the seeded links of the МеталПром demo, the shapes of the
platform's documentation, every check of ``EntityLink::checkConsistence`` with its text, and what
deleting a deal, an invoice, a requisite or a bank detail does to the links."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from b24sandbox.seed import metalprom
from b24sandbox.server import serve_in_thread

from .shapes import shape_diff

_N = itertools.count(1)
# response examples of apidocs.bitrix24.ru (crm-requisite-link-get.md / -list.md): the request's
# entityTypeId/entityId come back as integers, the chosen ids as strings; list items are all strings
DOC_GET = {"ENTITY_TYPE_ID": 31, "ENTITY_ID": 315, "REQUISITE_ID": "60", "BANK_DETAIL_ID": "24",
           "MC_REQUISITE_ID": "2", "MC_BANK_DETAIL_ID": "2"}
DOC_LIST_ITEM = {"ENTITY_TYPE_ID": "7", "ENTITY_ID": "4", "REQUISITE_ID": "7", "BANK_DETAIL_ID": "0",
                 "MC_REQUISITE_ID": "2", "MC_BANK_DETAIL_ID": "2"}


class Hook:
    def __init__(self, url: str) -> None:
        self.url = url

    def raw(self, method: str, params: dict[str, Any] | None = None) -> requests.Response:
        return requests.post(self.url + method, json=params or {}, timeout=30)

    def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        r = self.raw(method, params)
        assert r.status_code == 200, (method, r.text)
        return r.json()

    def result(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.call(method, params)["result"]

    def error(self, method: str, params: dict[str, Any] | None = None) -> str:
        r = self.raw(method, params)
        body = r.json()
        assert r.status_code == 400 and body["error"] == "", (method, r.status_code, body)
        return body["error_description"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = serve_in_thread(tmp_path_factory.mktemp("links"))
    try:
        yield srv
    finally:
        srv.stop()


def portal(server: Any, seed: str) -> Hook:
    info = requests.post(f"{server.url}/_sandbox/portals",
                         json={"domain": f"l{next(_N)}-{seed}.bitrix24.ru", "seed": seed}, timeout=30).json()
    made = requests.post(f"{server.url}/_sandbox/portals/{info['member_id']}/webhooks", json={"user_id": 1},
                         timeout=10).json()
    # many small calls in a row: the leaky bucket is not what these tests are about
    requests.put(f"{server.url}/_sandbox/portals/{info['member_id']}/limits", json={"enabled": False}, timeout=10)
    return Hook(made["url"])


def link(etid: int, eid: int, rq: int = 0, bd: int = 0, mrq: int = 0, mbd: int = 0) -> dict[str, Any]:
    return {"fields": {"ENTITY_TYPE_ID": etid, "ENTITY_ID": eid, "REQUISITE_ID": rq, "BANK_DETAIL_ID": bd,
                       "MC_REQUISITE_ID": mrq, "MC_BANK_DETAIL_ID": mbd}}


def test_metalprom_seed_registers_client_and_legal_entity_requisites(server: Any) -> None:
    hook = portal(server, "metalprom")
    # the seed is built for the portal's date (Moscow), which near midnight UTC is already tomorrow
    unix = requests.get(f"{server.url}/_sandbox/clock", timeout=10).json()["unix"]
    data = metalprom.build(1, today=dt.datetime.fromtimestamp(unix, dt.timezone(dt.timedelta(hours=3))).date())
    companies = {c["ID"]: c for c in data["companies"]}
    with_requisites = [d for d in data["deals"] if d.get("COMPANY_ID") and companies[d["COMPANY_ID"]].get("requisites")]
    without = [d for d in data["deals"] if d not in with_requisites]
    assert with_requisites and without  # the demo has both kinds
    listed = hook.call("crm.requisite.link.list", {"filter": {"ENTITY_TYPE_ID": 2}, "start": -1})
    first_page = hook.call("crm.requisite.link.list", {"filter": {"ENTITY_TYPE_ID": 2}})
    assert first_page["total"] == len(with_requisites) and len(first_page["result"]) == 50
    assert first_page["next"] == 50 and "total" not in listed
    for deal in with_requisites[:12] + with_requisites[-3:]:
        got = hook.result("crm.requisite.link.get", {"entityTypeId": 2, "entityId": deal["ID"]})
        req = hook.result("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": deal["COMPANY_ID"]},
                                                 "order": {"SORT": "ASC", "ID": "ASC"}})[0]
        bank = hook.result("crm.requisite.bankdetail.list", {"filter": {"ENTITY_ID": req["ID"]},
                                                             "order": {"ID": "ASC"}})[0]
        my = hook.result("crm.item.get", {"entityTypeId": 2, "id": deal["ID"]})["item"]["mycompanyId"]
        assert my == deal["MYCOMPANY_ID"]
        my_req = hook.result("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": my}})[0]
        my_bank = hook.result("crm.requisite.bankdetail.list", {"filter": {"ENTITY_ID": my_req["ID"]}})[0]
        assert got == {"ENTITY_TYPE_ID": 2, "ENTITY_ID": deal["ID"], "REQUISITE_ID": req["ID"],
                       "BANK_DETAIL_ID": bank["ID"], "MC_REQUISITE_ID": my_req["ID"],
                       "MC_BANK_DETAIL_ID": my_bank["ID"]}
        assert shape_diff(DOC_GET, got) == []
    for deal in without:
        assert hook.error("crm.requisite.link.get", {"entityTypeId": 2, "entityId": deal["ID"]}) == "Not found"
    invoices = hook.call("crm.requisite.link.list", {"filter": {"ENTITY_TYPE_ID": 31}, "order": {"ENTITY_ID": "DESC"}})
    assert invoices["total"] == len(data["smart_invoices"])
    assert [int(i["ENTITY_ID"]) for i in invoices["result"]] == sorted((i["ID"] for i in data["smart_invoices"]),
                                                                       reverse=True)
    assert all(shape_diff(DOC_LIST_ITEM, item) == [] for item in invoices["result"])
    one = data["smart_invoices"][0]
    row = hook.result("crm.requisite.link.get", {"entityTypeId": 31, "entityId": one["ID"]})
    owner = hook.result("crm.requisite.get", {"id": row["REQUISITE_ID"]})
    mc_owner = hook.result("crm.requisite.get", {"id": row["MC_REQUISITE_ID"]})
    assert int(owner["ENTITY_ID"]) == one["companyId"] and int(mc_owner["ENTITY_ID"]) == one["mycompanyId"]
    picked = hook.result("crm.requisite.link.list", {"filter": {"ENTITY_TYPE_ID": 31, "ENTITY_ID": one["ID"]},
                                                     "select": ["ENTITY_ID", "REQUISITE_ID"]})
    assert picked == [{"ENTITY_ID": str(one["ID"]), "REQUISITE_ID": row["REQUISITE_ID"]}]


@pytest.fixture()
def crm(server: Any) -> dict[str, Any]:
    """An empty portal with a client company (two requisites), a contact with a requisite, our company
    (IS_MY_COMPANY) with a requisite and a bank detail, a deal with both and one without our company."""
    hook = portal(server, "empty")
    ids: dict[str, Any] = {"hook": hook}
    ids["client"] = hook.result("crm.company.add", {"fields": {"TITLE": "ООО «Заказчик»"}})
    ids["other"] = hook.result("crm.company.add", {"fields": {"TITLE": "ООО «Чужая»"}})
    ids["my"] = hook.result("crm.company.add", {"fields": {"TITLE": "ООО «МеталПром»", "IS_MY_COMPANY": "Y"}})
    ids["contact"] = hook.result("crm.contact.add", {"fields": {"NAME": "Иван", "LAST_NAME": "Петров"}})

    def requisite(etid: int, owner: int, name: str) -> int:
        return hook.result("crm.requisite.add", {"fields": {"ENTITY_TYPE_ID": etid, "ENTITY_ID": owner,
                                                            "PRESET_ID": 1, "NAME": name}})

    def bank(rq: int) -> int:
        return hook.result("crm.requisite.bankdetail.add", {"fields": {"ENTITY_ID": rq, "NAME": "Счёт",
                                                                       "RQ_BIK": "044525225"}})

    ids["rq"], ids["rq2"] = requisite(4, ids["client"], "Основной"), requisite(4, ids["client"], "Второй")
    ids["bd"], ids["bd2"] = bank(ids["rq"]), bank(ids["rq2"])
    ids["rq_other"] = requisite(4, ids["other"], "Чужой")
    ids["rq_contact"] = requisite(3, ids["contact"], "Паспорт")
    ids["mrq"] = requisite(4, ids["my"], "Наши")
    ids["mbd"] = bank(ids["mrq"])
    ids["deal"] = hook.result("crm.item.add", {"entityTypeId": 2, "fields": {
        "title": "Поставка", "companyId": ids["client"], "mycompanyId": ids["my"]}})["item"]["id"]
    ids["bare"] = hook.result("crm.deal.add", {"fields": {"TITLE": "Без клиента"}})
    ids["no_my"] = hook.result("crm.deal.add", {"fields": {"TITLE": "Без нашей", "COMPANY_ID": ids["client"]}})
    ids["invoice"] = hook.result("crm.item.add", {"entityTypeId": 31, "fields": {
        "title": "Счёт", "contactId": ids["contact"], "mycompanyId": ids["my"]}})["item"]["id"]
    return ids


def test_register_checks_and_texts(crm: dict[str, Any]) -> None:
    h, d = crm["hook"], crm["deal"]
    assert h.error("crm.requisite.link.register", {}) == "Parameter 'fields' must be array."
    assert h.error("crm.requisite.link.register", link(0, d)) == "ENTITY_TYPE_ID is not defined or invalid."
    assert h.error("crm.requisite.link.register", link(2, 0)) == "ENTITY_ID is not defined or invalid."
    missing = link(2, d)
    del missing["fields"]["BANK_DETAIL_ID"]
    assert h.error("crm.requisite.link.register", missing) == "BANK_DETAIL_ID is not defined or invalid."
    assert h.error("crm.requisite.link.register", link(2, d, rq=-1)) == "REQUISITE_ID is not defined or invalid."
    assert h.error("crm.requisite.link.register", link(1, d)) == "Entity type is not defined or invalid."
    assert h.error("crm.requisite.link.register", link(2, 9999)) == "Entity is not found"
    assert h.error("crm.requisite.link.register", link(2, d, rq=9999)) == "The Requisite with ID '9999' is not found."
    assert h.error("crm.requisite.link.register", link(2, d, rq=crm["rq_other"])) == \
        f"The Requisite with ID '{crm['rq_other']}' is not assigned to Company with ID '{crm['client']}'."
    assert h.error("crm.requisite.link.register", link(2, crm["bare"], rq=crm["rq"])) == \
        f"Requisite with ID '{crm['rq']}' can not be tied to the Deal in which the client is not selected."
    assert h.error("crm.requisite.link.register", link(2, d, bd=crm["bd"])) == \
        "The BankDetail can not be assigned without Requisite."
    assert h.error("crm.requisite.link.register", link(2, d, rq=crm["rq"], bd=crm["bd2"])) == \
        f"The BankDetail with ID '{crm['bd2']}' is not assigned to Requisite with ID '{crm['rq']}'."
    assert h.error("crm.requisite.link.register", link(2, d, rq=crm["rq"], bd=9999)) == \
        "The BankDetail with ID '9999' is not found."
    # the platform's text names the client requisite id here, not the "my company" one
    assert h.error("crm.requisite.link.register", link(2, crm["no_my"], rq=crm["rq"], mrq=crm["mrq"])) == \
        f"Requisite of your company with ID '{crm['rq']}' can not be tied to the Deal in which your company " \
        "is not selected."
    assert h.error("crm.requisite.link.register", link(2, d, mrq=crm["rq"])) == \
        f"The Requisite with ID '{crm['rq']}' is not assigned to your company with ID '{crm['my']}'."
    assert h.error("crm.requisite.link.register", link(2, d, mrq=9999)) == \
        "The Requisite of your company with ID '9999' is not found."
    assert h.error("crm.requisite.link.register", link(2, d, mbd=crm["mbd"])) == \
        "The BankDetail of your company can not be assigned without Requisite of your company."
    assert h.error("crm.requisite.link.register", link(2, d, mrq=crm["mrq"], mbd=crm["bd"])) == \
        f"The BankDetail of your company with ID '{crm['bd']}' is not assigned to Requisite of your company " \
        f"with ID '{crm['mrq']}'."
    assert h.error("crm.requisite.link.get", {"entityTypeId": 2, "entityId": d}) == "Not found"  # nothing stored
    assert h.error("crm.requisite.link.get", {"entityTypeId": "x", "entityId": d}) == \
        "entityTypeId is not defined or invalid."
    assert h.error("crm.requisite.link.unregister", {"entityTypeId": 2}) == "entityId is not defined or invalid."


def test_register_get_list_unregister(crm: dict[str, Any]) -> None:
    h, d = crm["hook"], crm["deal"]
    assert h.result("crm.requisite.link.register", link(2, d, crm["rq"], crm["bd"], crm["mrq"], crm["mbd"])) is True
    assert h.result("crm.requisite.link.get", {"entityTypeId": 2, "entityId": d}) == {
        "ENTITY_TYPE_ID": 2, "ENTITY_ID": d, "REQUISITE_ID": str(crm["rq"]), "BANK_DETAIL_ID": str(crm["bd"]),
        "MC_REQUISITE_ID": str(crm["mrq"]), "MC_BANK_DETAIL_ID": str(crm["mbd"])}
    # registering again replaces the choice (upsert); string ids in a form body work too
    form = {"fields[ENTITY_TYPE_ID]": "2", "fields[ENTITY_ID]": str(d), "fields[REQUISITE_ID]": str(crm["rq2"]),
            "fields[BANK_DETAIL_ID]": str(crm["bd2"]), "fields[MC_REQUISITE_ID]": "0", "fields[MC_BANK_DETAIL_ID]": "0"}
    assert requests.post(h.url + "crm.requisite.link.register", data=form, timeout=10).json()["result"] is True
    assert h.result("crm.requisite.link.get", {"entityTypeId": 2, "entityId": d})["REQUISITE_ID"] == str(crm["rq2"])
    # a contact as the client of a smart invoice; all zeros is allowed ("no requisites chosen")
    assert h.result("crm.requisite.link.register", link(31, crm["invoice"], crm["rq_contact"], 0, crm["mrq"])) is True
    assert h.result("crm.requisite.link.register", link(2, crm["bare"])) is True
    listed = h.call("crm.requisite.link.list", {"order": {"ENTITY_ID": "ASC"}, "filter": {"@ENTITY_TYPE_ID": [2, 31]}})
    assert listed["total"] == 3 and all(shape_diff(DOC_LIST_ITEM, i) == [] for i in listed["result"])
    assert h.call("crm.requisite.link.list", {"filter": {">MC_REQUISITE_ID": 0}})["result"] == [
        {"ENTITY_TYPE_ID": "31", "ENTITY_ID": str(crm["invoice"]), "REQUISITE_ID": str(crm["rq_contact"]),
         "BANK_DETAIL_ID": "0", "MC_REQUISITE_ID": str(crm["mrq"]), "MC_BANK_DETAIL_ID": "0"}]
    assert h.result("crm.requisite.link.unregister", {"entityTypeId": 2, "entityId": crm["bare"]}) is True
    assert h.error("crm.requisite.link.get", {"entityTypeId": 2, "entityId": crm["bare"]}) == "Not found"
    assert h.result("crm.requisite.link.unregister", {"entityTypeId": 2, "entityId": crm["bare"]}) is True
    fields = h.result("crm.requisite.link.fields")
    assert list(fields) == ["ENTITY_TYPE_ID", "ENTITY_ID", "REQUISITE_ID", "BANK_DETAIL_ID", "MC_REQUISITE_ID",
                            "MC_BANK_DETAIL_ID"]
    assert fields["ENTITY_ID"]["isImmutable"] is True and fields["REQUISITE_ID"]["isRequired"] is True


def test_deletions_drop_or_clear_links(crm: dict[str, Any]) -> None:
    h, d = crm["hook"], crm["deal"]
    h.result("crm.requisite.link.register", link(2, d, crm["rq"], crm["bd"], crm["mrq"], crm["mbd"]))
    h.result("crm.requisite.link.register", link(2, crm["no_my"], crm["rq"], crm["bd"]))
    h.result("crm.requisite.link.register", link(31, crm["invoice"], crm["rq_contact"], 0, crm["mrq"], crm["mbd"]))
    h.result("crm.requisite.bankdetail.delete", {"id": crm["mbd"]})
    assert h.result("crm.requisite.link.get", {"entityTypeId": 31, "entityId": crm["invoice"]})[
        "MC_BANK_DETAIL_ID"] == "0"
    h.result("crm.requisite.delete", {"id": crm["rq"]})  # unregisterByRequisite
    assert h.error("crm.requisite.link.get", {"entityTypeId": 2, "entityId": crm["no_my"]}) == "Not found"
    kept = h.result("crm.requisite.link.get", {"entityTypeId": 2, "entityId": d})
    assert (kept["REQUISITE_ID"], kept["BANK_DETAIL_ID"], kept["MC_REQUISITE_ID"]) == ("0", "0", str(crm["mrq"]))
    h.result("crm.deal.delete", {"id": d})
    assert h.error("crm.requisite.link.get", {"entityTypeId": 2, "entityId": d}) == "Not found"
    h.result("crm.item.delete", {"entityTypeId": 31, "id": crm["invoice"]})
    assert h.call("crm.requisite.link.list")["total"] == 0
