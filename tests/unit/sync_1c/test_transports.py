"""Both transports of every profile against the 1C sandbox over HTTP: counterparties (never a
duplicate), contracts, products, invoices with an idempotency key, payments matched to invoices,
invoice changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from b24app.sync_1c.records import InvoiceRow, InvoiceSpec
from tests.unit.sync_1c.conftest import OneC

COMBOS = [(p, t) for p in ("bp30", "ut11", "unf") for t in ("odata", "soap")]
INVOICE_SETS = {"bp30": "Document_СчетНаОплатуПокупателю", "ut11": "Document_СчетНаОплатуКлиенту",
                "unf": "Document_СчетНаОплату"}


def local(minutes: int = 0) -> str:
    now = dt.datetime.now(ZoneInfo("Europe/Moscow")).replace(tzinfo=None, microsecond=0)
    return (now + dt.timedelta(minutes=minutes)).isoformat()


@pytest.mark.parametrize(("profile", "kind"), COMBOS)
def test_issue_an_invoice_and_read_its_payments(onec: OneC, profile: str, kind: str) -> None:
    base = onec.base(profile)
    t = onec.transport(base, kind)
    orgs = t.organizations()
    assert [o.inn for o in orgs] == ["7448053174"]

    # counterparty: found by ИНН+КПП, created with requisites once
    assert [c.inn for c in t.find_counterparty("6658100010", "665801001")] == ["6658100010"]
    assert t.find_counterparty("7451000017", "745101001") == []
    data = {"name": "ООО «Южуралмост»", "full_name": "Общество с ограниченной ответственностью «Южуралмост»",
            "inn": "7451000017", "kpp": "745101001",
            "bank": {"account": "40702810900000012345", "name": "ПАО Сбербанк", "bik": "047501602"}}
    cp = t.create_counterparty(data)
    assert cp.ref and cp.inn == "7451000017"
    assert [c.ref for c in t.find_counterparty("7451000017", "745101001")] == [cp.ref]
    cps = [c for c in onec.control("GET", f"/{base['name']}/documents/Catalog_Контрагенты")
           if c.get("ИНН") == "7451000017"]
    assert len(cps) == 1 and cps[0]["НаименованиеПолное"] == data["full_name"]

    # contract with our number and date
    contract = t.create_contract(cp, orgs[0], "Д-26/0007-МП", "2026-11-20", "№ Д-26/0007-МП от 20.11.2026")
    found = t.find_contract(cp.ref, number="Д-26/0007-МП", date="2026-11-20")
    assert [c.ref for c in found] == [contract.ref] and found[0].number == "Д-26/0007-МП"

    # products by article
    arm = t.find_product("MP-ARM-12", "")
    assert len(arm) == 1 and arm[0].name == "Арматура А500С 12 мм"
    assert t.find_product("NO-SUCH", "") == []

    key = f"b24app test-{profile}-{kind}"
    assert t.find_invoice(key) is None
    spec = InvoiceSpec(key=key, organization=orgs[0], counterparty=cp, contract=contract,
                       rows=[InvoiceRow(arm[0], 2.0, 78000.0, 156000.0, 20.0, 26000.0)], date=local(-30),
                       due_date=(dt.date.today() + dt.timedelta(days=5)).isoformat(), comment="Счёт из Битрикс24")
    inv = t.create_invoice(spec)
    assert inv.ref and inv.number and inv.amount == 156000.0 and inv.posted
    again = t.find_invoice(key)
    assert again is not None and again.ref == inv.ref  # found by the key in its comment
    stored = next(d for d in onec.control("GET", f"/{base['name']}/documents/{INVOICE_SETS[profile]}")
                  if d["Ref_Key"] == inv.ref)
    assert key in stored["Комментарий"]

    # payments: one partial by bank, one by cash; both are matched to the invoice
    onec.control("POST", f"/{base['name']}/payments", {"invoice_ref": inv.ref, "amount": 50000.0, "date": local(-20)})
    onec.control("POST", f"/{base['name']}/payments", {"invoice_ref": inv.ref, "amount": 6000.0, "date": local(-10),
                                                        "kind": "cash"})
    got, token = [], ""
    while True:
        page, nxt = t.payment_page(local(-60), local(1), token, 1)  # pages of one, to walk the tokens
        got.extend(page)
        if nxt is None:
            break
        token = nxt
    mine = [p for p in got if any(a.target_ref == inv.ref or a.target == "order" for a in p.allocations)]
    assert sorted(p.amount for p in mine) == [6000.0, 50000.0]
    assert {p.kind for p in mine} == {"bank", "cash"} and all(p.active for p in mine)

    # invoice changes: windows (OData) or the change feed (SOAP) show the invoice
    if t.has_change_feed:
        items, cursor, _ = t.invoice_changes("", 100)
        assert inv.ref in {i.ref for i in items} and cursor
    else:
        items = t.invoice_window(local(-60), local(1), 0, 100)
        assert [i.ref for i in items] == [inv.ref]
        if profile != "bp30":
            assert items[0].due_date == spec.due_date
    rechecked = t.invoices_by_ref([inv.ref])
    assert [r.ref for r in rechecked] == [inv.ref] and rechecked[0].amount == 156000.0


def test_a_missing_invoice_reads_as_deleted_and_unposted_payments_as_inactive(onec: OneC) -> None:
    base = onec.base("bp30")
    t = onec.transport(base, "odata")
    cp = t.find_counterparty("6658100010")[0]
    spec = InvoiceSpec(key="b24app k-1", organization=t.organizations()[0], counterparty=cp, contract=None,
                       rows=[InvoiceRow(t.find_product("MP-LST-4")[0], 1.0, 1000.0, 1000.0, None, 0.0)],
                       date=local(-30), due_date="2030-01-01", comment="")
    inv = t.create_invoice(spec)
    pay = onec.control("POST", f"/{base['name']}/payments", {"invoice_ref": inv.ref, "amount": 1000.0,
                                                              "date": local(-5)})["ref_key"]
    onec.control("POST", f"/{base['name']}/payments/{pay}/unpost")
    page, _ = t.payment_page(local(-60), local(1), "", 100)
    assert [(p.ref, p.posted, p.active) for p in page] == [(pay, False, False)]
    onec.control("POST", f"/{base['name']}/invoices/{inv.ref}/delete")
    assert t.invoices_by_ref([inv.ref]) == []


def test_soap_errors_map_to_the_error_table(onec: OneC) -> None:
    from b24app.errors import Action, OneCError
    from b24app.sync_1c.soap import SoapClient
    from tests.unit.sync_1c.conftest import USER

    base = onec.base("bp30")
    with pytest.raises(OneCError) as exc:
        SoapClient(base["wsdl_url"], USER, "wrong", timeout=10, allow_private=True)
    assert exc.value.status == 401 and exc.value.action == Action.FAIL_CONFIG
    t = onec.transport(base, "soap")
    with pytest.raises(OneCError) as exc:  # a business refusal comes back in ErrorMessage
        t.client.call("GetInvoiceStatus", Ref="00000000-0000-0000-0000-00000000beef")
    assert exc.value.code == "-1" and "не найден" in exc.value.message and exc.value.action == Action.FAIL_DATA
    with pytest.raises(OneCError) as exc:  # an exception in the web-service module is a SOAP Fault
        t.client.call("GetInvoiceStatus", Ref="not-a-guid")
    assert exc.value.code == "-1" and "Неверный уникальный идентификатор" in exc.value.message
    onec.control("PUT", f"/{base['name']}/faults", {"fail_next": 1, "error_kind": "lock"})
    with pytest.raises(OneCError) as exc:
        t.organizations()
    assert exc.value.code == "lock" and exc.value.action == Action.RETRY
    # the endpoint given in the settings is the one called (the WSDL may name an internal host)
    custom = SoapClient(base["wsdl_url"], USER, "Пароль-1С", address=base["wsdl_url"].split("?")[0], timeout=10,
                        allow_private=True)
    assert custom.address == base["wsdl_url"].split("?")[0] and custom.call("Ping")["ok"] is True
