"""УТ 11 and УНФ 3.0: their own documents, fields and payment logic (spec 2.4-2.7)."""

from __future__ import annotations

from typing import Any

from .conftest import OData, control, make_base

EMPTY = "00000000-0000-0000-0000-000000000000"


def new_invoice(server: Any, name: str, amount_rows: list[tuple[str, float, float]], comment: str = "") -> dict:
    rows = [{"article": a, "quantity": q, "price": p, "vat_rate": 20} for a, q, p in amount_rows]
    r = control(server, "POST", f"/{name}/invoices", json={"counterparty_inn": "5024093941",
                                                           "counterparty_kpp": "502401001", "rows": rows,
                                                           "comment": comment, "date": "2026-11-20T12:00:00"})
    assert r.status_code == 201, r.text
    return r.json()


def test_ut_invoice_is_an_order_plus_an_invoice_by_it(server: Any) -> None:
    name = make_base(server, "ut11")
    client = OData(server.url, name)
    inv = new_invoice(server, name, [("MP-ARM-12", 2, 65000), ("MP-DLV", 1, 5000)], comment="ut-1")
    doc = client.get(f"Document_СчетНаОплатуКлиенту(guid'{inv['ref_key']}')").json()
    assert doc["Posted"] is True and doc["СуммаДокумента"] == 135000
    assert doc["ДокументОснование_Type"] == "StandardODATA.Document_ЗаказКлиента"
    assert doc["Партнер_Key"] != EMPTY and doc["Контрагент_Key"] != EMPTY and doc["Договор_Key"] != EMPTY
    assert "Товары" not in doc and doc["ЭтапыГрафикаОплаты"][0]["СуммаПлатежа"] == 135000
    order = client.get(f"Document_ЗаказКлиента(guid'{doc['ДокументОснование']}')").json()
    assert len(order["Товары"]) == 2 and order["Статус"] == "КОтгрузке" and order["ОбъектРасчетов_Key"] != EMPTY
    rate = client.get(f"Catalog_СтавкиНДС(guid'{order['Товары'][0]['СтавкаНДС_Key']}')").json()
    assert rate["Ставка"] == 20  # УТ keeps VAT rates in a catalog
    obj = client.get(f"Catalog_ОбъектыРасчетов(guid'{order['ОбъектРасчетов_Key']}')").json()
    assert obj["Объект"] == order["Ref_Key"] and obj["Объект_Type"] == "StandardODATA.Document_ЗаказКлиента"
    plan = client.values("AccumulationRegister_РасчетыСКлиентами_RecordType", {"$filter": f"Recorder eq '{order['Ref_Key']}'"})
    assert plan[0]["RecordType"] == "Receipt" and plan[0]["КОплате"] == 135000
    cp = client.get(f"Catalog_Контрагенты(guid'{doc['Контрагент_Key']}')").json()
    assert "Code" not in cp and cp["Партнер_Key"] == doc["Партнер_Key"]


def test_ut_payments_by_invoice(server: Any) -> None:
    name = make_base(server, "ut11")
    client = OData(server.url, name)
    inv = new_invoice(server, name, [("MP-ARM-12", 1, 100000)])["ref_key"]
    r = control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv, "amount": 40000,
                                                            "date": "2026-11-21T10:00:00"})
    pay = r.json()
    assert pay["set"] == "Document_ПоступлениеБезналичныхДенежныхСредств"
    doc = client.get(f"Document_ПоступлениеБезналичныхДенежныхСредств(guid'{pay['ref_key']}')").json()
    assert doc["ХозяйственнаяОперация"] == "ПоступлениеОплатыОтКлиента"
    row = doc["РасшифровкаПлатежа"][0]
    assert row["ОснованиеПлатежа"] == inv and row["ОснованиеПлатежа_Type"] == "StandardODATA.Document_СчетНаОплатуКлиенту"
    assert row["ОбъектРасчетов_Key"] != EMPTY and row["Партнер_Key"] == doc["Партнер_Key"]
    recs = client.values("AccumulationRegister_РасчетыСКлиентами_RecordType", {"$filter": f"СчетНаОплату_Key eq guid'{inv}'"})
    assert len(recs) == 1 and recs[0]["RecordType"] == "Expense" and recs[0]["Сумма"] == 40000
    assert recs[0]["ФормаОплаты"] == "Безналичная"
    by_basis = client.values("Document_ПоступлениеБезналичныхДенежныхСредств_РасшифровкаПлатежа", {
        "$filter": f"ОснованиеПлатежа eq cast(guid'{inv}', 'Document_СчетНаОплатуКлиенту')"})
    assert len(by_basis) == 1
    st = control(server, "GET", f"/{name}/invoices/{inv}/status").json()
    assert st["status"] == "ОплаченЧастично" and st["paid"] == 40000
    cash = control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv, "amount": 60000, "kind": "cash",
                                                               "date": "2026-11-22T10:00:00"}).json()
    assert cash["set"] == "Document_ПриходныйКассовыйОрдер"
    assert control(server, "GET", f"/{name}/invoices/{inv}/status").json()["status"] == "Оплачен"
    bal = client.get(f"AccumulationRegister_РасчетыСКлиентами/Balance(Condition='СчетНаОплату_Key eq guid''{inv}''')")
    assert bal.status_code == 200 and bal.json()["value"][0]["СуммаBalance"] == -100000
    turn = client.get("AccumulationRegister_РасчетыСКлиентами/Turnovers(StartPeriod=datetime'2026-11-22T00:00:00', "
                      "Dimensions='ОбъектРасчетов')")
    assert turn.json()["value"][0]["СуммаExpense"] == 60000
    control(server, "POST", f"/{name}/payments/{cash['ref_key']}/unpost")
    assert control(server, "GET", f"/{name}/invoices/{inv}/status").json()["status"] == "ОплаченЧастично"


def test_ut_payment_without_partner_is_refused(server: Any) -> None:
    name = make_base(server, "ut11")
    client = OData(server.url, name)
    cp = client.post("Catalog_Контрагенты", {"Description": "Без партнера", "ИНН": "7709000001"}).json()
    assert cp["Партнер_Key"] == EMPTY  # created over OData without a partner, as УТ allows writing it
    r = client.post("Document_ПоступлениеБезналичныхДенежныхСредств", {
        "Контрагент_Key": cp["Ref_Key"], "СуммаДокумента": 10, "РасшифровкаПлатежа": [{"Сумма": 10}]})
    p = client.action(f"Document_ПоступлениеБезналичныхДенежныхСредств(guid'{r.json()['Ref_Key']}')", "Post")
    assert p.status_code == 500 and 'Не заполнена колонка "Клиент"' in p.json()["odata.error"]["message"]["value"]


def test_unf_invoice_and_payments(server: Any) -> None:
    name = make_base(server, "unf")
    client = OData(server.url, name)
    inv = new_invoice(server, name, [("MP-LST-4", 1, 72000)], comment="unf-1")["ref_key"]
    doc = client.get(f"Document_СчетНаОплату(guid'{inv}')").json()
    assert doc["Posted"] is True and doc["СуммаДокумента"] == 72000 and doc["Запасы"][0]["Всего"] == 72000
    assert doc["Договор_Key"] != EMPTY
    contract = client.get(f"Catalog_ДоговорыКонтрагентов(guid'{doc['Договор_Key']}')").json()
    assert contract["Owner"] == doc["Контрагент_Key"] and contract["Owner_Type"] == "StandardODATA.Catalog_Контрагенты"
    plan = client.values("AccumulationRegister_ОплатаСчетовИЗаказов_RecordType", {
        "$filter": f"СчетНаОплату eq cast(guid'{inv}', 'Document_СчетНаОплату')"})
    assert len(plan) == 1 and plan[0]["Сумма"] == 72000
    pay = control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv, "amount": 30000,
                                                              "date": "2026-11-21T10:00:00"}).json()
    assert pay["set"] == "Document_ПоступлениеНаСчет"
    pdoc = client.get(f"Document_ПоступлениеНаСчет(guid'{pay['ref_key']}')").json()
    assert pdoc["ВидОперации"] == "ОтПокупателя"
    row = pdoc["РасшифровкаПлатежа"][0]
    assert row["СчетНаОплату"] == inv and row["СчетНаОплату_Type"] == "StandardODATA.Document_СчетНаОплату"
    turn = client.get(f"AccumulationRegister_ОплатаСчетовИЗаказов/Turnovers(Condition='СчетНаОплату eq cast(guid''{inv}'', "
                      "''Document_СчетНаОплату'')')").json()["value"][0]
    assert turn["СуммаTurnover"] == 72000 and turn["СуммаАвансаTurnover"] + turn["СуммаОплатыTurnover"] == 30000
    assert control(server, "GET", f"/{name}/invoices/{inv}/status").json()["status"] == "ОплаченЧастично"
    control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv, "amount": 42000, "kind": "cash",
                                                        "date": "2026-11-22T10:00:00"})
    st = control(server, "GET", f"/{name}/invoices/{inv}/status").json()
    assert st["status"] == "Оплачен" and st["paid"] == 72000 and len(st["payments"]) == 2


def test_unf_counterparty_without_invoice_tracking(server: Any) -> None:
    name = make_base(server, "unf")
    client = OData(server.url, name)
    inv = new_invoice(server, name, [("MP-LST-4", 1, 1000)])["ref_key"]
    doc = client.get(f"Document_СчетНаОплату(guid'{inv}')").json()
    client.patch(f"Catalog_Контрагенты(guid'{doc['Контрагент_Key']}')", {"ВестиУчетОплатыПоСчетам": False})
    control(server, "POST", f"/{name}/payments", json={"invoice_ref": inv, "amount": 1000, "date": "2026-11-21T10:00:00"})
    recs = client.values("AccumulationRegister_ОплатаСчетовИЗаказов_RecordType", {
        "$filter": f"СчетНаОплату eq cast(guid'{inv}', 'Document_СчетНаОплату') and Recorder ne '{inv}'"})
    assert recs == []  # УНФ tracks invoice payments only for counterparties flagged ВестиУчетОплатыПоСчетам
