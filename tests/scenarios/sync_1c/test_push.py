"""Bitrix24 -> 1C: counterparty found by ИНН+КПП or created once, the contract with the contracts
feature's number, products by article (missing ones fail clearly or are created per settings), a
smart invoice created in Bitrix24 issues the 1C invoice, an invoice made in 1C appears in Bitrix24
once, and the SOAP transport does the same as OData."""

from __future__ import annotations

from typing import Any

from b24app.contracts.service import issue_contract
from b24app.sync_1c.settings_schema import FIELD_DEFAULTS as F
from tests.scenarios.sync_1c.conftest import BP_INVOICE, MP, Portal, msk


def counterparties(mp: Portal, base: str, inn: str) -> list[dict[str, Any]]:
    return [c for c in mp.documents(base, "Catalog_Контрагенты") if c.get("ИНН") == inn]


def client_unknown_to_1c(mp: Portal) -> tuple[int, int]:
    """(deal, company): an open МеталПром deal whose client is not yet a counterparty in the БП base."""
    known = {c.get("ИНН") for c in mp.documents(mp.main, "Catalog_Контрагенты")}
    skip: tuple[int, ...] = ()
    while True:
        deal_id = mp.deal_of(MP, skip=skip)
        company = mp.company_of(deal_id)
        if mp.inn_of(company) not in known:
            return deal_id, company
        skip += (deal_id,)


def test_counterparty_created_once_and_the_contract_number_is_the_apps(mp: Portal) -> None:
    deal_a, company = client_unknown_to_1c(mp)
    inn = mp.inn_of(company)
    req = mp.rest("crm.requisite.list", {"filter": {"ENTITY_TYPE_ID": 4, "ENTITY_ID": company}})[0]
    contract = issue_contract(mp.ctx(), deal_a, "prepayment")
    assert contract["number"].endswith("-МП")
    pushed_a = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_a), "--json")
    found = counterparties(mp, mp.main, inn)
    assert len(found) == 1
    assert found[0]["КПП"] == req["RQ_KPP"] and found[0]["НаименованиеПолное"] == req["RQ_COMPANY_FULL_NAME"]
    contracts = [c for c in mp.documents(mp.main, "Catalog_ДоговорыКонтрагентов") if c["Owner_Key"] == found[0]["Ref_Key"]
                 and c["Номер"] == contract["number"]]
    assert len(contracts) == 1 and contracts[0]["Дата"][:10] == contract["date"]
    assert contracts[0]["ВидДоговора"] == "СПокупателем"
    invoice_a = next(d for d in mp.documents(mp.main, BP_INVOICE) if d["Ref_Key"] == pushed_a["ref_key"])
    assert invoice_a["ДоговорКонтрагента_Key"] == contracts[0]["Ref_Key"]
    assert invoice_a["Контрагент_Key"] == found[0]["Ref_Key"]

    # a second deal of the same client: the counterparty is found, never duplicated
    deal_b = mp.new_deal(company, MP, like=deal_a)
    pushed_b = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_b), "--json")
    assert pushed_b["ref_key"] != pushed_a["ref_key"]
    assert len(counterparties(mp, mp.main, inn)) == 1
    invoice_b = next(d for d in mp.documents(mp.main, BP_INVOICE) if d["Ref_Key"] == pushed_b["ref_key"])
    assert invoice_b["Контрагент_Key"] == found[0]["Ref_Key"]
    # pushing a deal again returns its invoice (no second one)
    again = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_b), "--json")
    assert again == pushed_b
    assert len(mp.documents(mp.main, BP_INVOICE)) == 2


def test_missing_products_fail_clearly_or_are_created_per_settings(mp: Portal) -> None:
    like = mp.deal_of(MP)
    company = mp.company_of(like)
    product = int(mp.rest("crm.product.add", {"fields": {"NAME": "Профнастил С21 (спецзаказ)", "XML_ID": "MP-SPEC-21",
                                                          "PRICE": 1200, "CURRENCY_ID": "RUB"}}))
    deal_id = mp.new_deal(company, MP, like=like)
    mp.rest("crm.deal.productrows.set", {"id": deal_id, "rows": [
        {"PRODUCT_ID": product, "PRODUCT_NAME": "Профнастил С21 (спецзаказ)", "PRICE": 1200, "QUANTITY": 10,
         "TAX_RATE": 20, "TAX_INCLUDED": "Y"}]})
    res = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), ok=False)
    assert res.exit_code == 2
    assert "в 1С не найдена номенклатура: «Профнастил С21 (спецзаказ)» (артикул MP-SPEC-21)" in res.output
    assert mp.documents(mp.main, BP_INVOICE) == []

    mp.update_onec(push={"missing_products": "create"})
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    made = [p for p in mp.documents(mp.main, "Catalog_Номенклатура") if p.get("Артикул") == "MP-SPEC-21"]
    assert len(made) == 1 and made[0]["Description"] == "Профнастил С21 (спецзаказ)"
    invoice = next(d for d in mp.documents(mp.main, BP_INVOICE) if d["Ref_Key"] == pushed["ref_key"])
    row = invoice["Товары"][0]
    assert row["Номенклатура_Key"] == made[0]["Ref_Key"] and float(row["Сумма"]) == 12000.0
    assert row["СтавкаНДС"] == "НДС20" and float(row["СуммаНДС"]) == 2000.0


def test_a_smart_invoice_made_in_bitrix24_issues_the_1c_invoice(mp: Portal) -> None:
    deal_id = mp.deal_of(MP, stage="UC_DOCS")
    deal = mp.rest("crm.item.get", {"entityTypeId": 2, "id": deal_id})["item"]
    smart = mp.rest("crm.item.add", {"entityTypeId": 31, "fields": {
        "title": "Счёт по сделке", "parentId2": deal_id, "companyId": deal["companyId"], "categoryId": 1,
        "opportunity": deal["opportunity"], "mycompanyId": MP}})["item"]
    mp.sandbox.wait_deliveries()
    mp.app.drain()
    fresh = mp.rest("crm.item.get", {"entityTypeId": 31, "id": smart["id"]})["item"]
    invoices = mp.documents(mp.main, BP_INVOICE)
    assert len(invoices) == 1 and fresh["xmlId"] == f"1c:{mp.main}:{invoices[0]['Ref_Key']}"
    assert fresh["accountNumber"] == invoices[0]["Number"]
    assert mp.deal(deal_id)[F["invoice_ref"]] == invoices[0]["Ref_Key"]


def test_an_invoice_made_in_1c_appears_in_bitrix24_once(mp: Portal) -> None:
    deal_id, company = client_unknown_to_1c(mp)
    mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    cp = counterparties(mp, mp.main, mp.inn_of(company))[0]
    made = mp.onec("POST", mp.main, "/invoices", {"counterparty_ref": cp["Ref_Key"], "date": msk(30),
                                                   "rows": [{"article": "MP-ARM-12", "quantity": 2, "price": 50000}]})
    for _ in range(2):
        mp.cli("sync", "run", "--portal", mp.member_id, "--base", mp.main, "--json")
        mp.sandbox.wait_deliveries()
        mp.app.drain()  # the portal's ONCRMDYNAMICITEMADD for our own smart invoice must not bounce to 1C
    items = mp.rest("crm.item.list", {"entityTypeId": 31, "filter": {"xmlId": f"1c:{mp.main}:{made['ref_key']}"}})
    assert len(items["items"]) == 1
    item = items["items"][0]
    assert item["companyId"] == company and float(item["opportunity"]) == 100000.0
    assert item["accountNumber"] == made["number"] and item["mycompanyId"] == MP
    assert len(mp.documents(mp.main, BP_INVOICE)) == 2  # ours and the accountant's: no third one
    mp.pay(mp.main, made["ref_key"], 100000.0, msk(2))
    mp.cli("sync", "run", "--portal", mp.member_id, "--base", mp.main, "--json")
    item = mp.rest("crm.item.get", {"entityTypeId": 31, "id": item["id"]})["item"]
    assert item["stageId"] == "DT31_1:P"


def test_the_soap_transport_issues_and_pulls_like_odata(mp: Portal) -> None:
    out = mp.cli("sync", "connect", "--portal", mp.member_id, "--from-sandbox", mp.sandbox.url, "--transport",
                 "soap", "--json")
    assert [r["ok"] for r in out] == [True, True]
    assert all(b["transport"] == "soap" for b in mp.settings()["onec"]["bases"])
    mp.onec("DELETE", mp.main, "/requests")
    deal_id = mp.deal_of(MP, stage="UC_AWAIT_PAYMENT")
    pushed = mp.cli("sync", "push-invoice", "--portal", mp.member_id, "--deal", str(deal_id), "--json")
    invoice = next(d for d in mp.documents(mp.main, BP_INVOICE) if d["Ref_Key"] == pushed["ref_key"])
    total = float(invoice["СуммаДокумента"])
    mp.pay(mp.main, pushed["ref_key"], round(total / 2, 2), msk(3))
    mp.cli("sync", "run", "--portal", mp.member_id, "--base", mp.main, "--json")
    deal = mp.deal(deal_id)
    assert deal["STAGE_ID"] == "UC_PARTIAL_PAID" and float(deal[F["paid"]]) == round(total / 2, 2)
    log = mp.onec("GET", mp.main, "/requests")
    assert log["totals"].get("soap", 0) > 0 and log["totals"].get("odata", 0) == 0
