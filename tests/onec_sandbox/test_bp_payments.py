"""БП 3.0: receipts paying invoices, ОплатаСчетов movements and the СтатусыДокументов algorithm (spec 2.7)."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import OData, bp_invoice, control, make_base, refs

INV = "Document_СчетНаОплатуПокупателю"


@pytest.fixture
def base(server: Any) -> tuple[str, OData]:
    name = make_base(server, "bp30")
    return name, OData(server.url, name)


def pay(server: Any, base: str, inv: str, amount: float, date: str = "2026-11-23T10:00:00", **kw: Any) -> str:
    r = control(server, "POST", f"/{base}/payments", json=dict(kw, invoice_ref=inv, amount=amount, date=date))
    assert r.status_code == 201, r.text
    return r.json()["ref_key"]


def status(client: OData, inv: str) -> str | None:
    rows = client.values("InformationRegister_СтатусыДокументов", {
        "$filter": f"Документ eq cast(guid'{inv}', 'Document_СчетНаОплатуПокупателю')"})
    return rows[0]["Статус"] if rows else None


def paid(client: OData, inv: str) -> float:
    rows = client.get(f"AccumulationRegister_ОплатаСчетов/Turnovers(Condition='СчетНаОплату eq cast(guid''{inv}'', "
                      "''Document_СчетНаОплатуПокупателю'')', Dimensions='СчетНаОплату')").json()["value"]
    return float(rows[0]["СуммаTurnover"]) if rows else 0.0


def test_fresh_invoice_has_no_status_record(base: tuple[str, OData]) -> None:
    _, client = base
    inv = bp_invoice(client, 1000.0)
    assert status(client, inv["Ref_Key"]) is None  # БП writes the record at the first payment; absence = НеОплачен


def test_partial_then_rest(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    inv = bp_invoice(client, 120000.0)["Ref_Key"]
    p1 = pay(server, name, inv, 50000.0)
    assert status(client, inv) == "ОплаченЧастично" and paid(client, inv) == 50000
    doc = client.get(f"Document_ПоступлениеНаРасчетныйСчет(guid'{p1}')").json()
    assert doc["Posted"] is True and doc["ВидОперации"] == "ОплатаПокупателя"
    assert doc["Контрагент_Type"] == "StandardODATA.Catalog_Контрагенты"
    row = doc["РасшифровкаПлатежа"][0]
    assert row["СчетНаОплату_Key"] == inv and row["СуммаПлатежа"] == 50000
    assert row["ДоговорКонтрагента_Key"] != "00000000-0000-0000-0000-000000000000"  # the invoice's (main) contract
    pay(server, name, inv, 70000.0, "2026-11-24T10:00:00", kind="cash")
    assert status(client, inv) == "Оплачен" and paid(client, inv) == 120000
    recs = client.values("AccumulationRegister_ОплатаСчетов_RecordType", {
        "$filter": f"СчетНаОплату eq cast(guid'{inv}', 'Document_СчетНаОплатуПокупателю')", "$orderby": "Period"})
    assert [r["Recorder_Type"].split(".")[1] for r in recs] == ["Document_ПоступлениеНаРасчетныйСчет",
                                                                  "Document_ПриходныйКассовыйОрдер"]
    assert recs[0]["Организация_Key"] == refs(client)["org"] and recs[0]["СтавкаНДС"] == "НДС20"


def test_full_payment_and_overpayment(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    full = bp_invoice(client, 1000.0)["Ref_Key"]
    pay(server, name, full, 1000.0)
    assert status(client, full) == "Оплачен"
    over = bp_invoice(client, 1000.0)["Ref_Key"]
    pay(server, name, over, 1500.0)
    assert status(client, over) == "Оплачен" and paid(client, over) == 1500  # the register keeps the overpayment


def test_paid_status_is_not_recomputed_any_more(server: Any, base: tuple[str, OData]) -> None:
    """Only НеОплачен/ОплаченЧастично change automatically (АвтоматическиИзменяемыеСтатусыОплаты)."""
    name, client = base
    inv = bp_invoice(client, 1000.0)["Ref_Key"]
    pay(server, name, inv, 1000.0)
    p2 = pay(server, name, inv, 10.0)
    assert status(client, inv) == "Оплачен" and paid(client, inv) == 1010
    assert p2


def test_unpost_and_deletion_mark_remove_movements_but_leave_status(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    inv = bp_invoice(client, 1000.0)["Ref_Key"]
    p1 = pay(server, name, inv, 400.0)
    p2 = pay(server, name, inv, 600.0)
    assert status(client, inv) == "Оплачен"
    r = control(server, "POST", f"/{name}/payments/{p2}/unpost")
    assert r.status_code == 200 and r.json()["posted"] is False
    assert paid(client, inv) == 400  # movements gone
    assert status(client, inv) == "Оплачен"  # real БП does not recompute the status on unposting
    r = control(server, "POST", f"/{name}/payments/{p1}/delete-mark")
    assert r.json()["deletion_mark"] is True and r.json()["posted"] is False
    assert paid(client, inv) == 0
    # a re-posted payment recomputes only invoices in an automatic status: Оплачен stays
    control(server, "POST", f"/{name}/payments/{p2}/post")
    assert paid(client, inv) == 600 and status(client, inv) == "Оплачен"


def test_reversal_recomputes_when_the_base_is_configured_so(server: Any) -> None:
    name = make_base(server, "bp30", options={"recompute_status_on_reversal": True})
    client = OData(server.url, name)
    inv = bp_invoice(client, 1000.0)["Ref_Key"]
    p1 = pay(server, name, inv, 1000.0)
    assert status(client, inv) == "Оплачен"
    control(server, "POST", f"/{name}/payments/{p1}/delete-mark")
    assert status(client, inv) == "НеОплачен" and paid(client, inv) == 0


def test_payment_to_wrong_invoice_then_corrected(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    wrong = bp_invoice(client, 5000.0, comment="wrong")["Ref_Key"]
    right = bp_invoice(client, 5000.0, comment="right")["Ref_Key"]
    p = pay(server, name, wrong, 5000.0)
    assert status(client, wrong) == "Оплачен" and status(client, right) is None
    r = control(server, "POST", f"/{name}/payments/{p}/correct", json={"invoice_ref": right})
    assert r.status_code == 200 and r.json()["posted"] is True
    assert paid(client, right) == 5000 and status(client, right) == "Оплачен"
    assert paid(client, wrong) == 0  # the movements moved
    assert status(client, wrong) == "Оплачен"  # ... and the stale status stays, as in real БП
    rows = client.get(f"Document_ПоступлениеНаРасчетныйСчет(guid'{p}')").json()["РасшифровкаПлатежа"]
    assert rows[0]["СчетНаОплату_Key"] == right


def test_correction_over_odata_patch_and_repost(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    a = bp_invoice(client, 300.0)["Ref_Key"]
    b = bp_invoice(client, 300.0)["Ref_Key"]
    p = pay(server, name, a, 100.0)
    key = f"Document_ПоступлениеНаРасчетныйСчет(guid'{p}')"
    rows = client.get(key).json()["РасшифровкаПлатежа"]
    rows[0]["СчетНаОплату_Key"] = b
    patched = client.patch(key, {"РасшифровкаПлатежа": [{k: v for k, v in rows[0].items() if k != "LineNumber"}]})
    assert patched.status_code == 200 and patched.json()["Posted"] is True
    assert paid(client, b) == 0  # a PATCH does not re-post: the movements are those of the last posting
    assert client.action(key, "Post").status_code == 200
    assert paid(client, b) == 100 and paid(client, a) == 0


def test_payment_dated_before_the_invoice_day_is_not_counted(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    inv = bp_invoice(client, 1000.0)["Ref_Key"]  # dated 2026-11-20
    pay(server, name, inv, 500.0, "2026-11-10T10:00:00")
    assert status(client, inv) == "ОплаченЧастично"
    pay(server, name, inv, 500.0, "2026-11-21T10:00:00")
    # the algorithm reads other payments' turnovers from the invoice's day on: the early one is ignored
    assert status(client, inv) == "ОплаченЧастично" and paid(client, inv) == 1000


def test_other_organization_status_is_not_touched(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    other = client.post("Catalog_Организации", {"Description": "ООО Вторая", "ИНН": "7701000001"}).json()["Ref_Key"]
    inv = bp_invoice(client, 1000.0)["Ref_Key"]
    r = control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv, "amount": 1000, "post": False,
                                                            "date": "2026-11-23T10:00:00"}).json()
    key = f"Document_ПоступлениеНаРасчетныйСчет(guid'{r['ref_key']}')"
    client.patch(key, {"Организация_Key": other})
    assert client.action(key, "Post").status_code == 200
    assert paid(client, inv) == 1000 and status(client, inv) is None


def test_cash_receipt_and_manual_cancelled_status(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    inv = bp_invoice(client, 800.0)["Ref_Key"]
    org = refs(client)["org"]
    client.post("InformationRegister_СтатусыДокументов", {
        "Организация_Key": org, "Документ": inv, "Документ_Type": "StandardODATA.Document_СчетНаОплатуПокупателю",
        "Статус": "Отменен", "Статус_Type": "StandardODATA.СтатусОплатыСчета"})
    p = pay(server, name, inv, 800.0, kind="cash")
    doc = client.get(f"Document_ПриходныйКассовыйОрдер(guid'{p}')").json()
    assert doc["ВидОперации"] == "ОплатаПокупателя" and doc["Posted"] is True and doc["ПринятоОт"]
    assert paid(client, inv) == 800 and status(client, inv) == "Отменен"


def test_status_endpoint_and_documents_listing(server: Any, base: tuple[str, OData]) -> None:
    name, client = base
    inv = bp_invoice(client, 1000.0)["Ref_Key"]
    pay(server, name, inv, 250.0)
    st = control(server, "GET", f"/{name}/invoices/{inv}/status").json()
    assert st["paid"] == 250 and st["remaining"] == 750 and st["status"] == "ОплаченЧастично"
    docs = control(server, "GET", f"/{name}/documents/Document_ПоступлениеНаРасчетныйСчет").json()
    assert isinstance(docs, list) and docs[0]["РасшифровкаПлатежа"][0]["СчетНаОплату_Key"] == inv
    assert docs[0]["РасшифровкаПлатежа"][0]["КратностьВзаиморасчетов"] == 1  # plain JSON: numbers as numbers
    recs = control(server, "GET", f"/{name}/documents/AccumulationRegister_ОплатаСчетов_RecordType").json()
    assert recs[0]["Сумма"] == 250
