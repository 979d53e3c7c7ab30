"""Build the configuration profiles (bp30.json, ut11.json, unf.json) of the emulated 1C bases.

The objects that carry the invoice/payment exchange (counterparties, contracts, products, customer
invoices, bank and cash receipts, the payment registers, their enums) are taken from the DERIVED
object descriptions of real configuration dumps (``fixtures/1c/DERIVED_*_objects.json``): attribute
names, types, string lengths and number precision stay exactly as the dumps give them. Catalogs those
objects point to but the dumps do not describe (organizations, bank accounts, currencies, units, VAT
rates ...) are defined here by hand with a small set of attributes; every such object is marked
``"origin": "sandbox"`` in the output so nobody mistakes it for a derived one.

Run once after the fixtures change and commit the result::

    python -m b24sandbox.onec.profiles.build /work/shared/reference/fixtures/1c

The runtime never reads the fixtures; it loads the JSON written next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# Defined types and characteristics of the dumps resolved to what the platform exposes.
DEFINED_TYPES: dict[str, dict[str, Any]] = {
    "DefinedType.ДенежнаяСуммаНеотрицательная": {"type": "number", "digits": 15, "fraction": 2},
    "DefinedType.ДенежнаяСуммаЛюбогоЗнака": {"type": "number", "digits": 15, "fraction": 2},
    "DefinedType.Цена": {"type": "number", "digits": 15, "fraction": 2},
    "DefinedType.КурсВалюты": {"type": "number", "digits": 10, "fraction": 4},
    "DefinedType.ИНН": {"type": "string", "length": 12},
    "DefinedType.GTIN": {"type": "string", "length": 14},
    "DefinedType.ОбъектРасчетов": {
        "type": "composite",
        "targets": ["Document_ЗаказКлиента", "Catalog_ДоговорыКонтрагентов", "Document_РеализацияТоваровУслуг"],
    },
    "DefinedType.РасчетныйДокументСКлиентом": {
        "type": "composite",
        "targets": ["Document_СчетНаОплатуКлиенту", "Document_ЗаказКлиента", "Document_РеализацияТоваровУслуг",
                    "Document_ПоступлениеБезналичныхДенежныхСредств", "Document_ПриходныйКассовыйОрдер"],
    },
}

# Attributes whose type the dumps leave unresolved (defined types / characteristics without a name).
UNRESOLVED_BY_NAME: dict[str, dict[str, Any]] = {
    "Вес": {"type": "number", "digits": 15, "fraction": 3},
    "Объем": {"type": "number", "digits": 15, "fraction": 3},
    "Сумма": {"type": "number", "digits": 15, "fraction": 2},
    "ИдентификаторСтроки": {"type": "string", "length": 36},
    "КиЗГИСМGTIN": {"type": "string", "length": 14},
    "Промокод": {"type": "string", "length": 50},
    "РазрешительныйРежимИдентификаторЗапросаГИСМТ": {"type": "string", "length": 36},
}

PREFIX = {
    "CatalogRef": "Catalog",
    "DocumentRef": "Document",
    "ChartOfAccountsRef": "ChartOfAccounts",
    "ChartOfCharacteristicTypesRef": "ChartOfCharacteristicTypes",
    "ExchangePlanRef": "ExchangePlan",
    "BusinessProcessRef": "BusinessProcess",
    "TaskRef": "Task",
}

# Object synonyms (the presentation 1C prints in messages: "Счет на оплату покупателю 0000-000001 от ...").
SYNONYMS = {
    "Контрагенты": "Контрагенты",
    "ДоговорыКонтрагентов": "Договоры",
    "Номенклатура": "Номенклатура",
    "Партнеры": "Партнеры",
    "ОбъектыРасчетов": "Объекты расчетов",
    "СчетНаОплатуПокупателю": "Счет на оплату покупателю",
    "ПоступлениеНаРасчетныйСчет": "Поступление на расчетный счет",
    "ПриходныйКассовыйОрдер": "Приходный кассовый ордер",
    "РеализацияТоваровУслуг": "Реализация (акт, накладная, УПД)",
    "ЗаказКлиента": "Заказ клиента",
    "СчетНаОплатуКлиенту": "Счет на оплату клиенту",
    "ПоступлениеБезналичныхДенежныхСредств": "Поступление безналичных ДС",
    "СчетНаОплату": "Счет на оплату",
    "ЗаказПокупателя": "Заказ покупателя",
    "ПоступлениеНаСчет": "Поступление на счет",
    "ПоступлениеВКассу": "Поступление в кассу",
}

# What each profile publishes from the dumps (kind, name) and what the sandbox adds by hand.
DERIVED_PICK = {
    "bp30": [
        ("Catalog", "Контрагенты"), ("Catalog", "ДоговорыКонтрагентов"), ("Catalog", "Номенклатура"),
        ("Document", "СчетНаОплатуПокупателю"), ("Document", "ПоступлениеНаРасчетныйСчет"),
        ("Document", "ПриходныйКассовыйОрдер"), ("Document", "РеализацияТоваровУслуг"),
        ("AccumulationRegister", "ОплатаСчетов"), ("InformationRegister", "СтатусыДокументов"),
    ],
    "ut11": [
        ("Catalog", "Контрагенты"), ("Catalog", "Партнеры"), ("Catalog", "ДоговорыКонтрагентов"),
        ("Catalog", "Номенклатура"), ("Catalog", "ОбъектыРасчетов"), ("Document", "ЗаказКлиента"),
        ("Document", "СчетНаОплатуКлиенту"), ("Document", "ПоступлениеБезналичныхДенежныхСредств"),
        ("Document", "ПриходныйКассовыйОрдер"), ("AccumulationRegister", "РасчетыСКлиентами"),
    ],
    "unf": [
        ("Catalog", "Контрагенты"), ("Catalog", "ДоговорыКонтрагентов"), ("Catalog", "Номенклатура"),
        ("Document", "СчетНаОплату"), ("Document", "ЗаказПокупателя"), ("Document", "ПоступлениеНаСчет"),
        ("Document", "ПоступлениеВКассу"), ("AccumulationRegister", "ОплатаСчетовИЗаказов"),
    ],
}

SOURCE_FILES = {
    "bp30": "DERIVED_bp30_objects.json",
    "ut11": "DERIVED_ut115_objects.json",
    "unf": "DERIVED_unf30_objects.json",
}

CONFIGURATIONS = {
    "bp30": {"name": "БухгалтерияПредприятия", "synonym": "Бухгалтерия предприятия, редакция 3.0",
             "version": "3.0.83.25"},
    "ut11": {"name": "УправлениеТорговлей", "synonym": "Управление торговлей, редакция 11",
             "version": "11.5.18.41"},
    "unf": {"name": "УправлениеНебольшойФирмой", "synonym": "Управление нашей фирмой, редакция 3.0",
            "version": "3.0.8.73"},
}

# Registers: recorder documents (the dumps list registers per document, not the reverse).
RECORDERS = {
    ("bp30", "ОплатаСчетов"): ["Document_ПоступлениеНаРасчетныйСчет", "Document_ПриходныйКассовыйОрдер"],
    ("ut11", "РасчетыСКлиентами"): ["Document_ЗаказКлиента", "Document_ПоступлениеБезналичныхДенежныхСредств",
                                    "Document_ПриходныйКассовыйОрдер"],
    ("unf", "ОплатаСчетовИЗаказов"): ["Document_СчетНаОплату", "Document_ЗаказПокупателя",
                                       "Document_ПоступлениеНаСчет", "Document_ПоступлениеВКассу"],
}
REGISTER_TYPES = {("ut11", "РасчетыСКлиентами"): "Balance"}


def _spec(text: str) -> dict[str, Any]:
    """Compact hand spec ``Name:kind[:arg]`` -> property dict (kinds as in the JSON profile)."""
    parts = text.split(":")
    name, kind = parts[0], parts[1]
    prop: dict[str, Any] = {"name": name, "type": kind}
    if kind == "string":
        prop["length"] = int(parts[2]) if len(parts) > 2 else 0
    elif kind in ("number", "int"):
        digits, _, fraction = (parts[2] if len(parts) > 2 else "15.2").partition(".")
        prop["digits"] = int(digits)
        prop["fraction"] = int(fraction or 0)
        prop["type"] = "number" if prop["fraction"] else "int"
    elif kind == "ref":
        prop["target"] = parts[2]
    elif kind == "enum":
        prop["enum"] = parts[2]
    elif kind == "composite":
        prop["targets"] = parts[2].split(",") if len(parts) > 2 and parts[2] else []
    elif kind == "date":
        prop["fractions"] = parts[2] if len(parts) > 2 else "Date"
    return prop


def _catalog(name: str, props: list[str], *, code: int = 9, description: int = 100, hierarchical: bool = False,
             owners: list[str] | None = None, synonym: str | None = None,
             tabular: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "kind": "Catalog", "name": name, "origin": "sandbox", "synonym": synonym or name,
        "code_length": code, "description_length": description, "hierarchical": hierarchical,
        "owners": owners or [], "properties": [_spec(p) for p in props],
        "tabular_parts": [{"name": t, "properties": [_spec(p) for p in ps]} for t, ps in (tabular or {}).items()],
    }


def _enum(name: str, values: list[str]) -> dict[str, Any]:
    return {"kind": "Enum", "name": name, "origin": "sandbox", "values": values}


EXTRAS: dict[str, list[dict[str, Any]]] = {
    "bp30": [
        _catalog("Организации", [
            "НаименованиеПолное:string:250", "НаименованиеСокращенное:string:250", "ИНН:string:12",
            "КПП:string:9", "ОГРН:string:15", "Префикс:string:2",
            "ЮридическоеФизическоеЛицо:enum:ЮридическоеФизическоеЛицо",
            "ОсновнойБанковскийСчет:ref:Catalog_БанковскиеСчета", "ГоловнаяОрганизация:ref:Catalog_Организации",
            "КодПоОКПО:string:10", "РегистрационныйНомерПФР:string:14",
        ], code=4, synonym="Организации"),
        _catalog("БанковскиеСчета", [
            "НомерСчета:string:20", "Банк:ref:Catalog_Банки", "ВалютаДенежныхСредств:ref:Catalog_Валюты",
            "ВидСчета:string:15", "ДатаОткрытия:date", "ДатаЗакрытия:date",
        ], owners=["Catalog_Контрагенты", "Catalog_Организации"], description=150, synonym="Банковские счета"),
        _catalog("Банки", ["КоррСчет:string:20", "Город:string:25", "Адрес:string:500", "Телефоны:string:250",
                           "СВИФТБИК:string:11"], hierarchical=True, synonym="Банки"),
        _catalog("Валюты", ["НаименованиеПолное:string:50", "ЗагружаетсяИзИнтернета:bool",
                            "ПараметрыПрописи:string:200"], code=3, description=10, synonym="Валюты"),
        _catalog("КлассификаторЕдиницИзмерения", ["НаименованиеПолное:string:100", "МеждународноеСокращение:string:3"],
                 code=3, description=25, synonym="Единицы измерения"),
        _catalog("ФизическиеЛица", ["ИНН:string:12", "ДатаРождения:date", "Пол:string:10"], code=10,
                 hierarchical=True, synonym="Физические лица"),
        _enum("СтатусыОтгрузки", ["Отгружен", "ОтгруженЧастично", "НеОтгружен"]),
        _enum("ВидыСтавокНДС", ["Общая", "Пониженная", "Нулевая", "Расчетная", "ОсобаяТоварыУслуги"]),
    ],
    "ut11": [
        _catalog("Организации", [
            "НаименованиеПолное:string:250", "НаименованиеСокращенное:string:250", "ИНН:string:12",
            "КПП:string:9", "ОГРН:string:15", "Префикс:string:2",
            "ЮрФизЛицо:enum:ЮрФизЛицо", "ГоловнаяОрганизация:ref:Catalog_Организации",
        ], code=0, synonym="Организации"),
        _catalog("БанковскиеСчетаОрганизаций", [
            "НомерСчета:string:20", "Банк:ref:Catalog_КлассификаторБанков",
            "ВалютаДенежныхСредств:ref:Catalog_Валюты", "Закрыт:bool",
        ], code=0, owners=["Catalog_Организации"], description=150, synonym="Банковские счета организаций"),
        _catalog("БанковскиеСчетаКонтрагентов", [
            "НомерСчета:string:20", "Банк:ref:Catalog_КлассификаторБанков",
            "ВалютаДенежныхСредств:ref:Catalog_Валюты", "Закрыт:bool",
        ], code=0, owners=["Catalog_Контрагенты", "Catalog_Организации"], description=150,
            synonym="Банковские счета контрагентов"),
        _catalog("КлассификаторБанков", ["КоррСчет:string:20", "Город:string:25", "Адрес:string:500"],
                 hierarchical=True, synonym="Классификатор банков"),
        _catalog("Валюты", ["НаименованиеПолное:string:50", "ЗагружаетсяИзИнтернета:bool"], code=3,
                 description=10, synonym="Валюты"),
        _catalog("СтавкиНДС", ["Ставка:number:5.2", "ПеречислениеСтавкаНДС:string:20", "Расчетная:bool",
                               "ПорядокСортировки:int:3"], code=0, description=25, synonym="Ставки НДС"),
        _catalog("УпаковкиЕдиницыИзмерения", ["НаименованиеПолное:string:100", "Числитель:number:15.3",
                                              "Знаменатель:number:15.3", "ТипУпаковки:string:20"],
                 code=0, description=50, synonym="Упаковки и единицы измерения"),
        _catalog("Кассы", ["ВалютаДенежныхСредств:ref:Catalog_Валюты", "Организация:ref:Catalog_Организации"],
                 code=0, synonym="Кассы"),
        _catalog("КлючиАналитикиУчетаПоПартнерам", [
            "Партнер:ref:Catalog_Партнеры", "Контрагент:ref:Catalog_Контрагенты",
            "Договор:ref:Catalog_ДоговорыКонтрагентов", "Организация:ref:Catalog_Организации",
        ], code=0, description=250, synonym="Ключи аналитики учета по партнерам"),
        _enum("ЮрФизЛицо", ["ЮрЛицо", "ЮрЛицоНеРезидент", "ИндивидуальныйПредприниматель", "ФизЛицо"]),
        _enum("ЮридическоеФизическоеЛицо", ["ЮридическоеЛицо", "ФизическоеЛицо"]),
        _enum("ТипыДоговоров", ["СПокупателем", "СПоставщиком", "СКомитентом", "СКомиссионером",
                                "СКомитентомНаЗакупку", "СКомиссионеромНаЗакупку", "Прочее"]),
        _enum("СтатусыДоговоровКонтрагентов", ["НеСогласован", "Действует", "Закрыт"]),
        _enum("ТипыНоменклатуры", ["Товар", "Услуга", "Работа", "МногооборотнаяТара", "Набор", "ПодарочныйСертификат"]),
        _enum("ТипыПлатежныхДокументов", ["ПлатежноеПоручение", "ПлатежноеТребование", "ИнкассовоеПоручение",
                                          "БанковскийОрдер", "ПрочееСписание"]),
        _enum("ТипыРасчетовСПартнерами", ["РасчетыСКлиентом", "РасчетыСПоставщиком"]),
        _enum("ТипыОбъектовРасчетов", ["ЗаказКлиента", "Договор", "Накладная", "ПрочиеРасчеты"]),
        _enum("КомпанияЧастноеЛицо", ["Компания", "ЧастноеЛицо"]),
    ],
    "unf": [
        _catalog("Организации", [
            "НаименованиеПолное:string:250", "НаименованиеСокращенное:string:250", "ИНН:string:12",
            "КПП:string:9", "ОГРН:string:15", "Префикс:string:2",
            "ЮридическоеФизическоеЛицо:enum:ЮридическоеФизическоеЛицо",
            "БанковскийСчетПоУмолчанию:ref:Catalog_БанковскиеСчета",
        ], code=9, synonym="Организации"),
        _catalog("БанковскиеСчета", [
            "НомерСчета:string:20", "Банк:ref:Catalog_Банки", "ВалютаДенежныхСредств:ref:Catalog_Валюты",
            "ВидСчета:string:15",
        ], owners=["Catalog_Контрагенты", "Catalog_Организации"], description=150, synonym="Банковские счета"),
        _catalog("Банки", ["КоррСчет:string:20", "Город:string:25", "Адрес:string:500"], hierarchical=True,
                 synonym="Банки"),
        _catalog("Валюты", ["НаименованиеПолное:string:50"], code=3, description=10, synonym="Валюты"),
        _catalog("СтавкиНДС", ["Ставка:number:5.2", "НеОблагается:bool", "Расчетная:bool",
                               "ВидСтавкиНДС:string:20"], code=0, description=25, synonym="Ставки НДС"),
        _catalog("КлассификаторЕдиницИзмерения", ["НаименованиеПолное:string:100"], code=3, description=25,
                 synonym="Классификатор единиц измерения"),
        _catalog("Кассы", ["ВалютаПоУмолчанию:ref:Catalog_Валюты", "Владелец:ref:Catalog_Организации"],
                 synonym="Кассы"),
        _enum("ЮридическоеФизическоеЛицо", ["ЮридическоеЛицо", "ФизическоеЛицо"]),
        _enum("ВидыДоговоров", ["СПокупателем", "СПоставщиком", "СКомитентом", "СКомиссионером", "Прочее"]),
        _enum("ВидыОперацийПоступлениеНаСчет", [
            "ОтПокупателя", "ОтПоставщика", "ОтПодотчетника", "ПрочееПоступление", "ПолучениеЗайма",
            "ВозвратЗаймаСотрудником", "ПоступленияОтПродажПоПлатежнымКартам", "ПереводСДругогоСчета",
        ]),
        _enum("ВидыОперацийПоступлениеВКассу", [
            "ОтПокупателя", "ОтПоставщика", "ОтПодотчетника", "ПрочееПоступление", "РозничнаяВыручка",
            "ПолучениеНаличныхВБанке", "ВозвратЗаймаСотрудником",
        ]),
        _enum("ТипыНоменклатуры", ["Запас", "Услуга", "Работа", "Операция", "ПодарочныйСертификат"]),
        _enum("ТипыНалогообложенияНДС", ["ОблагаетсяНДС", "НеОблагаетсяНДС", "ОблагаетсяНДСУПокупателя",
                                          "ЭкспортНДС"]),
    ],
}


def _resolve_types(types: list[str], attr_name: str) -> dict[str, Any]:
    """Map the dump's type list of one attribute to a profile property kind."""
    if not types:
        return dict(UNRESOLVED_BY_NAME.get(attr_name, {"type": "composite", "targets": []}))
    if len(types) == 1:
        t = types[0]
        if t in DEFINED_TYPES:
            return dict(DEFINED_TYPES[t])
        if t.startswith("Characteristic.") or t.startswith("DefinedType."):
            return dict(UNRESOLVED_BY_NAME.get(attr_name, {"type": "composite", "targets": []}))
        if t in ("xs:string", "String"):
            return {"type": "string"}
        if t in ("xs:boolean", "Boolean"):
            return {"type": "bool"}
        if t in ("xs:dateTime", "Date"):
            return {"type": "date"}
        if t in ("xs:decimal", "Number"):
            return {"type": "number"}
        if t == "v8:UUID":
            return {"type": "guid"}
        kind, _, name = t.partition(".")
        if kind == "EnumRef":
            return {"type": "enum", "enum": name}
        if kind in PREFIX:
            return {"type": "ref", "target": f"{PREFIX[kind]}_{name}"}
        raise ValueError(f"unknown type {t} of {attr_name}")
    targets = []
    for t in types:
        kind, _, name = t.partition(".")
        if kind in PREFIX:
            targets.append(f"{PREFIX[kind]}_{name}")
        elif kind == "EnumRef":
            targets.append(f"Enum_{name}")
        elif t in ("xs:string", "String"):
            targets.append("Edm.String")
        elif t in ("xs:decimal", "Number"):
            targets.append("Edm.Double")
        elif t in ("xs:dateTime", "Date"):
            targets.append("Edm.DateTime")
        elif t in ("xs:boolean", "Boolean"):
            targets.append("Edm.Boolean")
    return {"type": "composite", "targets": targets}


def _property(attr: dict[str, Any]) -> dict[str, Any]:
    prop: dict[str, Any] = {"name": attr["name"]}
    prop.update(_resolve_types(attr.get("types") or [], attr["name"]))
    if prop["type"] == "string" and "length" not in prop:
        prop["length"] = int(attr.get("string_length") or 0)
    if prop["type"] == "number":
        num = attr.get("number") or {}
        prop.setdefault("digits", int(num.get("digits", 15)))
        prop.setdefault("fraction", int(num.get("fraction", 2)))
        if prop["fraction"] == 0:
            prop["type"] = "int"
    if prop["type"] == "date":
        prop["fractions"] = attr.get("date_fractions") or "DateTime"
    # The OData names the dump derived, kept for the conformance test.
    prop["derived_odata"] = [o["property"] for o in attr.get("odata", [])]
    return prop


def _lower_keys(d: dict[str, Any] | None) -> dict[str, Any]:
    return {k[:1].lower() + k[1:]: v for k, v in (d or {}).items()}


def build_profile(profile: str, fixtures: Path) -> dict[str, Any]:
    """Assemble one profile document from the fixture dump and the hand extras."""
    src = json.loads((fixtures / SOURCE_FILES[profile]).read_text(encoding="utf-8"))
    by_key = {(o["kind"], o["name"]): o for o in src["objects"]}
    objects: list[dict[str, Any]] = []
    for kind, name in DERIVED_PICK[profile]:
        o = by_key[(kind, name)]
        props = _lower_keys(o.get("properties"))
        entry: dict[str, Any] = {"kind": kind, "name": name, "origin": "derived", "synonym": SYNONYMS.get(name, name)}
        if kind == "Catalog":
            entry["code_length"] = int(props.get("codeLength") or 0)
            entry["description_length"] = int(props.get("descriptionLength") or 100)
            entry["hierarchical"] = str(props.get("hierarchical", "false")).lower() == "true"
            entry["owners"] = [f"Catalog_{x.split('.', 1)[1]}" for x in props.get("owners") or []]
        if kind == "Document":
            entry["number_length"] = int(props.get("numberLength") or 11)
            entry["number_type"] = props.get("numberType") or "String"
            entry["postable"] = str(props.get("posting", "Allow")) != "Deny"
        if kind in ("Catalog", "Document"):
            entry["properties"] = [_property(a) for a in o.get("attributes", [])]
            entry["tabular_parts"] = [
                {"name": t["name"], "properties": [_property(a) for a in t.get("attributes", [])],
                 "derived_set": t.get("odata_entity_set")}
                for t in o.get("tabular_sections", [])
            ]
        if kind == "AccumulationRegister":
            entry["register_type"] = props.get("registerType") or REGISTER_TYPES.get((profile, name), "Turnovers")
            entry["recorders"] = RECORDERS[(profile, name)]
            entry["dimensions"] = [_property(a) for a in o.get("dimensions", [])]
            entry["resources"] = [_property(a) for a in o.get("resources", [])]
            entry["properties"] = [_property(a) for a in o.get("attributes", [])]
        if kind == "InformationRegister":
            entry["periodic"] = props.get("informationRegisterPeriodicity", "Nonperiodical") != "Nonperiodical"
            entry["independent"] = props.get("writeMode", "Independent") == "Independent"
            entry["dimensions"] = [_property(a) for a in o.get("dimensions", [])]
            entry["resources"] = [_property(a) for a in o.get("resources", [])]
            entry["properties"] = [_property(a) for a in o.get("attributes", [])]
        objects.append(entry)
    objects.extend(EXTRAS[profile])
    seen = {o["name"] for o in objects if o["kind"] == "Enum"}
    for o in src["objects"]:
        if o["kind"] == "Enum" and o["name"] not in seen:
            objects.append({"kind": "Enum", "name": o["name"], "origin": "derived", "values": o["enum_values"]})
    return {
        "profile": profile,
        "configuration": CONFIGURATIONS[profile],
        "source": {"repo": src.get("source_repo"), "commit": src.get("source_commit"),
                   "file": SOURCE_FILES[profile]},
        "objects": objects,
    }


def main(argv: list[str]) -> int:
    fixtures = Path(argv[1] if len(argv) > 1 else "/work/shared/reference/fixtures/1c")
    for profile in SOURCE_FILES:
        doc = build_profile(profile, fixtures)
        out = HERE / f"{profile}.json"
        out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{out}: {len(doc['objects'])} objects")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
