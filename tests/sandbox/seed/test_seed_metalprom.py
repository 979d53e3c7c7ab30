"""The МеталПром demo seed: determinism, references, counts, histories, requisites and the story."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any

import pytest

from b24sandbox.seed import metalprom
from b24sandbox.seed.phones import normalize_phone, phone_format_of

from .independent import corr_ok, inn_ok, ogrn_ok, ogrnip_ok, settlement_ok

TODAY = dt.date(2026, 6, 15)  # a Monday
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$")
EMAIL = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")

MAIN_FUNNEL = ["NEW", "PREPARATION", "UC_APPROVAL", "UC_CONTRACT", "UC_DOCS", "UC_AWAIT_PAYMENT",
               "UC_PARTIAL_PAID", "UC_PAID", "UC_SHIPMENT", "WON", "LOSE"]


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return metalprom.build(1, TODAY)


def by_id(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {x["ID"]: x for x in items}


def status_names(data: dict[str, Any], entity: str) -> list[tuple[str, str, str]]:
    rows = sorted((s for s in data["statuses"] if s["ENTITY_ID"] == entity), key=lambda s: s["SORT"])
    return [(s["STATUS_ID"], s["NAME"], s["SEMANTICS"]) for s in rows]


# --- determinism and shape ---------------------------------------------------------------------------


def test_same_seed_same_data_and_json_clean(data: dict[str, Any]) -> None:
    again = metalprom.build(1, TODAY)
    assert again == data
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data  # plain JSON types only, no tuples


def test_other_seed_other_data_same_counts(data: dict[str, Any]) -> None:
    other = metalprom.build(2, TODAY)
    assert other["leads"] != data["leads"]
    for key in ("users", "leads", "deals", "products", "statuses", "departments"):
        assert len(other[key]) == len(data[key])
    assert other["legal_entities"] == data["legal_entities"]  # fixed requisites, independent of the seed


def test_contract_keys_are_present(data: dict[str, Any]) -> None:
    for key in ("users", "departments", "absences", "timeman", "deal_categories", "statuses", "products",
                "legal_entities", "companies", "contacts", "leads", "deals"):
        assert data[key], key
    lead_keys = {"ID", "TITLE", "NAME", "LAST_NAME", "SECOND_NAME", "COMPANY_TITLE", "SOURCE_ID", "STATUS_ID",
                 "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID", "COMMENTS", "PHONE", "EMAIL", "UTM_SOURCE",
                 "UTM_MEDIUM", "UTM_CAMPAIGN", "DATE_CREATE", "CONTACT_ID", "COMPANY_ID", "history"}
    deal_keys = {"ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "COMPANY_ID", "CONTACT_ID", "ASSIGNED_BY_ID",
                 "OPPORTUNITY", "CURRENCY_ID", "SOURCE_ID", "LEAD_ID", "BEGINDATE", "CLOSEDATE", "DATE_CREATE",
                 "product_rows", "history"}
    assert all(lead_keys <= set(lead) for lead in data["leads"])
    assert all(deal_keys <= set(deal) for deal in data["deals"])
    user_keys = {"ID", "NAME", "LAST_NAME", "SECOND_NAME", "EMAIL", "PERSONAL_MOBILE", "WORK_POSITION", "ACTIVE",
                 "IS_ADMIN", "UF_DEPARTMENT", "TIME_ZONE", "PERSONAL_GENDER", "LOGIN"}
    assert all(user_keys == set(u) for u in data["users"])
    le_keys = {"ID", "code", "name", "full_name", "inn", "kpp", "ogrn", "address", "director", "accountant",
               "bank", "onec_base", "onec_profile"}
    assert all(le_keys == set(le) for le in data["legal_entities"])


# --- dictionaries ------------------------------------------------------------------------------------


def test_dictionaries_as_in_the_brief(data: dict[str, Any]) -> None:
    assert [(s, n) for s, n, _ in status_names(data, "SOURCE")] == [
        ("UC_YANDEX", "Яндекс"), ("UC_GOOGLE", "Google Ads"), ("UC_SOCIAL", "Соц-сети"), ("UC_SEO", "SEO"),
        ("EMAIL", "E-mail"), ("CALL", "Телефон"), ("WEBFORM", "Форма на сайте"), ("UC_CHATBOT", "Чат-бот")]
    assert status_names(data, "STATUS") == [("NEW", "Новый", "process"), ("IN_PROCESS", "В обработке", "process"),
                                            ("JUNK", "Некачественный лид", "failure"),
                                            ("CONVERTED", "Конвертирован", "success")]
    main = status_names(data, "DEAL_STAGE")
    assert [s for s, _, _ in main] == MAIN_FUNNEL
    assert [n for _, n, _ in main] == [
        "Новая сделка", "Подготовка счета", "Согласование счета", "Подготовка договора", "Подготовка документов",
        "Ожидание оплаты", "Частичное подтверждение оплаты", "Подтверждение оплаты", "Отгрузка",
        "Сделка заключена", "Сделка не заключена"]
    assert [sem for _, _, sem in main] == ["process"] * 9 + ["success", "failure"]
    assert [s for s, _, _ in status_names(data, "DEAL_STAGE_1")] == [
        "C1:NEW", "C1:PREPARATION", "C1:UC_BID", "C1:WON", "C1:LOSE"]
    assert status_names(data, "DEAL_STAGE_2") == [
        ("C2:NEW", "Досудебная претензия", "process"), ("C2:UC_COURT", "Судебное взыскание", "process"),
        ("C2:WON", "Долг погашен", "success"), ("C2:LOSE", "Списано", "failure")]
    assert status_names(data, "SMART_INVOICE_STAGE_1") == [
        ("DT31_1:N", "Новый", "process"), ("DT31_1:S", "Отправлен клиенту", "process"),
        ("DT31_1:UC_PARTIAL", "Оплачен частично", "process"), ("DT31_1:P", "Оплачен", "success"),
        ("DT31_1:D", "Отклонён", "failure")]
    assert {"SALE", "GOODS", "SERVICE"} <= {s for s, _, _ in status_names(data, "DEAL_TYPE")}
    cats = {c["ID"]: c for c in data["deal_categories"]}
    assert cats[1]["NAME"] == "Тендеры" and cats[2]["NAME"] == "Претензионная работа" and cats[0]["IS_DEFAULT"]
    for s in data["statuses"]:
        if s["ENTITY_ID"].startswith("DEAL_STAGE_"):
            n = int(s["ENTITY_ID"].rsplit("_", 1)[1])
            assert s["CATEGORY_ID"] == n and s["STATUS_ID"].startswith(f"C{n}:")


# --- people ------------------------------------------------------------------------------------------


def test_users_departments_absence_and_timeman(data: dict[str, Any]) -> None:
    users = by_id(data["users"])
    assert users[1]["IS_ADMIN"] and users[1]["ACTIVE"]
    assert sum(u["IS_ADMIN"] for u in users.values()) == 1
    names = {(u["LAST_NAME"], u["NAME"]): u for u in users.values()}
    for key in (("Иванов", "Иван"), ("Петров", "Иван"), ("Зуева", "Софья"), ("Смирнова", "Ольга")):
        assert names[key]["ACTIVE"] and names[key]["SECOND_NAME"]
    positions = {u["WORK_POSITION"] for u in users.values()}
    assert {"Руководитель отдела продаж", "Юрист", "Главный бухгалтер"} <= positions
    assert any("контроля качества" in p for p in positions)
    inactive = [u for u in users.values() if not u["ACTIVE"]]
    assert len(inactive) == 1 and inactive[0]["WORK_POSITION"] == "Менеджер по продажам"
    for u in users.values():
        assert u["SECOND_NAME"].endswith(("вна", "чна") if u["PERSONAL_GENDER"] == "F" else ("вич", "ич"))
        assert EMAIL.match(u["EMAIL"]) and u["TIME_ZONE"] == "Europe/Moscow"
    depts = by_id(data["departments"])
    roots = [d for d in depts.values() if d["PARENT"] is None]
    assert len(roots) == 1
    sales = next(d for d in depts.values() if d["NAME"] == "Отдел продаж")
    assert users[sales["UF_HEAD"]]["WORK_POSITION"] == "Руководитель отдела продаж"
    assert any(d["PARENT"] == sales["ID"] for d in depts.values())
    assert {"Юридический отдел", "Бухгалтерия"} <= {d["NAME"] for d in depts.values()}
    for d in depts.values():
        assert d["PARENT"] is None or d["PARENT"] in depts
        assert d["UF_HEAD"] is None or d["UF_HEAD"] in users
    for u in users.values():
        assert all(x in depts for x in u["UF_DEPARTMENT"])
    story = data["story"]
    absent = story["absent_user_id"]
    assert absent in story["manager_ids"]
    today = TODAY.isoformat()
    covering = [a for a in data["absences"] if a["DATE_FROM"] <= today <= a["DATE_TO"]]
    assert [a["USER_ID"] for a in covering] == [absent] and covering[0]["TYPE"] == "vacation"
    assert data["timeman"][str(absent)] == "CLOSED"
    assert set(data["timeman"]) == {str(u) for u in users}
    assert set(data["timeman"].values()) <= {"OPENED", "CLOSED", "PAUSED"}


# --- references ----------------------------------------------------------------------------------------


def test_every_reference_resolves(data: dict[str, Any]) -> None:
    users = by_id(data["users"])
    companies = by_id(data["companies"])
    contacts = by_id(data["contacts"])
    leads = by_id(data["leads"])
    deals = by_id(data["deals"])
    products = by_id(data["products"])
    invoices = by_id(data["smart_invoices"])
    statuses = {(s["ENTITY_ID"], s["STATUS_ID"]) for s in data["statuses"]}
    for coll in (companies, contacts, leads, deals):
        assert sorted(coll) == list(range(min(coll), min(coll) + len(coll)))  # contiguous IDs
    for le in data["legal_entities"]:
        assert companies[le["ID"]]["IS_MY_COMPANY"] == "Y"
    assert sum(c["IS_MY_COMPANY"] == "Y" for c in companies.values()) == 2
    for c in companies.values():
        assert c["ASSIGNED_BY_ID"] in users
        assert ("INDUSTRY", c["INDUSTRY"]) in statuses and ("COMPANY_TYPE", c["COMPANY_TYPE"]) in statuses
    for ct in contacts.values():
        assert ct["COMPANY_ID"] in companies and ct["ASSIGNED_BY_ID"] in users
        assert ct["ASSIGNED_BY_ID"] == companies[ct["COMPANY_ID"]]["ASSIGNED_BY_ID"]
    for lead in leads.values():
        assert lead["ASSIGNED_BY_ID"] in users
        assert ("SOURCE", lead["SOURCE_ID"]) in statuses and ("STATUS", lead["STATUS_ID"]) in statuses
        assert lead["CONTACT_ID"] is None or lead["CONTACT_ID"] in contacts
        assert lead["COMPANY_ID"] is None or lead["COMPANY_ID"] in companies
    for deal in deals.values():
        assert deal["ASSIGNED_BY_ID"] in users and deal["COMPANY_ID"] in companies
        assert contacts[deal["CONTACT_ID"]]["COMPANY_ID"] == deal["COMPANY_ID"]
        assert deal["MYCOMPANY_ID"] in (1, 2) and ("DEAL_TYPE", deal["TYPE_ID"]) in statuses
        assert ("SOURCE", deal["SOURCE_ID"]) in statuses
        entity = "DEAL_STAGE" if deal["CATEGORY_ID"] == 0 else f"DEAL_STAGE_{deal['CATEGORY_ID']}"
        assert (entity, deal["STAGE_ID"]) in statuses
        assert deal["LEAD_ID"] is None or leads[deal["LEAD_ID"]]["STATUS_ID"] == "CONVERTED"
        for row in deal["product_rows"]:
            p = products[row["PRODUCT_ID"]]
            assert (row["PRODUCT_NAME"], row["PRICE"], row["MEASURE_NAME"]) == (p["NAME"], p["PRICE"],
                                                                              p["MEASURE_NAME"])
    for inv in invoices.values():
        deal = deals[inv["parentId2"]]
        assert (inv["companyId"], inv["contactId"], inv["mycompanyId"], inv["opportunity"]) == (
            deal["COMPANY_ID"], deal["CONTACT_ID"], deal["MYCOMPANY_ID"], deal["OPPORTUNITY"])
        assert ("SMART_INVOICE_STAGE_1", inv["stageId"]) in statuses
    for p in data["payments"]:
        assert p["INVOICE_ID"] in invoices and invoices[p["INVOICE_ID"]]["parentId2"] == p["DEAL_ID"]
    for a in data["absences"]:
        assert a["USER_ID"] in users


# --- companies and requisites --------------------------------------------------------------------------


def test_requisites_are_valid_by_independent_recomputation(data: dict[str, Any]) -> None:
    clients = [c for c in data["companies"] if c["IS_MY_COMPANY"] == "N"]
    with_req = [c for c in clients if c["requisites"]]
    assert len(with_req) == 30 and len(clients) == 31
    forms = Counter(c["TITLE"].split()[0] for c in with_req)
    assert forms["ООО"] >= 15 and forms["АО"] >= 2 and forms["ИП"] >= 2
    inns = []
    for c in data["companies"]:
        for req in c["requisites"]:
            inn = req["RQ_INN"]
            inns.append(inn)
            assert inn_ok(inn)
            if req["PRESET_ID"] == 1:
                assert len(inn) == 10 and ogrn_ok(req["RQ_OGRN"]) and re.fullmatch(r"\d{9}", req["RQ_KPP"])
                assert req["RQ_KPP"][:2] == inn[:2] == req["RQ_OGRN"][3:5]
            else:
                assert req["PRESET_ID"] == 2 and c["TITLE"].startswith("ИП ")
                assert len(inn) == 12 and ogrnip_ok(req["RQ_OGRNIP"]) and req["RQ_KPP"] == ""
            assert len(req["RQ_DIRECTOR"].split()) == 3
            addr = req["address"]
            assert addr["COUNTRY"] == "Россия" and re.fullmatch(r"\d{6}", addr["POSTAL_CODE"]) and addr["CITY"]
            (bank,) = req["bank_details"]
            assert settlement_ok(bank["RQ_ACC_NUM"], bank["RQ_BIK"])
            assert corr_ok(bank["RQ_COR_ACC_NUM"], bank["RQ_BIK"])
            assert bank["RQ_ACC_NUM"][:5] == ("40702" if req["PRESET_ID"] == 1 else "40802")
            assert bank["RQ_BANK_NAME"]
    assert len(set(inns)) == len(inns)
    for le in data["legal_entities"]:
        assert inn_ok(le["inn"]) and ogrn_ok(le["ogrn"]) and len(le["kpp"]) == 9
        assert settlement_ok(le["bank"]["account"], le["bank"]["bik"])
        assert corr_ok(le["bank"]["corr_account"], le["bank"]["bik"])
    codes = {le["code"]: le for le in data["legal_entities"]}
    assert (codes["MP"]["onec_base"], codes["MP"]["onec_profile"]) == ("metalprom_main", "bp30")
    assert (codes["MPT"]["onec_base"], codes["MPT"]["onec_profile"]) == ("metalprom_trade", "ut11")
    incomplete = by_id(data["companies"])[data["story"]["incomplete_company_id"]]
    assert incomplete["requisites"] == []
    assert any(d["COMPANY_ID"] == incomplete["ID"] for d in data["deals"])


def test_contacts_per_company(data: dict[str, Any]) -> None:
    per = Counter(c["COMPANY_ID"] for c in data["contacts"])
    clients = [c["ID"] for c in data["companies"] if c["IS_MY_COMPANY"] == "N"]
    assert set(per) == set(clients)
    assert all(1 <= per[c] <= 3 for c in clients)
    assert max(per.values()) == 3


# --- leads ---------------------------------------------------------------------------------------------


def test_lead_counts_sources_junk_and_utm(data: dict[str, Any]) -> None:
    leads = data["leads"]
    assert Counter(lead["STATUS_ID"] for lead in leads) == metalprom.LEAD_STATUS_COUNTS
    assert len(leads) == 120
    assert {lead["SOURCE_ID"] for lead in leads} == {s["STATUS_ID"] for s in data["statuses"]
                                                     if s["ENTITY_ID"] == "SOURCE"}
    for lead in leads:
        assert lead["CURRENCY_ID"] == "RUB" and isinstance(lead["OPPORTUNITY"], float)
        if lead["STATUS_ID"] == "JUNK":
            assert lead["COMMENTS"]
        if lead["SOURCE_ID"] in ("UC_YANDEX", "UC_GOOGLE", "UC_SOCIAL"):
            assert lead["UTM_SOURCE"] and lead["UTM_MEDIUM"] and lead["UTM_CAMPAIGN"]
        else:
            assert lead["UTM_SOURCE"] is None and lead["UTM_MEDIUM"] is None and lead["UTM_CAMPAIGN"] is None
        assert lead["PHONE"] or lead["EMAIL"]
        if lead["STATUS_ID"] == "CONVERTED":
            assert lead["CONTACT_ID"] and lead["COMPANY_ID"]
        else:
            assert lead["CONTACT_ID"] is None and lead["COMPANY_ID"] is None
    owners = Counter(lead["ASSIGNED_BY_ID"] for lead in leads if lead["STATUS_ID"] != "NEW")
    assert all(owners[m] >= 10 for m in metalprom.MANAGER_IDS)


def test_converted_leads_became_deals(data: dict[str, Any]) -> None:
    deals_by_lead = {d["LEAD_ID"]: d for d in data["deals"] if d["LEAD_ID"] is not None}
    converted = [lead for lead in data["leads"] if lead["STATUS_ID"] == "CONVERTED"]
    assert len(deals_by_lead) == len(converted) == 32
    contacts = by_id(data["contacts"])
    for lead in converted:
        deal = deals_by_lead[lead["ID"]]
        assert (lead["CONTACT_ID"], lead["COMPANY_ID"]) == (deal["CONTACT_ID"], deal["COMPANY_ID"])
        assert lead["ASSIGNED_BY_ID"] == deal["ASSIGNED_BY_ID"] and lead["SOURCE_ID"] == deal["SOURCE_ID"]
        assert lead["history"][-1]["CREATED_TIME"] == deal["DATE_CREATE"]
        contact = contacts[lead["CONTACT_ID"]]
        assert (lead["NAME"], lead["LAST_NAME"]) == (contact["NAME"], contact["LAST_NAME"])
        assert lead["PHONE"][0]["VALUE"] == contact["PHONE"][0]["VALUE"]


def test_lead_histories(data: dict[str, Any]) -> None:
    for lead in data["leads"]:
        h = lead["history"]
        assert h[0] == {"STATUS_ID": "NEW", "CREATED_TIME": lead["DATE_CREATE"]}
        assert h[-1]["STATUS_ID"] == lead["STATUS_ID"]
        times = [x["CREATED_TIME"] for x in h]
        assert times == sorted(times) and len(set(times)) == len(times)
        order = {"NEW": 0, "IN_PROCESS": 1, "JUNK": 2, "CONVERTED": 2}
        assert [order[x["STATUS_ID"]] for x in h] == sorted(order[x["STATUS_ID"]] for x in h)


# --- deals ---------------------------------------------------------------------------------------------


def test_deal_counts_every_stage_of_every_funnel(data: dict[str, Any]) -> None:
    got: dict[int, Counter[str]] = {}
    for d in data["deals"]:
        got.setdefault(d["CATEGORY_ID"], Counter())[d["STAGE_ID"]] += 1
    assert {k: dict(v) for k, v in got.items()} == metalprom.DEAL_STAGE_COUNTS
    for entity, cat in (("DEAL_STAGE", 0), ("DEAL_STAGE_1", 1), ("DEAL_STAGE_2", 2)):
        stages = {s["STATUS_ID"] for s in data["statuses"] if s["ENTITY_ID"] == entity}
        assert stages == set(got[cat])
    assert sum(got[0].values()) == 60


def test_deal_rows_and_amounts(data: dict[str, Any]) -> None:
    amounts = []
    for d in data["deals"]:
        rows = d["product_rows"]
        assert 1 <= len(rows) <= 5
        assert len({r["PRODUCT_ID"] for r in rows}) == len(rows)
        for r in rows:
            assert r["TAX_RATE"] == 20 and r["TAX_INCLUDED"] == "Y" and r["DISCOUNT_RATE"] == 0
            assert r["QUANTITY"] > 0 and r["PRICE"] > 0
        assert d["OPPORTUNITY"] == round(sum(r["PRICE"] * r["QUANTITY"] for r in rows), 2)
        assert d["CURRENCY_ID"] == "RUB"
        amounts.append(d["OPPORTUNITY"])
    assert 10_000 <= min(amounts) < 100_000
    assert 1_000_000 < max(amounts) <= 6_000_000
    owners = Counter(d["ASSIGNED_BY_ID"] for d in data["deals"])
    assert all(owners[m] >= 10 for m in metalprom.MANAGER_IDS)
    assert owners[metalprom.FORMER_MANAGER_ID] >= 1  # the leaver's forgotten deals


def test_deal_histories(data: dict[str, Any]) -> None:
    order = {s: i for i, s in enumerate(MAIN_FUNNEL)}
    jumps = returns = 0
    for d in data["deals"]:
        h = d["history"]
        assert h[0]["CREATED_TIME"] == d["DATE_CREATE"] and h[-1]["STAGE_ID"] == d["STAGE_ID"]
        times = [x["CREATED_TIME"] for x in h]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert h[-1]["CATEGORY_ID"] == d["CATEGORY_ID"]
        if d["CATEGORY_ID"] == 2:  # claims start in the sales funnel
            assert h[0]["STAGE_ID"] == "NEW" and any(x["STAGE_ID"] == "UC_AWAIT_PAYMENT" for x in h)
        main = [x["STAGE_ID"] for x in h if x["CATEGORY_ID"] == 0]
        for i in range(1, len(main)):
            a, b = main[i - 1], main[i]
            if b in ("WON", "LOSE"):
                continue
            step = order[b] - order[a]
            # forward (possibly over stages), or back to the stage the deal just came from
            assert step >= 1 or (i >= 2 and main[i - 2] == b), (d["ID"], main)
            jumps += step > 1
            returns += step < 0
        for x in h:
            assert x["STAGE_ID"].startswith(f"C{x['CATEGORY_ID']}:") or x["CATEGORY_ID"] == 0
    assert jumps >= 3 and returns >= 3


def test_dates_are_iso_moscow_and_in_the_past(data: dict[str, Any]) -> None:
    start = (TODAY - dt.timedelta(days=182)).isoformat()
    today = TODAY.isoformat()
    stamps = []
    for lead in data["leads"]:
        stamps += [lead["DATE_CREATE"]] + [x["CREATED_TIME"] for x in lead["history"]]
    for d in data["deals"]:
        stamps += [d["DATE_CREATE"], d["BEGINDATE"]] + [x["CREATED_TIME"] for x in d["history"]]
        assert ISO.match(d["CLOSEDATE"]) and d["CLOSEDATE"] >= d["BEGINDATE"]
    for inv in data["smart_invoices"]:
        stamps += [inv["createdTime"], inv["begindate"]]
    stamps += [p["DATE"] for p in data["payments"]]
    for s in stamps:
        assert ISO.match(s), s
        assert start <= s < today, s
    for c in data["companies"] + data["contacts"]:
        assert ISO.match(c["DATE_CREATE"]) and c["DATE_CREATE"] < today
    off_hours = [lead for lead in data["leads"] if not "08:30" <= lead["DATE_CREATE"][11:16] < "19:00"]
    assert off_hours  # evening and night leads exist


# --- contacts: phones and e-mails ---------------------------------------------------------------------


def test_phones_in_mixed_formats_and_emails(data: dict[str, Any]) -> None:
    phones = [p["VALUE"] for x in data["leads"] + data["contacts"] for p in x["PHONE"]]
    formats = Counter(phone_format_of(p) for p in phones)
    assert {"8_paren", "plus7_spaces", "plain7", "8_dash"} <= set(formats)
    for p in phones:
        assert re.fullmatch(r"79\d{9}", normalize_phone(p)), p
    for c in data["companies"]:
        for p in c["PHONE"]:
            assert re.fullmatch(r"7\d{10}", normalize_phone(p["VALUE"]))
    emails = [e["VALUE"] for x in data["leads"] + data["contacts"] + data["companies"] for e in x["EMAIL"]]
    assert all(EMAIL.match(e) for e in emails)


# --- the story ------------------------------------------------------------------------------------------


def test_repeat_clients_and_duplicates(data: dict[str, Any]) -> None:
    story = data["story"]
    leads = by_id(data["leads"])
    contacts = by_id(data["contacts"])
    users = by_id(data["users"])
    repeats = story["repeat_client_leads"]
    assert [r["match"] for r in repeats].count("phone") >= 2
    owners = set()
    for r in repeats:
        lead, contact = leads[r["lead_id"]], contacts[r["contact_id"]]
        assert contact["ASSIGNED_BY_ID"] == r["owner_id"]
        owners.add(r["owner_id"])
        if r["match"] == "phone":
            lp, cp = lead["PHONE"][0]["VALUE"], contact["PHONE"][0]["VALUE"]
            assert lp != cp and normalize_phone(lp) == normalize_phone(cp)
        else:
            le, ce = lead["EMAIL"][0]["VALUE"], contact["EMAIL"][0]["VALUE"]
            assert le != ce and le.lower() == ce.lower()
        # nobody else shares the number: the match is unambiguous
        others = [x for x in data["contacts"] if x["ID"] != contact["ID"]
                  and any(normalize_phone(p["VALUE"]) == normalize_phone(contact["PHONE"][0]["VALUE"])
                          for p in x["PHONE"])]
        assert others == []
    assert story["absent_user_id"] in owners  # one repeat client belongs to the manager on vacation
    assert any(users[o]["ACTIVE"] and o != story["absent_user_id"] for o in owners)
    assert len(story["duplicate_lead_pairs"]) == 2
    for a_id, b_id in story["duplicate_lead_pairs"]:
        a, b = leads[a_id], leads[b_id]
        assert a["SOURCE_ID"] != b["SOURCE_ID"] and a["NAME"] == b["NAME"]
        assert a["PHONE"][0]["VALUE"] != b["PHONE"][0]["VALUE"]
        assert normalize_phone(a["PHONE"][0]["VALUE"]) == normalize_phone(b["PHONE"][0]["VALUE"])
        assert a["DATE_CREATE"][:10] == b["DATE_CREATE"][:10]
    for lid in story["undistributed_lead_ids"]:
        assert leads[lid]["STATUS_ID"] == "NEW" and leads[lid]["ASSIGNED_BY_ID"] == story["admin_user_id"]
    assert len(story["undistributed_lead_ids"]) == 12
    assert sum(lead["ASSIGNED_BY_ID"] == story["admin_user_id"] for lead in data["leads"]) == 12
    for lid in story["qc_queue_lead_ids"]:
        assert leads[lid]["ASSIGNED_BY_ID"] == story["qc_user_id"] and leads[lid]["STATUS_ID"] == "NEW"
    inactive = story["inactive_user_id"]
    assert any(lead["ASSIGNED_BY_ID"] == inactive and lead["STATUS_ID"] == "IN_PROCESS" for lead in data["leads"])


def test_invoices_payments_overdue_and_claims(data: dict[str, Any]) -> None:
    deals = by_id(data["deals"])
    invoices = by_id(data["smart_invoices"])
    assert {i["stageId"] for i in invoices.values()} == {"DT31_1:N", "DT31_1:S", "DT31_1:UC_PARTIAL", "DT31_1:P",
                                                         "DT31_1:D"}
    paid: Counter[int] = Counter()
    for p in data["payments"]:
        assert p["AMOUNT"] > 0 and p["LEGAL_ENTITY_ID"] == invoices[p["INVOICE_ID"]]["mycompanyId"]
        assert p["DATE"] >= invoices[p["INVOICE_ID"]]["createdTime"]
        paid[p["INVOICE_ID"]] += p["AMOUNT"]
    for inv in invoices.values():
        total = round(paid[inv["ID"]], 2)
        if inv["stageId"] == "DT31_1:P":
            assert total == inv["opportunity"]
        elif inv["stageId"] == "DT31_1:UC_PARTIAL":
            assert 0 < total < inv["opportunity"]
        else:
            assert total == 0
        assert inv["accountNumber"].startswith(("MP-", "MPT-")) and inv["closedate"] >= inv["begindate"]
    numbers = [i["accountNumber"] for i in invoices.values()]
    assert len(set(numbers)) == len(numbers)
    stage_of_invoice = {"UC_AWAIT_PAYMENT": {"DT31_1:S"}, "UC_PARTIAL_PAID": {"DT31_1:UC_PARTIAL"},
                        "UC_PAID": {"DT31_1:P"}, "UC_SHIPMENT": {"DT31_1:P"}, "WON": {"DT31_1:P"}}
    by_deal = {i["parentId2"]: i for i in invoices.values()}
    for d in deals.values():
        if d["CATEGORY_ID"] == 0 and d["STAGE_ID"] in stage_of_invoice:
            assert by_deal[d["ID"]]["stageId"] in stage_of_invoice[d["STAGE_ID"]]
    today = TODAY.isoformat()
    overdue = data["story"]["overdue_deal_ids"]
    assert len(overdue) >= 3
    assert sum(deals[i]["STAGE_ID"] == "UC_AWAIT_PAYMENT" for i in overdue) == 2
    for i in overdue:
        inv = by_deal[i]
        assert inv["closedate"][:10] < today and inv["stageId"] in ("DT31_1:S", "DT31_1:UC_PARTIAL")
    fresh = [d for d in deals.values() if d["STAGE_ID"] == "UC_AWAIT_PAYMENT" and d["ID"] not in overdue]
    assert all(by_deal[d["ID"]]["closedate"][:10] >= today for d in fresh)
    claims = data["story"]["claims"]
    assert len(claims) == 5 and {deals[c["deal_id"]]["CATEGORY_ID"] for c in claims} == {2}
    for c in claims:
        inv = invoices[c["invoice_id"]]
        assert inv["parentId2"] == c["deal_id"]
        assert c["outstanding"] == round(inv["opportunity"] - paid[inv["ID"]], 2)
        assert (c["outstanding"] == 0) == (deals[c["deal_id"]]["STAGE_ID"] == "C2:WON")


def test_ad_spend_covers_paid_sources_and_months(data: dict[str, Any]) -> None:
    months = {a["PERIOD"] for a in data["ad_spend"]}
    assert len(months) >= 6
    assert {a["SOURCE_ID"] for a in data["ad_spend"]} >= {"UC_YANDEX", "UC_GOOGLE", "UC_SOCIAL"}
    assert all(a["AMOUNT"] > 0 for a in data["ad_spend"])


def test_products_catalogue(data: dict[str, Any]) -> None:
    products = data["products"]
    assert 20 <= len(products) <= 30
    articles = [p["XML_ID"] for p in products]
    assert len(set(articles)) == len(articles) and all(a.startswith("MP-") for a in articles)
    names = " ".join(p["NAME"] for p in products)
    for word in ("Арматура", "Лист", "Труба профильная", "Ферма", "Болт"):
        assert word in names
    assert all(p["CURRENCY_ID"] == "RUB" and p["VAT_RATE"] == 20 and p["PRICE"] > 0 for p in products)


@pytest.mark.parametrize("today", [dt.date(2026, 6, 14), dt.date(2027, 1, 1), dt.date(2026, 3, 9), None])
def test_any_today_keeps_the_story(today: dt.date | None) -> None:
    data = metalprom.build(3, today)
    day = (today or dt.date.today()).isoformat()
    assert data["story"]["today"] == day
    absent = data["story"]["absent_user_id"]
    assert any(a["USER_ID"] == absent and a["DATE_FROM"] <= day <= a["DATE_TO"] for a in data["absences"])
    stamps = [x["CREATED_TIME"] for d in data["deals"] + data["leads"] for x in d["history"]]
    assert max(stamps) < day
    assert Counter(lead["STATUS_ID"] for lead in data["leads"]) == metalprom.LEAD_STATUS_COUNTS
    assert len(data["story"]["overdue_deal_ids"]) >= 3
