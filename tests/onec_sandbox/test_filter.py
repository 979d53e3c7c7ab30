"""``$filter`` grammar of the 1C OData interface, its edge cases and 1C's own quirks."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import OData, bp_invoice, control, make_base, refs

CP = "Catalog_Контрагенты"


@pytest.fixture(scope="module")
def fb(server: Any) -> OData:
    """A base of its own: the counterparty lists below must not see other tests' writes."""
    return OData(server.url, make_base(server, "bp30", name="bp_filter"))


def names(client: OData, flt: str, set_name: str = CP) -> list[str]:
    r = client.get(set_name, {"$filter": flt, "$orderby": "Description"})
    assert r.status_code == 200, r.text
    return [v["Description"] for v in r.json()["value"]]


@pytest.mark.parametrize(("flt", "expected"), [
    ("ИНН eq '5024093941'", ['ООО "Ромашка"', 'ООО "Ромашка" (филиал)']),
    ("ИНН eq '5024093941' and КПП eq '502402001'", ['ООО "Ромашка" (филиал)']),
    ("ИНН ne '5024093941'", ['АО "СтройМонтаж"']),
    ("(ИНН eq '7728168971') or (КПП eq '502402001')", ['АО "СтройМонтаж"', 'ООО "Ромашка" (филиал)']),
    ("not (ИНН eq '5024093941')", ['АО "СтройМонтаж"']),
    ("КПП gt '502401001' and КПП lt '772801001'", ['ООО "Ромашка" (филиал)']),
    ("КПП ge '772801001'", ['АО "СтройМонтаж"']),
    ("КПП le '502401001'", ['ООО "Ромашка"']),
    ("substringof('ромашка', Description)", ['ООО "Ромашка"', 'ООО "Ромашка" (филиал)']),
    ("startswith(Description, 'АО')", ['АО "СтройМонтаж"']),
    ("endswith(Description, '(филиал)')", ['ООО "Ромашка" (филиал)']),
    ("Description eq 'ООО \"Ромашка\"'", ['ООО "Ромашка"']),
    ("like(Description, 'АО%')", ['АО "СтройМонтаж"']),
    ("DeletionMark eq false and IsFolder eq false and ИНН eq '7728168971'", ['АО "СтройМонтаж"']),
    ("ИНН eq 'нет такого'", []),
])
def test_comparisons_logic_and_functions(fb: OData, flt: str, expected: list[str]) -> None:
    assert names(fb, flt) == expected


def test_doubled_quotes_in_strings(fresh_bp: str, server: Any) -> None:
    client = OData(server.url, fresh_bp)
    created = client.post(CP, {"Description": "ИП О'Брайен", "ИНН": "500100732259"})
    assert created.status_code == 201
    assert names(client, "Description eq 'ИП О''Брайен'") == ["ИП О'Брайен"]


def test_guid_datetime_and_navigation(odata: OData) -> None:
    r = refs(odata)
    inv = bp_invoice(odata, 3000.0, comment="flt-nav")
    docs = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": f"Контрагент_Key eq guid'{r['cp']}' and Date ge datetime'2026-11-20T00:00:00' "
                   f"and Date lt datetime'2026-11-21T00:00:00' and Комментарий eq 'flt-nav'"})
    assert [d["Ref_Key"] for d in docs] == [inv["Ref_Key"]]
    via_nav = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": "Контрагент/ИНН eq '5024093941' and Комментарий eq 'flt-nav'"})
    assert [d["Ref_Key"] for d in via_nav] == [inv["Ref_Key"]]
    nested = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": "ДоговорКонтрагента/Owner/ИНН eq '5024093941' and Комментарий eq 'flt-nav'"})
    assert len(nested) == 1
    years = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": "year(Date) eq 2026 and month(Date) eq 11 and day(Date) eq 20 and Комментарий eq 'flt-nav'"})
    assert len(years) == 1
    lam = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": "Товары/any(d: d/Цена gt 2999) and Комментарий eq 'flt-nav'"})
    assert len(lam) == 1
    none = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": "Товары/all(d: d/Цена gt 5000) and Комментарий eq 'flt-nav'"})
    assert none == []
    arith = odata.values("Document_СчетНаОплатуПокупателю", {
        "$filter": "СуммаДокумента sub 1000 eq 2000 and Комментарий eq 'flt-nav'"})
    assert len(arith) == 1


def test_composite_needs_cast_and_bare_guid_matches_nothing(server: Any, odata: OData) -> None:
    inv = bp_invoice(odata, 5000.0, comment="flt-cast")
    control(server, "POST", "/bp_main/payments", json={"invoice_ref": inv["Ref_Key"], "amount": 100.0,
                                                        "date": "2026-11-22T10:00:00"})
    ok = odata.values("AccumulationRegister_ОплатаСчетов_RecordType", {
        "$filter": f"СчетНаОплату eq cast(guid'{inv['Ref_Key']}', 'Document_СчетНаОплатуПокупателю')"})
    assert len(ok) == 1 and ok[0]["Сумма"] == 100
    bare = odata.values("AccumulationRegister_ОплатаСчетов_RecordType", {
        "$filter": f"СчетНаОплату eq guid'{inv['Ref_Key']}'"})
    assert bare == []
    wrong_type = odata.values("AccumulationRegister_ОплатаСчетов_RecordType", {
        "$filter": f"СчетНаОплату eq cast(guid'{inv['Ref_Key']}', 'Document_СчетНаОплатуПоставщика')"})
    assert wrong_type == []
    payments = odata.values("Document_ПоступлениеНаРасчетныйСчет", {
        "$filter": "isof(Контрагент, 'Catalog_Контрагенты') and Posted eq true"})
    assert payments
    st = odata.values("InformationRegister_СтатусыДокументов", {
        "$filter": f"Документ eq cast(guid'{inv['Ref_Key']}', 'Document_СчетНаОплатуПокупателю')"})
    assert st[0]["Статус"] == "ОплаченЧастично"


def test_plus_for_space_answers_500(odata: OData) -> None:
    r = odata.raw("GET", "Catalog_Контрагенты?$format=json&$filter=ИНН+eq+'5024093941'")
    assert r.status_code == 500
    err = r.json()["odata.error"]
    assert err["message"]["value"] == 'Операция не разрешена в предложении "ГДЕ"'
    ok = odata.raw("GET", "Catalog_Контрагенты?$format=json&$filter=ИНН%20eq%20'5024093941'")
    assert ok.status_code == 200 and len(ok.json()["value"]) == 2
    plus_inside_string = odata.raw("GET", "Catalog_Контрагенты?$format=json&$filter=Description%20eq%20'A+B'")
    assert plus_inside_string.status_code == 200 and plus_inside_string.json()["value"] == []


@pytest.mark.parametrize("flt", [
    "ИНН eq", "ИНН eq '5024093941' and", "(ИНН eq '1'", "ИНН === '1'", "tolower(Description) eq 'x'",
    "length(Description) eq 3", "ИНН eq guid'not-a-guid'", "Date eq datetime'2026-13-45T00:00:00'",
])
def test_bad_filters_answer_400_code_14(odata: OData, flt: str) -> None:
    r = odata.get(CP, {"$filter": flt})
    assert r.status_code == 400
    assert r.json()["odata.error"] == {"code": "14", "message": {"lang": "ru",
                                                                 "value": "Ошибка при разборе опции запроса $filter"}}


def test_unknown_property_in_filter(odata: OData) -> None:
    r = odata.get(CP, {"$filter": "НетТакогоПоля eq 1"})
    assert r.status_code == 400 and r.json()["odata.error"]["code"] == "6"
    assert r.json()["odata.error"]["message"]["value"] == "Сегмент пути НетТакогоПоля не найден!"


def test_datetime_literal_against_string_field_is_not_an_error(odata: OData) -> None:
    r = odata.get(CP, {"$filter": "ИНН eq datetime'2026-01-01T00:00:00'"})
    assert r.status_code == 200 and r.json()["value"] == []
