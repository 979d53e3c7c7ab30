"""The configuration profiles against the DERIVED object descriptions of real БП/УТ/УНФ dumps."""

from __future__ import annotations

import json

import pytest

from b24sandbox.onec.profiles.build import SOURCE_FILES, build_profile
from b24sandbox.onec.schema import PROFILE_DIR, load_profile

from .conftest import FIXTURES


@pytest.mark.parametrize("profile", list(SOURCE_FILES))
def test_committed_profile_is_what_the_fixtures_build(profile: str) -> None:
    committed = json.loads((PROFILE_DIR / f"{profile}.json").read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(build_profile(profile, FIXTURES), ensure_ascii=False))


@pytest.mark.parametrize("profile", list(SOURCE_FILES))
def test_property_names_and_types_follow_the_dump(profile: str) -> None:
    """Every derived attribute is published under the OData names the dump derives, with its Edm type."""
    src = json.loads((FIXTURES / SOURCE_FILES[profile]).read_text(encoding="utf-8"))
    p = load_profile(profile)
    checked = 0
    for obj in src["objects"]:
        set_name = f"{obj['kind']}_{obj['name']}"
        if obj["kind"] == "AccumulationRegister":
            set_name += "_RecordType"
        et = p.sets.get(set_name)
        if et is None:
            continue
        groups = [(et, obj.get("attributes", []) + obj.get("dimensions", []) + obj.get("resources", []))]
        for tp in obj.get("tabular_sections", []):
            groups.append((p.sets[f"{obj['kind']}_{obj['name']}_{tp['name']}"], tp["attributes"]))
        for target, attrs in groups:
            for attr in attrs:
                for od in attr.get("odata", []):
                    f = target.by_name.get(od["property"])
                    assert f is not None, (set_name, od["property"])
                    edm = od["edm"]
                    if edm.startswith("Edm.Guid"):
                        assert f.edm == "Edm.Guid"
                    elif edm.startswith("Edm.Int"):
                        assert f.edm == "Edm.Int64"
                    elif edm in ("Edm.Double", "Edm.Boolean", "Edm.DateTime"):
                        assert f.edm == edm, (set_name, f.name)
                    elif edm.startswith("Edm.String"):
                        assert f.edm == "Edm.String", (set_name, f.name)
                    checked += 1
                if attr.get("string_length") and attr["types"] in (["xs:string"], ["String"]):
                    assert target.by_name[attr["name"]].length == attr["string_length"]
    assert checked > 300


def test_objects_the_sync_needs_are_published() -> None:
    bp = load_profile("bp30")
    for name in ("Catalog_Организации", "Catalog_Контрагенты", "Catalog_ДоговорыКонтрагентов", "Catalog_Номенклатура",
                 "Catalog_БанковскиеСчета", "Catalog_Валюты", "Document_СчетНаОплатуПокупателю",
                 "Document_СчетНаОплатуПокупателю_Товары", "Document_ПоступлениеНаРасчетныйСчет",
                 "Document_ПоступлениеНаРасчетныйСчет_РасшифровкаПлатежа", "Document_ПриходныйКассовыйОрдер",
                 "InformationRegister_СтатусыДокументов", "AccumulationRegister_ОплатаСчетов",
                 "AccumulationRegister_ОплатаСчетов_RecordType"):
        assert name in bp.sets, name
    inv = bp.sets["Document_СчетНаОплатуПокупателю"]
    for f in ("Организация_Key", "Контрагент_Key", "ДоговорКонтрагента_Key", "СуммаДокумента", "Комментарий"):
        assert f in inv.by_name
    rows = inv.tab_by_name["Товары"].by_name
    for f in ("Номенклатура_Key", "Количество", "Цена", "Сумма", "СтавкаНДС", "СуммаНДС"):
        assert f in rows
    pay = bp.sets["Document_ПоступлениеНаРасчетныйСчет"]
    assert pay.by_name["Контрагент"].kind == "composite" and "Контрагент_Type" in pay.by_name
    assert "СчетНаОплату_Key" in pay.tab_by_name["РасшифровкаПлатежа"].by_name
    contract = bp.sets["Catalog_ДоговорыКонтрагентов"]
    for f in ("Номер", "Дата", "ВидДоговора", "Owner_Key", "Организация_Key"):
        assert f in contract.by_name
    ut = load_profile("ut11")
    assert "Code" not in ut.sets["Catalog_Контрагенты"].by_name  # УТ counterparties have no code
    assert ut.sets["Catalog_БанковскиеСчетаКонтрагентов"].by_name["Owner_Type"]
    assert "ОснованиеПлатежа_Type" in ut.sets["Document_ПоступлениеБезналичныхДенежныхСредств"] \
        .tab_by_name["РасшифровкаПлатежа"].by_name
    assert "ЭтапыГрафикаОплаты" in ut.sets["Document_СчетНаОплатуКлиенту"].tab_by_name
    unf = load_profile("unf")
    assert {"Owner", "Owner_Type"} <= set(unf.sets["Catalog_ДоговорыКонтрагентов"].by_name)
    assert "СчетНаОплату_Type" in unf.sets["Document_ПоступлениеНаСчет"].tab_by_name["РасшифровкаПлатежа"].by_name
    assert "Запасы" in unf.sets["Document_СчетНаОплату"].tab_by_name


def test_hand_defined_objects_are_marked() -> None:
    for profile in SOURCE_FILES:
        doc = json.loads((PROFILE_DIR / f"{profile}.json").read_text(encoding="utf-8"))
        origins = {o["name"]: o["origin"] for o in doc["objects"] if o["kind"] != "Enum"}
        assert origins["Организации"] == "sandbox"
        assert origins["Контрагенты"] == "derived"
