"""JSON and Atom answers in the shapes of live 1C captures (spec 1.2 and the kept-back rows of INDEX.md)."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .conftest import OData, bp_invoice, control, refs

EMPTY = "00000000-0000-0000-0000-000000000000"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_document_list_shape(odata: OData) -> None:
    inv = bp_invoice(odata, 60000.0, comment="shape-list")
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'shape-list'"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["odata.metadata", "value"]
    assert body["odata.metadata"].endswith("/odata/standard.odata/$metadata#Document_СчетНаОплатуПокупателю")
    doc = body["value"][0]
    assert list(doc)[:6] == ["Ref_Key", "DataVersion", "DeletionMark", "Number", "Date", "Posted"]
    assert doc["Ref_Key"] == inv["Ref_Key"] and GUID.match(doc["Ref_Key"])
    assert doc["Posted"] is True and isinstance(doc["DeletionMark"], bool)
    assert doc["КратностьВзаиморасчетов"] == "1"  # Edm.Int64 as a string
    assert doc["СуммаДокумента"] == 60000 and isinstance(doc["СуммаДокумента"], int)  # integral double
    assert doc["Склад_Key"] == EMPTY  # empty reference sentinel
    assert doc["ДокументОснование"] == "" and doc["ДокументОснование_Type"] == "StandardODATA.Undefined"
    assert doc["УдалитьСтатусОплаты"] == ""  # empty enum
    assert re.match(r"^[A-Z0-9]{4}-\d{6}$", doc["Number"])
    row = doc["Товары"][0]
    assert row["Ref_Key"] == doc["Ref_Key"] and row["LineNumber"] == "1"
    assert row["СтавкаНДС"] == "НДС20" and row["СуммаНДС"] == 10000
    assert row["Номенклатура@navigationLinkUrl"] == (
        f"Document_СчетНаОплатуПокупателю_Товары(Ref_Key=guid'{doc['Ref_Key']}', LineNumber=1)/Номенклатура")
    assert doc["Контрагент@navigationLinkUrl"] == f"Document_СчетНаОплатуПокупателю(guid'{doc['Ref_Key']}')/Контрагент"
    assert list(doc)[-1].endswith("@navigationLinkUrl")


def test_empty_date_sentinel_and_catalog_shape(odata: OData) -> None:
    r = refs(odata)
    created = odata.post("Catalog_ДоговорыКонтрагентов", {"Owner_Key": r["cp"], "Description": "Основной договор"})
    assert created.status_code == 201
    c = odata.get(f"Catalog_ДоговорыКонтрагентов(guid'{created.json()['Ref_Key']}')").json()
    assert c["odata.metadata"].endswith("#Catalog_ДоговорыКонтрагентов/@Element")
    for key in ("Owner_Key", "Parent_Key", "IsFolder", "Code", "Description", "ВидДоговора", "Номер", "Дата"):
        assert key in c
    assert c["Дата"] == "0001-01-01T00:00:00" and c["Номер"] == ""
    assert c["СрокОплаты"] == "0"
    assert list(c)[1:4] == ["Ref_Key", "DataVersion", "DeletionMark"]
    assert c["Predefined"] is False and c["PredefinedDataName"] == ""


def test_single_entity_rows_have_no_ref_key(odata: OData) -> None:
    inv = bp_invoice(odata, 1200.0, comment="shape-single")
    body = odata.get(f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')").json()
    assert body["odata.metadata"].endswith("#Document_СчетНаОплатуПокупателю/@Element")
    assert "value" not in body
    row = body["Товары"][0]
    assert "Ref_Key" not in row and row["LineNumber"] == "1"
    by_key = odata.get(f"Document_СчетНаОплатуПокупателю(Ref_Key=guid'{inv['Ref_Key']}')")
    assert by_key.status_code == 200 and by_key.json()["Ref_Key"] == inv["Ref_Key"]


def test_navigation_get_returns_the_target_element(odata: OData) -> None:
    inv = bp_invoice(odata, 500.0)
    r = odata.get(f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')/Контрагент")
    assert r.status_code == 200
    assert r.json()["odata.metadata"].endswith("#Catalog_Контрагенты/@Element")
    assert r.json()["ИНН"] == "5024093941"
    prop = odata.get(f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')/Контрагент/ИНН").json()
    assert prop["value"] == "5024093941"


def test_atom_is_the_default_format(odata: OData) -> None:
    inv = bp_invoice(odata, 700.0, comment="atom")
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'atom'"}, fmt=False)
    assert r.headers["Content-Type"].startswith("application/atom+xml")
    root = etree.fromstring(r.content)
    ns = {"a": "http://www.w3.org/2005/Atom", "m": "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata",
          "d": "http://schemas.microsoft.com/ado/2007/08/dataservices"}
    entry = root.find("a:entry", ns)
    assert entry.find("a:category", ns).get("term") == "StandardODATA.Document_СчетНаОплатуПокупателю"
    props = entry.find("a:content/m:properties", ns)
    assert props.find("d:Ref_Key", ns).text == inv["Ref_Key"]
    assert props.find("d:Posted", ns).get("{{{}}}type".format(ns["m"])) == "Edm.Boolean"
    tab = props.find("d:Товары", ns)
    assert tab.get("{{{}}}type".format(ns["m"])) == "Collection(StandardODATA.Document_СчетНаОплатуПокупателю_Товары_RowType)"
    assert tab.find("d:element/d:LineNumber", ns).text == "1"
    json_accept = odata.http.get(odata.url("Catalog_Валюты"), headers=dict(odata.headers, Accept="application/json"))
    assert json_accept.json()["value"][0]["Code"] in ("643", "840", "978")


def test_inlinecount_count_top_skip_orderby(odata: OData) -> None:
    for i in range(3):
        bp_invoice(odata, 100.0 + i, comment=f"paging-{i}")
    flt = "substringof('paging-', Комментарий)"
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": flt, "$inlinecount": "allpages", "$top": "2",
                                                      "$orderby": "СуммаДокумента desc", "$select": "СуммаДокумента"})
    body = r.json()
    assert body["odata.count"] == "3" and isinstance(body["odata.count"], str)
    assert [v["СуммаДокумента"] for v in body["value"]] == [102, 101]
    assert list(body["value"][0]) == ["СуммаДокумента"]
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": flt, "$skip": "2", "$orderby": "СуммаДокумента desc"})
    assert [v["СуммаДокумента"] for v in r.json()["value"]] == [100]
    count = odata.get("Document_СчетНаОплатуПокупателю/$count", {"$filter": flt}, fmt=False)
    assert count.status_code == 200 and count.text == "3" and count.headers["Content-Type"].startswith("text/plain")


def test_select_and_expand(odata: OData) -> None:
    bp_invoice(odata, 900.0, comment="expand")
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'expand'",
                                                      "$select": "Number,Контрагент/Description,Товары/Сумма",
                                                      "$expand": "Контрагент"})
    doc = r.json()["value"][0]
    assert doc["Контрагент"]["Description"] == 'ООО "Ромашка"'
    assert set(doc["Контрагент"]) == {"Description"}
    assert set(doc["Товары"][0]) == {"Ref_Key", "LineNumber", "Сумма"}
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'expand'",
                                                      "$select": "Number", "$expand": "Контрагент"})
    assert "Контрагент" not in r.json()["value"][0]  # not in $select: silently not expanded
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'expand'",
                                                      "$expand": "Контрагент,ДоговорКонтрагента/Owner"})
    doc = r.json()["value"][0]
    assert doc["Контрагент"]["ИНН"] == "5024093941"
    assert doc["ДоговорКонтрагента"]["Owner"]["ИНН"] == "5024093941"
    assert doc["Склад_Key"] == EMPTY
    single = odata.get(f"Document_СчетНаОплатуПокупателю(guid'{doc['Ref_Key']}')", {"$expand": "Контрагент"})
    assert single.status_code == 200 and "Контрагент" not in single.json()  # 1C expands in collections only
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'expand'", "$select": "**"})
    assert "Товары" not in r.json()["value"][0] and "Number" in r.json()["value"][0]
    r = odata.get("Document_СчетНаОплатуПокупателю", {"$filter": "Комментарий eq 'expand'",
                                                      "$select": "Number,Контрагент____Presentation"})
    assert r.json()["value"][0]["Контрагент____Presentation"] == 'ООО "Ромашка"'


def test_nometadata_and_fullmetadata(odata: OData) -> None:
    r = odata.get("Catalog_Валюты", {"$format": "application/json;odata=nometadata"})
    body = r.json()
    assert "odata.metadata" not in body and "value" in body
    r = odata.get("Catalog_Валюты", {"$format": "application/json;odata=fullmetadata", "$top": "1"})
    item = r.json()["value"][0]
    assert item["odata.type"] == "StandardODATA.Catalog_Валюты" and item["odata.editLink"].startswith("Catalog_Валюты(")


def test_tabular_and_register_sets(server: Any, odata: OData) -> None:
    inv = bp_invoice(odata, 2400.0, comment="tab-set")
    rows = odata.values("Document_СчетНаОплатуПокупателю_Товары", {"$filter": f"Ref_Key eq guid'{inv['Ref_Key']}'"})
    assert len(rows) == 1 and rows[0]["LineNumber"] == "1" and rows[0]["Сумма"] == 2400
    one = odata.get(f"Document_СчетНаОплатуПокупателю_Товары(Ref_Key=guid'{inv['Ref_Key']}', LineNumber=1)")
    assert one.status_code == 200 and one.json()["Сумма"] == 2400
    pay = control(server, "POST", "/bp_main/payments", json={"invoice_ref": inv["Ref_Key"], "amount": 400.0,
                                                              "date": "2026-11-21T09:00:00"}).json()
    recs = odata.values("AccumulationRegister_ОплатаСчетов_RecordType", {"$filter": f"Recorder eq '{pay['ref_key']}'"})
    assert recs[0]["LineNumber"] == "1" and recs[0]["Recorder_Type"] == "StandardODATA.Document_ПоступлениеНаРасчетныйСчет"
    rs = odata.get("AccumulationRegister_ОплатаСчетов(Recorder='{}', Recorder_Type='{}')".format(
        pay["ref_key"], "StandardODATA.Document_ПоступлениеНаРасчетныйСчет"))
    assert rs.status_code == 200 and rs.json()["RecordSet"][0]["Сумма"] == 400
    sets = odata.values("AccumulationRegister_ОплатаСчетов", {"$filter": f"Recorder eq '{pay['ref_key']}'"})
    assert sets[0]["RecordSet"][0]["СчетНаОплату"] == inv["Ref_Key"]
