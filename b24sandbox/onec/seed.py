"""Reference data of a new base: currencies, units, VAT rates, our organization with its bank account,
counterparties with requisites and products — the way an accountant's base looks before the first
invoice. The МеталПром seed (``b24sandbox.seed.metalprom.build()``) makes one base per legal entity.
"""

from __future__ import annotations

from typing import Any

from .base import Base
from .logic.common import UNITS
from .logic.session import Session
from .schema import EMPTY_GUID, NS

CURRENCIES = [("643", "руб.", "Российский рубль"), ("840", "USD", "Доллар США"), ("978", "EUR", "Евро")]
VAT_ITEMS = [("20%", 20.0), ("10%", 10.0), ("0%", 0.0), ("Без НДС", 0.0)]


def seed_reference(s: Session) -> None:
    """Currencies, units of measure, VAT rates (УТ/УНФ) and a cash box: what every base has."""
    logic = s.handlers
    et = s.et("Catalog_Валюты")
    for code, short, long_name in CURRENCIES:
        if not s.find("Catalog_Валюты", "o.code = ?", (code,), limit=1):
            s.insert(et, s.build(et, {"Code": code, "Description": short, "НаименованиеПолное": long_name}))
    uet = s.et(logic.unit_set)
    for code, short, long_name in UNITS:
        if not s.find(logic.unit_set, "ci(o.description) = ci(?)", (short,), limit=1):
            payload: dict[str, Any] = {"Description": short, "НаименованиеПолное": long_name}
            if "Code" in uet.by_name:
                payload["Code"] = code
            if "Числитель" in uet.by_name:
                payload.update(Числитель=1.0, Знаменатель=1.0, ТипУпаковки="Единица")
            s.insert(uet, s.build(uet, payload))
    if "Catalog_СтавкиНДС" in s.profile.sets:
        vet = s.et("Catalog_СтавкиНДС")
        for desc, rate in VAT_ITEMS:
            if not s.find("Catalog_СтавкиНДС", "o.description = ?", (desc,), limit=1):
                payload = {"Description": desc, "Ставка": rate}
                if "НеОблагается" in vet.by_name:
                    payload["НеОблагается"] = desc == "Без НДС"
                if "ПеречислениеСтавкаНДС" in vet.by_name:
                    payload["ПеречислениеСтавкаНДС"] = {"20%": "НДС20", "10%": "НДС10", "0%": "НДС0"}.get(desc, "БезНДС")
                s.insert(vet, s.build(vet, payload))


def seed_organization(s: Session, org: dict[str, Any]) -> dict[str, Any]:
    """Our legal entity (the seed's ``legal_entities`` shape) with its bank and settlement account."""
    logic = s.handlers
    et = s.et("Catalog_Организации")
    inn = str(org.get("inn") or "")
    found = s.by_attr("Catalog_Организации", "ИНН", inn) if inn else []
    if found:
        ent = found[0]
    else:
        payload: dict[str, Any] = {
            "Description": str(org.get("name") or "Организация"),
            "НаименованиеПолное": str(org.get("full_name") or org.get("name") or ""),
            "НаименованиеСокращенное": str(org.get("name") or ""),
            "ИНН": inn,
            "КПП": str(org.get("kpp") or ""),
            "ОГРН": str(org.get("ogrn") or ""),
            "Префикс": str(org.get("prefix") or org.get("code") or "")[:2].upper(),
        }
        if "ЮридическоеФизическоеЛицо" in et.by_name:
            payload["ЮридическоеФизическоеЛицо"] = "ФизическоеЛицо" if len(inn) == 12 else "ЮридическоеЛицо"
        if "ЮрФизЛицо" in et.by_name:
            payload["ЮрФизЛицо"] = "ИндивидуальныйПредприниматель" if len(inn) == 12 else "ЮрЛицо"
        ent = s.insert(et, s.build(et, payload))
    if not s.tx.meta_get("main_org"):
        s.tx.meta_set("main_org", ent["Ref_Key"])
    bank = org.get("bank") or {}
    if bank.get("account") and logic.org_bank_account(s, ent["Ref_Key"]) == EMPTY_GUID:
        bank_set = "Catalog_КлассификаторБанков" if "Catalog_КлассификаторБанков" in s.profile.sets else "Catalog_Банки"
        bet = s.et(bank_set)
        bik = str(bank.get("bik") or "")
        banks = s.find(bank_set, "o.code = ?", (bik,), limit=1) if bik else []
        bank_ref = banks[0]["Ref_Key"] if banks else s.insert(bet, s.build(bet, {
            "Code": bik, "Description": str(bank.get("name") or "Банк")[:100],
            "КоррСчет": str(bank.get("corr_account") or ""), "Город": str(bank.get("city") or "г. Москва")}))["Ref_Key"]
        aet = s.et(logic.bank_account_set)
        payload = {"Description": f"{bank['account']}, {bank.get('name', '')}"[:150], "НомерСчета": str(bank["account"]),
                   "Банк_Key": bank_ref, "ВалютаДенежныхСредств_Key": logic.rub(s)}
        if "Owner_Key" in aet.by_name:
            payload["Owner_Key"] = ent["Ref_Key"]
        else:
            payload["Owner"] = ent["Ref_Key"]
            payload["Owner_Type"] = f"{NS}.Catalog_Организации"
        acc = s.insert(aet, s.build(aet, payload))
        for attr in ("ОсновнойБанковскийСчет_Key", "БанковскийСчетПоУмолчанию_Key"):
            if attr in et.by_name:
                ent[attr] = acc["Ref_Key"]
                ent = s.update(et, ent)
    if "Catalog_Кассы" in s.profile.sets and not s.find("Catalog_Кассы", "1", limit=1):
        ket = s.et("Catalog_Кассы")
        payload = {"Description": "Основная касса"}
        for attr, value in (("ВалютаДенежныхСредств_Key", logic.rub(s)), ("ВалютаПоУмолчанию_Key", logic.rub(s)),
                            ("Организация_Key", ent["Ref_Key"]), ("Владелец_Key", ent["Ref_Key"])):
            if attr in ket.by_name:
                payload[attr] = value
        s.insert(ket, s.build(ket, payload))
    return ent


def company_requisites(company: dict[str, Any]) -> dict[str, Any] | None:
    """A seed company (crm.company shape with ``requisites``) -> the exchange format of a counterparty."""
    reqs = company.get("requisites") or []
    if not reqs:
        return None
    rq = reqs[0]
    banks = rq.get("bank_details") or []
    bank = banks[0] if banks else {}
    return {
        "name": rq.get("RQ_COMPANY_NAME") or company.get("TITLE"),
        "full_name": rq.get("RQ_COMPANY_FULL_NAME") or rq.get("RQ_COMPANY_NAME") or company.get("TITLE"),
        "inn": rq.get("RQ_INN"),
        "kpp": rq.get("RQ_KPP") or "",
        "kind": "ip" if rq.get("PRESET_ID") == 2 else "company",
        "bank": {"name": bank.get("RQ_BANK_NAME"), "bik": bank.get("RQ_BIK"), "account": bank.get("RQ_ACC_NUM"),
                 "corr_account": bank.get("RQ_COR_ACC_NUM")} if bank else {},
    }


def seed_counterparties(s: Session, items: list[dict[str, Any]]) -> int:
    n = 0
    for item in items:
        data = company_requisites(item) if "requisites" in item else item
        if not data or not data.get("inn"):
            continue
        _, created = s.handlers.create_counterparty(s, data)
        n += int(created)
    return n


def product_data(p: dict[str, Any]) -> dict[str, Any]:
    """A seed product (crm.product shape) -> the exchange format of a product."""
    if "NAME" not in p:
        return p
    rate = p.get("VAT_RATE")
    return {"name": p["NAME"], "article": p.get("XML_ID") or "", "unit": p.get("MEASURE_NAME") or "шт",
            "vat_rate": None if rate is None else rate, "price": p.get("PRICE")}


def seed_products(s: Session, items: list[dict[str, Any]]) -> int:
    logic = s.handlers
    n = 0
    for item in items:
        data = product_data(item)
        if logic.find_product(s, data.get("article") or None, None if data.get("article") else data.get("name")):
            continue
        payload = logic.product_payload(s, data)
        et = s.et("Catalog_Номенклатура")
        if "ВидСтавкиНДС" in et.by_name:
            rate = data.get("vat_rate", 20)
            payload["ВидСтавкиНДС"] = {20: "Общая", 10: "Пониженная", 0: "Нулевая"}.get(rate, "Общая")
        s.insert(et, s.build(et, payload))
        n += 1
    return n


def seed_base(base: Base, organization: dict[str, Any] | None = None, counterparties: list[dict] | None = None,
              products: list[dict] | None = None) -> dict[str, int]:
    with base.session() as s:
        seed_reference(s)
        if organization:
            seed_organization(s, organization)
        n_cp = seed_counterparties(s, counterparties or [])
        n_pr = seed_products(s, products or [])
    return {"counterparties": n_cp, "products": n_pr}


def pick_counterparties(companies: list[dict[str, Any]], base_index: int) -> list[dict[str, Any]]:
    """Some — not all — of the portal's companies are already counterparties in a base (2 of 3, a different
    third per base), so the app must find some and create others."""
    clients = [c for c in companies if c.get("IS_MY_COMPANY") != "Y" and c.get("requisites")]
    clients.sort(key=lambda c: int(c.get("ID", 0)))
    return [c for i, c in enumerate(clients) if (i + base_index) % 3 != 0]
