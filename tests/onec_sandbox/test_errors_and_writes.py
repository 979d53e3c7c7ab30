"""Error codes and statuses of odata_error_observations.json, 1C's silent write rules, and the write verbs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import FIXTURES, OData, bp_invoice, refs

OBS = json.loads((FIXTURES / "odata_error_observations.json").read_text(encoding="utf-8"))["observations"]


def observed(trigger_part: str) -> dict[str, Any]:
    return [o for o in OBS if trigger_part in (o.get("trigger") or "")][0]


def err(r: Any) -> dict[str, Any]:
    return r.json()["odata.error"]


def test_unknown_set_and_missing_instance(odata: OData) -> None:
    r = odata.get("Catalog_НетТакого")
    assert r.status_code == 404 and err(r)["code"] == "6"
    r = odata.get("Catalog_Контрагенты(guid'00000000-0000-0000-0000-00000000beef')")
    o = [x for x in OBS if x["status"] == 404 and x["code"] == "9"][0]
    assert r.status_code == o["status"] and err(r)["code"] == o["code"]
    assert err(r)["message"]["value"] == 'Экземпляр сущности "Контрагенты" не найден по переданному ключу.'
    r = odata.delete("Catalog_Контрагенты(guid'00000000-0000-0000-0000-00000000beef')")
    assert r.status_code == 404 and err(r)["code"] == "9"


def test_bad_key_literal(odata: OData) -> None:
    r = odata.get("Catalog_Контрагенты(guid'abc')")
    assert r.status_code == 400 and err(r)["code"] == "1"
    r = odata.get("Catalog_Контрагенты(123)")
    assert r.status_code == 400 and err(r)["code"] == "1"
    r = odata.get("InformationRegister_СтатусыДокументов(Документ='x')")
    assert r.status_code == 400 and err(r)["code"] == "7"


def test_unknown_select_field(odata: OData) -> None:
    o = observed("unknown field in $select")
    r = odata.get("Catalog_Контрагенты", {"$select": "Description,НетТакогоПоля"})
    assert r.status_code == o["status"] and err(r)["code"] == o["code"]
    assert err(r)["message"]["value"] == o["message"]


def test_bad_filter(odata: OData) -> None:
    o = observed("syntax error in $filter")
    r = odata.get("Catalog_Контрагенты", {"$filter": "ИНН eq eq"})
    assert (r.status_code, err(r)["code"], err(r)["message"]["value"]) == (o["status"], o["code"], o["message"])


def test_balance_on_a_turnovers_register(odata: OData) -> None:
    o = observed("Balance() on a turnovers-only")
    r = odata.get("AccumulationRegister_ОплатаСчетов/Balance()")
    assert (r.status_code, err(r)["code"], err(r)["message"]["value"]) == (o["status"], o["code"], o["message"])


@pytest.mark.parametrize(("payload", "trigger"), [
    ({"Owner_Key": "not-a-guid"}, "non-guid string"),
    ({"IsFolder": "yes"}, "string sent in Edm.Boolean"),
])
def test_unparsable_values_answer_400_code_1(odata: OData, payload: dict, trigger: str) -> None:
    o = observed(trigger)
    r = odata.post("Catalog_ДоговорыКонтрагентов", dict(payload, Description="x"))
    assert r.status_code == o["status"] and err(r)["code"] == o["code"]
    assert err(r)["message"]["value"].startswith("Не удалось разобрать строку")


def test_malformed_json_and_array_into_string(odata: OData) -> None:
    o = observed("malformed JSON body")
    r = odata.post("Catalog_Контрагенты", b'{"Description": "x",')
    assert (r.status_code, err(r)["code"], err(r)["message"]["value"]) == (o["status"], o["code"], o["message"])
    o = observed("JSON array sent into a string property")
    r = odata.post("Catalog_Контрагенты", {"Description": ["a", "b"]})
    assert (r.status_code, err(r)["code"]) == (o["status"], o["code"])
    assert err(r)["message"]["value"] == o["message"]


def test_errors_in_xml_when_atom(odata: OData) -> None:
    r = odata.get("Catalog_НетТакого", fmt=False)
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("application/xml")
    assert b"<m:code>6</m:code>" in r.content and b'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices' \
                                                    b'/metadata"' in r.content


def test_silent_write_rules(odata: OData) -> None:
    r = refs(odata)
    long_name = "Я" * 238
    created = odata.post("Catalog_ДоговорыКонтрагентов", {
        "Owner_Key": r["cp"], "Description": long_name, "СрокОплаты": "десять", "НетТакогоСвойства": 1,
        "ВидДоговора": "СПокупателем", "Организация_Key": "11111111-1111-1111-1111-111111111111"})
    assert created.status_code == 201, created.text
    c = created.json()
    assert c["Description"] == "Я" * 100  # truncated to the attribute length
    assert c["СрокОплаты"] == "0"  # a string into Int64 -> 0
    assert "НетТакогоСвойства" not in c  # unknown property ignored
    assert c["Организация_Key"] == "11111111-1111-1111-1111-111111111111"  # a broken reference is stored
    assert c["DataVersion"] == "AAAAAAAAAAA="
    ref = c["Ref_Key"]
    p = odata.patch(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')", {"Ref_Key": "22222222-2222-2222-2222-222222222222"})
    assert p.status_code == 200 and p.json()["Ref_Key"] == ref  # Ref_Key in PATCH ignored
    assert p.json()["DataVersion"] == "AAAAAAAAAAE="  # every write bumps DataVersion, even a no-op
    p = odata.http.patch(odata.url(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')", {"$format": "json"}),
                         data=b'{"DeletionMark": true}', headers=dict(odata.headers, **{"If-Match": "stale"}))
    assert p.status_code == 200 and p.json()["DeletionMark"] is True and p.json()["DataVersion"] == "AAAAAAAAAAI="


def test_post_location_and_body(odata: OData) -> None:
    r = odata.post("Catalog_Контрагенты", {"Description": "ООО Новый", "ИНН": "7707083893", "КПП": "773601001"})
    assert r.status_code == 201
    assert r.headers["DataServiceVersion"] == "3.0"
    ent = r.json()
    assert ent["odata.metadata"].endswith("#Catalog_Контрагенты/@Element")
    assert ent["Code"] and ent["НаименованиеПолное"] == "ООО Новый"  # defaults and the code filled in
    # Location carries raw UTF-8 bytes; http.client decodes them as latin-1
    raw = r.headers["Location"].encode("latin-1").decode("utf-8")
    assert raw.endswith(f"/Catalog_Контрагенты(guid'{ent['Ref_Key']}')")
    given = "0f0e0d0c-0b0a-1109-8807-060504030201"
    r2 = odata.post("Catalog_Контрагенты", {"Ref_Key": given, "Description": "С ключом"})
    assert r2.status_code == 201 and r2.json()["Ref_Key"] == given
    r3 = odata.post("Catalog_Контрагенты", {"Ref_Key": given, "Description": "Дубль"})
    assert r3.status_code == 400 and err(r3)["code"] == "15"


def test_patch_replaces_tabular_part_whole(odata: OData) -> None:
    r = refs(odata)
    inv = bp_invoice(odata, 1000.0, comment="patch-whole", post=False)
    key = f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')"
    two = [{"Номенклатура_Key": r["arm"], "Количество": 1, "Цена": 100, "Сумма": 100, "СтавкаНДС": "НДС20",
            "СуммаНДС": 16.67},
           {"Номенклатура_Key": r["lst"], "Количество": 2, "Цена": 200, "Сумма": 400, "СтавкаНДС": "НДС20",
            "СуммаНДС": 66.67}]
    p = odata.patch(key, {"Товары": two})
    assert p.status_code == 200
    assert [x["LineNumber"] for x in p.json()["Товары"]] == ["1", "2"]
    assert p.json()["СуммаДокумента"] == 500  # recomputed before write, as БП's ПередЗаписью does
    partial = odata.patch(key, {"Товары": [{"LineNumber": 2, "Количество": 5}]})
    rows = partial.json()["Товары"]
    assert len(rows) == 1 and rows[0]["Номенклатура_Key"] == "00000000-0000-0000-0000-000000000000"
    assert partial.json()["СуммаДокумента"] == 0
    same = odata.patch(key, {"Комментарий": "patch-whole-2"})
    assert len(same.json()["Товары"]) == 1  # not sent -> kept


def test_put_and_delete(odata: OData) -> None:
    r = refs(odata)
    created = odata.post("Catalog_ДоговорыКонтрагентов", {"Owner_Key": r["cp"], "Description": "PUT",
                                                           "Номер": "77", "Комментарий": "будет стерто"})
    ref = created.json()["Ref_Key"]
    put = odata.put(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')", {"Owner_Key": r["cp"], "Description": "PUT2"})
    assert put.status_code == 200 and put.json()["Комментарий"] == "" and put.json()["Description"] == "PUT2"
    d = odata.delete(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')")
    assert d.status_code == 204
    assert odata.get(f"Catalog_ДоговорыКонтрагентов(guid'{ref}')").status_code == 404


def test_bind_reference(odata: OData) -> None:
    r = refs(odata)
    created = odata.post("Catalog_ДоговорыКонтрагентов", {
        "Description": "bind", "Owner@odata.bind": f"Catalog_Контрагенты(guid'{r['cp']}')"})
    assert created.json()["Owner_Key"] == r["cp"]


def test_tabular_set_is_read_only(odata: OData) -> None:
    r = odata.post("Document_СчетНаОплатуПокупателю_Товары", {"Сумма": 1})
    assert r.status_code == 400 and err(r)["code"] == "13"


def test_post_unpost_and_deletion_mark(odata: OData) -> None:
    inv = bp_invoice(odata, 800.0, comment="post-unpost", post=False)
    key = f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')"
    assert odata.get(key).json()["Posted"] is False
    p = odata.action(key, "Post")
    assert p.status_code == 200 and p.content == b""
    # an empty 200 carries no media type (not werkzeug's default text/html)
    assert "Content-Type" not in p.headers and p.headers["Content-Length"] == "0"
    after = odata.get(key).json()
    assert after["Posted"] is True and after["DataVersion"] != inv["DataVersion"]
    paren = odata.http.post(odata.root + odata.url(key)[len(odata.root):] + "/Unpost()", headers=odata.headers)
    assert paren.status_code == 200 and odata.get(key).json()["Posted"] is False
    assert paren.content == b"" and "Content-Type" not in paren.headers
    odata.action(key, "Post")
    marked = odata.patch(key, {"DeletionMark": True})
    assert marked.json()["DeletionMark"] is True and marked.json()["Posted"] is False  # marking unposts
    again = odata.action(key, "Post")
    assert again.status_code == 500 and err(again)["code"] == "-1"
    assert "помеченный на удаление" in err(again)["message"]["value"].lower()
    on_catalog = odata.action(f"Catalog_Контрагенты(guid'{refs(odata)['cp']}')", "Post")
    assert on_catalog.status_code == 400 and err(on_catalog)["code"] == "6"


@pytest.mark.parametrize(("change", "text"), [
    ({"Товары": []}, 'Не заполнена табличная часть "Товары"'),
    ({"Товары": [{"Номенклатура_Key": "12345678-1234-1234-1234-123456789012", "Количество": 1, "Сумма": 10}]},
     "несуществующая номенклатура"),
    ({"Контрагент_Key": "00000000-0000-0000-0000-000000000000"}, 'Поле "Контрагент" не заполнено'),
])
def test_business_errors_at_posting_are_500_minus_1(odata: OData, change: dict, text: str) -> None:
    inv = bp_invoice(odata, 100.0, post=False)
    key = f"Document_СчетНаОплатуПокупателю(guid'{inv['Ref_Key']}')"
    odata.patch(key, change)
    r = odata.action(key, "Post")
    assert r.status_code == 500 and err(r)["code"] == "-1"
    assert err(r)["message"]["value"].startswith('Не удалось провести "Счет на оплату покупателю ')
    assert text in err(r)["message"]["value"]


def test_payment_without_counterparty_cannot_be_posted(odata: OData) -> None:
    r = odata.post("Document_ПоступлениеНаРасчетныйСчет", {"ВидОперации": "ОплатаПокупателя", "СуммаДокумента": 10})
    assert r.status_code == 201
    p = odata.action(f"Document_ПоступлениеНаРасчетныйСчет(guid'{r.json()['Ref_Key']}')", "Post")
    assert p.status_code == 500 and err(p)["code"] == "-1"
    assert 'Поле "Контрагент" не заполнено' in err(p)["message"]["value"]


def test_information_register_write_by_composite_key(odata: OData) -> None:
    inv = bp_invoice(odata, 10.0, comment="info-reg")
    org = refs(odata)["org"]
    rec = {"Организация_Key": org, "Документ": inv["Ref_Key"],
           "Документ_Type": "StandardODATA.Document_СчетНаОплатуПокупателю", "Статус": "Отменен",
           "Статус_Type": "UnavailableEnums.СтатусОплатыСчета"}
    r = odata.post("InformationRegister_СтатусыДокументов", rec)
    assert r.status_code == 201 and r.json()["Статус"] == "Отменен"
    key = (f"InformationRegister_СтатусыДокументов(Организация_Key=guid'{org}', Документ='{inv['Ref_Key']}', "
           f"Документ_Type='StandardODATA.Document_СчетНаОплатуПокупателю')")
    got = odata.get(key)
    assert got.status_code == 200 and got.json()["Статус"] == "Отменен"
    assert odata.patch(key, {"Статус": "Оплачен"}).json()["Статус"] == "Оплачен"
    assert odata.delete(key).status_code == 204
    assert odata.get(key).status_code == 404


def test_data_load_mode_skips_configuration_handlers(odata: OData) -> None:
    r = refs(odata)
    body = {"Организация_Key": r["org"], "Контрагент_Key": r["cp"], "СуммаДокумента": 123.0,
            "Товары": [{"Номенклатура_Key": r["arm"], "Количество": 1, "Сумма": 50}]}
    loaded = odata.post("Document_СчетНаОплатуПокупателю", body, headers={"1C-OData-DataLoadMode": "true"})
    assert loaded.json()["СуммаДокумента"] == 123  # ПередЗаписью did not recompute it
    normal = odata.post("Document_СчетНаОплатуПокупателю", body)
    assert normal.json()["СуммаДокумента"] == 50
