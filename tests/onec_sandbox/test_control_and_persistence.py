"""The control API contract, portal seeding (МеталПром) and persistence of bases across a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from flask import Flask

from b24sandbox.onec import on_portal_created, on_portal_deleted, register, serve_in_thread

from .conftest import ORG, PRODUCTS, OData, basic, bp_invoice

SEED = {
    "legal_entities": [
        dict(ORG, ID=1, onec_base="mp_main", onec_profile="bp30"),
        dict(ORG, ID=2, code="MPT", name="ООО «МеталПром Трейд»", inn="6671438065", kpp="667101001",
             onec_base="mp_trade", onec_profile="ut11"),
    ],
    "companies": [
        {"ID": 1, "TITLE": "ООО «МеталПром»", "IS_MY_COMPANY": "Y", "requisites": [{"RQ_INN": "7704512345"}]},
        *[{"ID": 10 + i, "TITLE": f"ООО «Клиент {i}»", "IS_MY_COMPANY": "N",
           "requisites": [{"PRESET_ID": 1, "RQ_COMPANY_NAME": f"ООО «Клиент {i}»", "RQ_INN": f"74480{i:05d}",
                           "RQ_KPP": "744801001", "bank_details": [{"RQ_BANK_NAME": "Банк", "RQ_BIK": "047501602",
                                                                    "RQ_ACC_NUM": f"4070281000000000{i:04d}"}]}]}
          for i in range(6)],
    ],
    "products": PRODUCTS,
}


def test_portal_bases_contract_with_inline_seed(tmp_path: Path) -> None:
    srv = serve_in_thread(tmp_path)
    try:
        with srv.app.app_context():
            on_portal_created("member-abc", "metalprom.bitrix24.ru", "metalprom", data=SEED)
            on_portal_created("member-abc", "metalprom.bitrix24.ru", "metalprom", data=SEED)  # idempotent
            on_portal_created("member-empty", "x.bitrix24.ru", "empty")
        bases = requests.get(f"{srv.url}/_sandbox/portals/member-abc/onec").json()
        assert [b["name"] for b in bases] == ["mp_main", "mp_trade"]
        for b in bases:
            assert set(b) >= {"name", "odata_url", "wsdl_url", "user", "password", "profile"}
            assert b["odata_url"] == f"{srv.url}/onec/{b['name']}/odata/standard.odata/"
            assert b["wsdl_url"] == f"{srv.url}/onec/{b['name']}/ws/b24exchange.1cws?wsdl"
        assert [b["profile"] for b in bases] == ["bp30", "ut11"]
        assert requests.get(f"{srv.url}/_sandbox/portals/member-empty/onec").json() == []
        main = bases[0]
        r = requests.get(main["odata_url"] + "Catalog_Контрагенты?$format=json", headers=basic(main["user"],
                                                                                             main["password"]))
        inns_main = {c["ИНН"] for c in r.json()["value"]}
        trade = bases[1]
        r = requests.get(trade["odata_url"] + "Catalog_Контрагенты?$format=json", headers=basic(trade["user"],
                                                                                              trade["password"]))
        inns_trade = {c["ИНН"] for c in r.json()["value"]}
        clients = {f"74480{i:05d}" for i in range(6)}
        assert inns_main < clients and inns_trade < clients  # some, not all
        assert len(inns_main) == len(inns_trade) == 4 and inns_main != inns_trade
        org = requests.get(main["odata_url"] + "Catalog_Организации?$format=json",
                           headers=basic(main["user"], main["password"])).json()["value"][0]
        assert org["ИНН"] == "7704512345" and org["Префикс"] == "MP"
        prods = requests.get(trade["odata_url"] + "Catalog_Номенклатура?$format=json&$filter=Артикул%20eq%20'MP-ARM-12'",
                             headers=basic(trade["user"], trade["password"])).json()["value"]
        assert len(prods) == 1 and prods[0]["Description"] == "Арматура А500С 12 мм"
        # a second portal with the same seed gets its own bases
        with srv.app.app_context():
            on_portal_created("member-xyz", "other.bitrix24.ru", "metalprom", data=SEED)
        other = requests.get(f"{srv.url}/_sandbox/portals/member-xyz/onec").json()
        assert [b["name"] for b in other] == ["mp_main_member-x", "mp_trade_member-x"]
        with srv.app.app_context():
            assert on_portal_deleted("member-xyz") == ["mp_main_member-x", "mp_trade_member-x"]
        assert requests.get(f"{srv.url}/_sandbox/portals/member-xyz/onec").json() == []
        assert not (tmp_path / "onec" / "mp_main_member-x.sqlite").exists()
    finally:
        srv.stop()


def test_real_metalprom_seed_makes_two_bases(tmp_path: Path) -> None:
    from b24sandbox.seed.metalprom import build

    data = build()
    srv = serve_in_thread(tmp_path)
    try:
        with srv.app.app_context():
            on_portal_created("m-real", "metalprom.example", "metalprom")
        bases = requests.get(f"{srv.url}/_sandbox/portals/m-real/onec").json()
        assert [(b["name"], b["profile"]) for b in bases] == [(le["onec_base"], le["onec_profile"])
                                                              for le in data["legal_entities"]]
        for b in bases:
            c = requests.get(b["odata_url"] + "Catalog_Номенклатура/$count", headers=basic(b["user"], b["password"]))
            assert int(c.text) == len(data["products"])
    finally:
        srv.stop()


def test_deleting_a_portal_through_the_control_api_drops_its_bases(tmp_path: Path) -> None:
    from b24sandbox.server import serve_in_thread as serve_sandbox

    with serve_sandbox(tmp_path) as sb:
        made = requests.post(f"{sb.url}/_sandbox/portals", json={"domain": "mp-del.bitrix24.ru", "seed": "metalprom"},
                             timeout=30).json()
        keep = requests.post(f"{sb.url}/_sandbox/portals", json={"domain": "mp-keep.bitrix24.ru", "seed": "metalprom"},
                             timeout=30).json()
        bases = requests.get(f"{sb.url}/_sandbox/portals/{made['member_id']}/onec", timeout=10).json()
        kept = requests.get(f"{sb.url}/_sandbox/portals/{keep['member_id']}/onec", timeout=10).json()
        assert [b["name"] for b in bases] == ["metalprom_main", "metalprom_trade"] and len(kept) == 2
        files = [f for f in (tmp_path / "onec").iterdir() if f.name != "registry.sqlite"]
        first = bases[0]
        assert requests.get(first["odata_url"] + "Catalog_Валюты?$format=json",
                            headers=basic(first["user"], first["password"]), timeout=10).status_code == 200

        gone = requests.delete(f"{sb.url}/_sandbox/portals/{made['member_id']}", timeout=30)
        assert gone.status_code == 200 and gone.json() == {"deleted": True}

        assert requests.get(f"{sb.url}/_sandbox/portals/{made['member_id']}/onec", timeout=10).json() == []
        left = [b["name"] for b in requests.get(f"{sb.url}/_sandbox/onec", timeout=10).json()]
        assert sorted(left) == sorted(b["name"] for b in kept)
        assert requests.get(first["odata_url"] + "Catalog_Валюты?$format=json",
                            headers=basic(first["user"], first["password"]), timeout=10).status_code == 404
        remaining = [f for f in files if f.exists()]
        assert len(remaining) < len(files)  # the deleted bases' SQLite files are removed
        again = requests.post(f"{sb.url}/_sandbox/portals", json={"domain": "mp-new.bitrix24.ru", "seed": "metalprom"},
                              timeout=30).json()
        names = [b["name"] for b in requests.get(f"{sb.url}/_sandbox/portals/{again['member_id']}/onec",
                                                 timeout=10).json()]
        assert names == ["metalprom_main", "metalprom_trade"]  # the freed names are used again


def test_register_on_a_foreign_app_and_create_base_api(tmp_path: Path) -> None:
    app = Flask("host")
    register(app, tmp_path)
    client = app.test_client()
    r = client.post("/_sandbox/onec", json={"name": "x1", "profile": "unf", "organization": ORG, "products": PRODUCTS})
    assert r.status_code == 201 and r.json["profile"] == "unf" and r.json["seeded"]["products"] == 3
    assert client.post("/_sandbox/onec", json={"name": "x1", "profile": "unf"}).status_code == 409
    assert client.post("/_sandbox/onec", json={"name": "bad name", "profile": "unf"}).status_code == 400
    assert client.post("/_sandbox/onec", json={"name": "x2", "profile": "zup"}).status_code == 400
    patched = client.patch("/_sandbox/onec/x1", json={"member_id": "m9", "options": {"number_prefix": "01"}})
    assert patched.json["member_id"] == "m9"
    assert [b["name"] for b in client.get("/_sandbox/portals/m9/onec").json] == ["x1"]
    assert client.delete("/_sandbox/onec/x1").status_code == 200
    assert client.get("/_sandbox/onec/x1").status_code == 404


def test_bases_survive_a_restart(tmp_path: Path) -> None:
    srv = serve_in_thread(tmp_path)
    try:
        requests.post(f"{srv.url}/_sandbox/onec", json={"name": "keep", "profile": "bp30", "user": "Интеграция",
                                                         "password": "Пароль-1С", "organization": ORG,
                                                         "counterparties": [{"name": "ООО Ромашка", "inn": "5024093941",
                                                                             "kpp": "502401001"}],
                                                         "products": PRODUCTS})
        client = OData(srv.url, "keep")
        inv = bp_invoice(client, 1000.0, comment="persist")
        pay = requests.post(f"{srv.url}/_sandbox/onec/keep/payments", json={"invoice_ref": inv["Ref_Key"],
                                                                             "amount": 400, "date": "2026-11-23T10:00:00"})
        assert pay.status_code == 201
        requests.put(f"{srv.url}/_sandbox/onec/keep/faults", json={"latency_ms": 5})
    finally:
        srv.stop()
    srv2 = serve_in_thread(tmp_path)
    try:
        client = OData(srv2.url, "keep")
        docs = client.values("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'persist'"})
        assert docs[0]["Ref_Key"] == inv["Ref_Key"] and docs[0]["Posted"] is True
        st = client.values("InformationRegister_СтатусыДокументов")
        assert st[0]["Статус"] == "ОплаченЧастично"
        assert requests.get(f"{srv2.url}/_sandbox/onec/keep/faults").json()["latency_ms"] == 5
        second = bp_invoice(client, 10.0)
        assert second["Number"] != docs[0]["Number"]  # numbering continues
    finally:
        srv2.stop()


def test_accountant_creates_an_invoice_in_1c(server: Any) -> None:
    from .conftest import make_base

    name = make_base(server, "bp30")
    r = requests.post(f"{server.url}/_sandbox/onec/{name}/invoices", json={
        "counterparty_inn": "7728168971", "rows": [{"article": "MP-LST-4", "quantity": 3, "price": 72000}],
        "comment": "счет из 1С"})
    assert r.status_code == 201
    body = r.json()
    assert body["ref_key"] and body["number"] and body["amount"] == 216000 and body["posted"] is True
    missing = requests.post(f"{server.url}/_sandbox/onec/{name}/invoices", json={"counterparty_inn": "000", "rows": []})
    assert missing.status_code == 404
    bad = requests.post(f"{server.url}/_sandbox/onec/{name}/payments", json={"invoice_ref": body["ref_key"]})
    assert bad.status_code == 400
    unknown = requests.post(f"{server.url}/_sandbox/onec/{name}/payments",
                            json={"invoice_ref": "00000000-0000-0000-0000-00000000beef", "amount": 1})
    assert unknown.status_code == 404
    created = requests.post(f"{server.url}/_sandbox/onec/{name}/counterparties",
                            json={"name": "ООО Новый клиент", "inn": "7707083893", "kpp": "773601001"})
    assert created.status_code == 201 and created.json()["created"] is True
    again = requests.post(f"{server.url}/_sandbox/onec/{name}/counterparties",
                          json={"name": "ООО Новый клиент", "inn": "7707083893", "kpp": "773601001"})
    assert again.status_code == 200 and again.json()["ref_key"] == created.json()["ref_key"]
