"""Field definitions of leads, deals, contacts and companies, and their user fields.

Each entity's standard fields are listed once with their REST type and flags; ``crm.<entity>.fields``,
the legacy get/list output (string values), and crm.item (camelCase, typed values) all derive from
them. User fields (``crm.<entity>.userfield.*``) live in ``crm_userfield``; their values are stored
on the entity rows under their FIELD_NAME.
"""

from __future__ import annotations

import re
from typing import Any

from ..api import Call, ListResult, Platform, legacy_crm_error, rest_method
from ..listing import paginate
from ._common import as_list, iso, iso_date, table, to_float, to_int, yn

# flags: R required, O read-only, I immutable, M multiple, S only when selected, D deprecated
F = tuple[str, str, str, str]

_UTM = [("UTM_SOURCE", "string", "", "Рекламная система"), ("UTM_MEDIUM", "string", "", "Тип трафика"),
        ("UTM_CAMPAIGN", "string", "", "Обозначение рекламной кампании"),
        ("UTM_CONTENT", "string", "", "Содержание кампании"),
        ("UTM_TERM", "string", "", "Условие поиска кампании")]
_ADDR = [("ADDRESS", "string", "", "Адрес"), ("ADDRESS_2", "string", "", "Адрес (стр. 2)"),
         ("ADDRESS_CITY", "string", "", "Город"), ("ADDRESS_POSTAL_CODE", "string", "", "Почтовый индекс"),
         ("ADDRESS_REGION", "string", "", "Район"), ("ADDRESS_PROVINCE", "string", "", "Область"),
         ("ADDRESS_COUNTRY", "string", "", "Страна"), ("ADDRESS_COUNTRY_CODE", "string", "", "Код страны"),
         ("ADDRESS_LOC_ADDR_ID", "integer", "", "Идентификатор адреса местоположения")]
_MF = [("PHONE", "crm_multifield", "M", "Телефон"), ("EMAIL", "crm_multifield", "M", "E-mail"),
       ("WEB", "crm_multifield", "M", "Сайт"), ("IM", "crm_multifield", "M", "Мессенджер"),
       ("LINK", "crm_multifield", "M", "LINK")]
_ACT = [("LAST_ACTIVITY_BY", "user", "O", "Автор последней активности"),
        ("LAST_ACTIVITY_TIME", "datetime", "O", "Последняя активность")]

LEAD_FIELDS: list[F] = [
    ("ID", "integer", "O", "ID"), ("TITLE", "string", "R", "Название лида"),
    ("HONORIFIC", "crm_status", "", "Обращение"), ("NAME", "string", "", "Имя"),
    ("SECOND_NAME", "string", "", "Отчество"), ("LAST_NAME", "string", "", "Фамилия"),
    ("BIRTHDATE", "date", "", "Дата рождения"), ("COMPANY_TITLE", "string", "", "Название компании"),
    ("SOURCE_ID", "crm_status", "", "Источник"), ("SOURCE_DESCRIPTION", "string", "", "Дополнительно об источнике"),
    ("STATUS_ID", "crm_status", "", "Статус"), ("STATUS_DESCRIPTION", "string", "", "Дополнительно о статусе"),
    ("STATUS_SEMANTIC_ID", "string", "O", "Состояние статуса"), ("POST", "string", "", "Должность"),
    *_ADDR,
    ("CURRENCY_ID", "crm_currency", "", "Валюта"), ("OPPORTUNITY", "double", "", "Сумма"),
    ("IS_MANUAL_OPPORTUNITY", "char", "", "IS_MANUAL_OPPORTUNITY"), ("OPENED", "char", "", "Доступен для всех"),
    ("COMMENTS", "string", "", "Комментарий"), ("HAS_PHONE", "char", "O", "Задан телефон"),
    ("HAS_EMAIL", "char", "O", "Задан e-mail"), ("HAS_IMOL", "char", "O", "Задана открытая линия"),
    ("ASSIGNED_BY_ID", "user", "", "Ответственный"), ("CREATED_BY_ID", "user", "O", "Кем создан"),
    ("MODIFY_BY_ID", "user", "O", "Кем изменен"), ("MOVED_BY_ID", "user", "O", "MOVED_BY_ID"),
    ("DATE_CREATE", "datetime", "O", "Дата создания"), ("DATE_MODIFY", "datetime", "O", "Дата изменения"),
    ("MOVED_TIME", "datetime", "O", "MOVED_TIME"), ("COMPANY_ID", "crm_company", "", "Компания"),
    ("CONTACT_ID", "crm_contact", "D", "Контакт"), ("CONTACT_IDS", "crm_contact", "MS", "CONTACT_IDS"),
    ("IS_RETURN_CUSTOMER", "char", "O", "Повторный лид"), ("DATE_CLOSED", "datetime", "O", "Дата завершения"),
    ("ORIGINATOR_ID", "string", "", "Внешний источник"),
    ("ORIGIN_ID", "string", "", "Идентификатор элемента во внешнем источнике"),
    *_UTM, *_ACT, *_MF,
]
LEAD_GET = ["ID", "TITLE", "HONORIFIC", "NAME", "SECOND_NAME", "LAST_NAME", "COMPANY_TITLE", "COMPANY_ID",
            "CONTACT_ID", "IS_RETURN_CUSTOMER", "BIRTHDATE", "SOURCE_ID", "SOURCE_DESCRIPTION", "STATUS_ID",
            "STATUS_DESCRIPTION", "POST", "COMMENTS", "CURRENCY_ID", "OPPORTUNITY", "IS_MANUAL_OPPORTUNITY",
            "HAS_PHONE", "HAS_EMAIL", "HAS_IMOL", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID",
            "DATE_CREATE", "DATE_MODIFY", "DATE_CLOSED", "STATUS_SEMANTIC_ID", "OPENED", "ORIGINATOR_ID",
            "ORIGIN_ID", "MOVED_BY_ID", "MOVED_TIME", "ADDRESS", "ADDRESS_2", "ADDRESS_CITY",
            "ADDRESS_POSTAL_CODE", "ADDRESS_REGION", "ADDRESS_PROVINCE", "ADDRESS_COUNTRY",
            "ADDRESS_COUNTRY_CODE", "ADDRESS_LOC_ADDR_ID", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN",
            "UTM_CONTENT", "UTM_TERM", "LAST_ACTIVITY_BY", "LAST_ACTIVITY_TIME"]

DEAL_FIELDS: list[F] = [
    ("ID", "integer", "O", "ID"), ("TITLE", "string", "", "Название"), ("TYPE_ID", "crm_status", "", "Тип"),
    ("CATEGORY_ID", "crm_category", "I", "Направление"), ("STAGE_ID", "crm_status", "", "Стадия сделки"),
    ("STAGE_SEMANTIC_ID", "string", "O", "Группа стадии"), ("IS_NEW", "char", "O", "Новая сделка"),
    ("IS_RECURRING", "char", "", "Регулярная сделка"), ("IS_RETURN_CUSTOMER", "char", "O", "Повторная сделка"),
    ("IS_REPEATED_APPROACH", "char", "O", "Повторное обращение"), ("PROBABILITY", "integer", "", "Вероятность"),
    ("CURRENCY_ID", "crm_currency", "", "Валюта"), ("OPPORTUNITY", "double", "", "Сумма"),
    ("IS_MANUAL_OPPORTUNITY", "char", "", "IS_MANUAL_OPPORTUNITY"), ("TAX_VALUE", "double", "", "Ставка налога"),
    ("COMPANY_ID", "crm_company", "", "Компания"), ("CONTACT_ID", "crm_contact", "D", "Контакт"),
    ("CONTACT_IDS", "crm_contact", "MS", "Контакты"), ("QUOTE_ID", "crm_quote", "O", "Предложение"),
    ("BEGINDATE", "date", "", "Дата начала"), ("CLOSEDATE", "date", "", "Дата завершения"),
    ("OPENED", "char", "", "Доступна для всех"), ("CLOSED", "char", "", "Сделка закрыта"),
    ("COMMENTS", "string", "", "Комментарий"), ("ASSIGNED_BY_ID", "user", "", "Ответственный"),
    ("CREATED_BY_ID", "user", "O", "Кем создана"), ("MODIFY_BY_ID", "user", "O", "Кем изменена"),
    ("DATE_CREATE", "datetime", "O", "Дата создания"), ("DATE_MODIFY", "datetime", "O", "Дата изменения"),
    ("SOURCE_ID", "crm_status", "", "Источник"), ("SOURCE_DESCRIPTION", "string", "", "Дополнительно об источнике"),
    ("LEAD_ID", "crm_lead", "O", "Лид"), ("ADDITIONAL_INFO", "string", "", "Дополнительная информация"),
    ("LOCATION_ID", "location", "", "Местоположение"), ("ORIGINATOR_ID", "string", "", "Внешний источник"),
    ("ORIGIN_ID", "string", "", "Идентификатор элемента во внешнем источнике"),
    ("MOVED_BY_ID", "user", "O", "MOVED_BY_ID"), ("MOVED_TIME", "datetime", "O", "MOVED_TIME"),
    *_UTM, *_ACT,
]
DEAL_GET = ["ID", "TITLE", "TYPE_ID", "STAGE_ID", "PROBABILITY", "CURRENCY_ID", "OPPORTUNITY",
            "IS_MANUAL_OPPORTUNITY", "TAX_VALUE", "LEAD_ID", "COMPANY_ID", "CONTACT_ID", "QUOTE_ID",
            "BEGINDATE", "CLOSEDATE", "ASSIGNED_BY_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "DATE_CREATE",
            "DATE_MODIFY", "OPENED", "CLOSED", "COMMENTS", "ADDITIONAL_INFO", "LOCATION_ID", "CATEGORY_ID",
            "STAGE_SEMANTIC_ID", "IS_NEW", "IS_RECURRING", "IS_RETURN_CUSTOMER", "IS_REPEATED_APPROACH",
            "SOURCE_ID", "SOURCE_DESCRIPTION", "ORIGINATOR_ID", "ORIGIN_ID", "MOVED_BY_ID", "MOVED_TIME",
            "LAST_ACTIVITY_TIME", "UTM_SOURCE", "UTM_MEDIUM", "UTM_CAMPAIGN", "UTM_CONTENT", "UTM_TERM",
            "LAST_ACTIVITY_BY"]

CONTACT_FIELDS: list[F] = [
    ("ID", "integer", "O", "ID"), ("HONORIFIC", "crm_status", "", "Обращение"), ("NAME", "string", "", "Имя"),
    ("SECOND_NAME", "string", "", "Отчество"), ("LAST_NAME", "string", "", "Фамилия"),
    ("PHOTO", "file", "", "Фотография"), ("BIRTHDATE", "date", "", "Дата рождения"),
    ("TYPE_ID", "crm_status", "", "Тип контакта"), ("SOURCE_ID", "crm_status", "", "Источник"),
    ("SOURCE_DESCRIPTION", "string", "", "Дополнительно об источнике"), ("POST", "string", "", "Должность"),
    *_ADDR, ("COMMENTS", "string", "", "Комментарий"), ("OPENED", "char", "", "Доступен для всех"),
    ("EXPORT", "char", "", "Участвует в экспорте контактов"), ("HAS_PHONE", "char", "O", "Задан телефон"),
    ("HAS_EMAIL", "char", "O", "Задан e-mail"), ("HAS_IMOL", "char", "O", "Задана открытая линия"),
    ("ASSIGNED_BY_ID", "user", "", "Ответственный"), ("CREATED_BY_ID", "user", "O", "Кем создан"),
    ("MODIFY_BY_ID", "user", "O", "Кем изменен"), ("DATE_CREATE", "datetime", "O", "Дата создания"),
    ("DATE_MODIFY", "datetime", "O", "Дата изменения"), ("COMPANY_ID", "crm_company", "D", "Компания"),
    ("COMPANY_IDS", "crm_company", "MS", "COMPANY_IDS"), ("LEAD_ID", "crm_lead", "O", "Лид"),
    ("ORIGINATOR_ID", "string", "", "Внешний источник"),
    ("ORIGIN_ID", "string", "", "Идентификатор элемента во внешнем источнике"),
    ("ORIGIN_VERSION", "string", "", "Версия оригинала"), ("FACE_ID", "integer", "", "Привязка к лицам"),
    *_UTM, *_ACT, *_MF,
]
CONTACT_GET = [f[0] for f in CONTACT_FIELDS if f[1] != "crm_multifield" and "S" not in f[2]]

COMPANY_FIELDS: list[F] = [
    ("ID", "integer", "O", "ID"), ("TITLE", "string", "R", "Название компании"),
    ("COMPANY_TYPE", "crm_status", "", "Тип компании"), ("LOGO", "file", "", "Логотип"),
    *_ADDR, ("ADDRESS_LEGAL", "string", "", "Юридический адрес"),
    ("BANKING_DETAILS", "string", "", "Банковские реквизиты"), ("INDUSTRY", "crm_status", "", "Сфера деятельности"),
    ("EMPLOYEES", "crm_status", "", "Кол-во сотрудников"), ("CURRENCY_ID", "crm_currency", "", "Валюта"),
    ("REVENUE", "double", "", "Годовой оборот"), ("OPENED", "char", "", "Доступна для всех"),
    ("COMMENTS", "string", "", "Комментарий"), ("HAS_PHONE", "char", "O", "Задан телефон"),
    ("HAS_EMAIL", "char", "O", "Задан e-mail"), ("HAS_IMOL", "char", "O", "Задана открытая линия"),
    ("IS_MY_COMPANY", "char", "", "Моя компания"), ("ASSIGNED_BY_ID", "user", "", "Ответственный"),
    ("CREATED_BY_ID", "user", "O", "Кем создана"), ("MODIFY_BY_ID", "user", "O", "Кем изменена"),
    ("DATE_CREATE", "datetime", "O", "Дата создания"), ("DATE_MODIFY", "datetime", "O", "Дата изменения"),
    ("CONTACT_ID", "crm_contact", "MS", "Контакты"), ("LEAD_ID", "crm_lead", "O", "Лид"),
    ("ORIGINATOR_ID", "string", "", "Внешний источник"),
    ("ORIGIN_ID", "string", "", "Идентификатор элемента во внешнем источнике"),
    ("ORIGIN_VERSION", "string", "", "Версия оригинала"), *_UTM, *_ACT, *_MF,
]
COMPANY_GET = [f[0] for f in COMPANY_FIELDS if f[1] != "crm_multifield" and "S" not in f[2]]

STATUS_TYPES = {"HONORIFIC": "HONORIFIC", "SOURCE_ID": "SOURCE", "STATUS_ID": "STATUS", "TYPE_ID": None,
                "COMPANY_TYPE": "COMPANY_TYPE", "INDUSTRY": "INDUSTRY", "EMPLOYEES": "EMPLOYEES"}

ENTITIES: dict[str, dict[str, Any]] = {
    "lead": {"type_id": 1, "fields": LEAD_FIELDS, "get": LEAD_GET, "uf_entity": "CRM_LEAD", "event": "LEAD"},
    "deal": {"type_id": 2, "fields": DEAL_FIELDS, "get": DEAL_GET, "uf_entity": "CRM_DEAL", "event": "DEAL"},
    "contact": {"type_id": 3, "fields": CONTACT_FIELDS, "get": CONTACT_GET, "uf_entity": "CRM_CONTACT",
                "event": "CONTACT"},
    "company": {"type_id": 4, "fields": COMPANY_FIELDS, "get": COMPANY_GET, "uf_entity": "CRM_COMPANY",
                "event": "COMPANY"},
}
TYPES: dict[str, dict[str, tuple[str, str]]] = {
    name: {f[0]: (f[1], f[2]) for f in spec["fields"]} for name, spec in ENTITIES.items()
}
# Standard fields that only the universal crm.item.* methods know: the legacy crm.<entity>.fields does
# not list them and crm.<entity>.get/list/add/update neither return nor accept them (the deal's
# "my company" is ``mycompanyId`` in crm.item but absent from crm.deal.fields and crm.deal.get).
ITEM_ONLY: dict[str, list[F]] = {
    "deal": [("MYCOMPANY_ID", "crm_company", "", "Моя компания")],
}
ITEM_TYPES: dict[str, dict[str, tuple[str, str]]] = {
    name: {**types, **{f[0]: (f[1], f[2]) for f in ITEM_ONLY.get(name, [])}} for name, types in TYPES.items()
}
MULTIFIELDS = ("PHONE", "EMAIL", "WEB", "IM", "LINK")
DEFAULT_VALUE_TYPE = {"PHONE": "WORK", "EMAIL": "WORK", "WEB": "WORK", "IM": "OTHER", "LINK": "USER"}


def field_descr(entity: str, f: F) -> dict[str, Any]:
    name, typ, flags, title = f
    out: dict[str, Any] = {"type": typ, "isRequired": "R" in flags, "isReadOnly": "O" in flags,
                           "isImmutable": "I" in flags, "isMultiple": "M" in flags, "isDynamic": False}
    if "D" in flags:
        out["isDeprecated"] = True
    if typ == "crm_status":
        st = STATUS_TYPES.get(name)
        if name == "TYPE_ID":
            st = "DEAL_TYPE" if entity == "deal" else "CONTACT_TYPE"
        if name == "STAGE_ID":
            st = "DEAL_STAGE"
        if st:
            out["statusType"] = st
    out["title"] = title
    if name == "COMPANY_ID" and entity == "lead":
        out["settings"] = {"parentEntityTypeId": 4}
    return out


# --------------------------------------------------------------------------- user fields


UF_TYPES = {"string", "integer", "double", "boolean", "datetime", "date", "money", "url", "address",
            "enumeration", "file", "employee", "crm_status", "iblock_section", "iblock_element", "crm",
            "resourcebooking"}
_UF_NAME_RE = re.compile(r"^UF_CRM_[A-Z0-9_]+$")


def userfields(portal: Platform):
    return table(portal, "crm_userfield")


def uf_defs(portal: Platform, entity: str) -> list[dict[str, Any]]:
    uf_entity = ENTITIES[entity]["uf_entity"] if entity in ENTITIES else entity
    return [r for r in userfields(portal).values() if r["ENTITY_ID"] == uf_entity]


def uf_def(portal: Platform, entity: str, name: str) -> dict[str, Any] | None:
    for r in uf_defs(portal, entity):
        if r["FIELD_NAME"] == name:
            return r
    return None


def uf_coerce(defn: dict[str, Any], value: Any) -> Any:
    """An incoming user-field value in stored form (multiple fields keep lists)."""
    multiple = defn.get("MULTIPLE") == "Y"
    if multiple:
        return [v for v in (uf_coerce_one(defn, x) for x in as_list(value)) if v is not None]
    if isinstance(value, list):
        value = value[0] if value else None
    return uf_coerce_one(defn, value)


def uf_coerce_one(defn: dict[str, Any], value: Any) -> Any:
    t = defn["USER_TYPE_ID"]
    if value is None or value == "":
        return None
    if t in ("integer", "employee", "iblock_section", "iblock_element", "file"):
        return to_int(value)
    if t == "double":
        return to_float(value)
    if t == "boolean":
        return 1 if yn(value) == "Y" else 0
    if t == "datetime":
        return iso(value)
    if t == "date":
        return iso_date(value)
    if t == "enumeration":
        eid = to_int(value)
        items = defn.get("LIST") or []
        if eid is not None and any(i["ID"] == eid for i in items):
            return eid
        for i in items:
            if str(i["VALUE"]) == str(value) or str(i.get("XML_ID")) == str(value):
                return i["ID"]
        return None
    return str(value)


def uf_out_legacy(defn: dict[str, Any], value: Any) -> Any:
    """A stored user-field value as legacy get/list write it."""
    if defn.get("MULTIPLE") == "Y":
        return [_uf_scalar_legacy(defn, v) for v in (value or [])]
    if value is None:
        return None if defn["USER_TYPE_ID"] != "boolean" else "0"
    return _uf_scalar_legacy(defn, value)


def _uf_scalar_legacy(defn: dict[str, Any], v: Any) -> Any:
    t = defn["USER_TYPE_ID"]
    if t == "double" and v is not None:
        return str(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v) if t != "boolean" else ("1" if v else "0")
    return v


def uf_out_item(defn: dict[str, Any], value: Any) -> Any:
    """A stored user-field value as crm.item writes it (typed)."""
    t = defn["USER_TYPE_ID"]
    if defn.get("MULTIPLE") == "Y":
        return list(value or [])
    if t == "boolean":
        return "Y" if value else "N"
    return value


def uf_item_name(name: str) -> str:
    """UF_CRM_1721244707107 -> ufCrm_1721244707107; UF_CRM_MY_NOTE -> ufCrmMyNote."""
    rest = name[len("UF_CRM_"):] if name.startswith("UF_CRM_") else name
    m = re.match(r"^(\d+)_(\d.*)$", rest)
    if m:
        return f"ufCrm{m[1]}_{m[2]}"
    if rest[:1].isdigit():
        return "ufCrm_" + rest
    return "ufCrm" + "".join(p.capitalize() for p in rest.lower().split("_"))


def uf_field_descr(defn: dict[str, Any]) -> dict[str, Any]:
    label = _label(defn.get("EDIT_FORM_LABEL")) or defn["FIELD_NAME"]
    out: dict[str, Any] = {
        "type": defn["USER_TYPE_ID"], "isRequired": defn.get("MANDATORY") == "Y", "isReadOnly": False,
        "isImmutable": False, "isMultiple": defn.get("MULTIPLE") == "Y", "isDynamic": True,
        "title": defn["FIELD_NAME"], "listLabel": _label(defn.get("LIST_COLUMN_LABEL")) or label,
        "formLabel": label, "filterLabel": _label(defn.get("LIST_FILTER_LABEL")) or label,
        "settings": defn.get("SETTINGS") or {"DEFAULT_VALUE": None},
    }
    if defn["USER_TYPE_ID"] == "enumeration":
        out["items"] = [{"ID": str(i["ID"]), "VALUE": i["VALUE"]} for i in defn.get("LIST") or []]
    return out


def _label(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("ru") or value.get("en") or next(iter(value.values()), None)
    return value or None


def uf_def_out(defn: dict[str, Any]) -> dict[str, Any]:
    out = {k: defn.get(k) for k in ("ENTITY_ID", "FIELD_NAME", "USER_TYPE_ID", "XML_ID", "SORT", "MULTIPLE",
                                    "MANDATORY", "SHOW_FILTER", "SHOW_IN_LIST", "EDIT_IN_LIST",
                                    "IS_SEARCHABLE", "SETTINGS", "EDIT_FORM_LABEL", "LIST_COLUMN_LABEL",
                                    "LIST_FILTER_LABEL", "ERROR_MESSAGE", "HELP_MESSAGE")}
    out = {"ID": str(defn["ID"]), **out}
    out["SORT"] = str(defn.get("SORT", 100))
    if defn["USER_TYPE_ID"] == "enumeration":
        out["LIST"] = [{"ID": str(i["ID"]), "SORT": str(i["SORT"]), "VALUE": i["VALUE"],
                        "DEF": i.get("DEF", "N"), "XML_ID": i.get("XML_ID")} for i in defn.get("LIST") or []]
    return out


def _enum_items(portal: Platform, items: Any, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [dict(i) for i in existing]
    for raw in as_list(items):
        if not isinstance(raw, dict):
            continue
        item = {str(k).upper(): v for k, v in raw.items()}
        iid = to_int(item.get("ID"))
        found = next((i for i in out if iid is not None and i["ID"] == iid), None)
        if found is not None:
            if yn(item.get("DEL")) == "Y":
                out.remove(found)
                continue
            for key in ("VALUE", "SORT", "DEF", "XML_ID"):
                if key in item:
                    found[key] = to_int(item[key], 500) if key == "SORT" else item[key]
            continue
        value = str(item.get("VALUE") or "").strip()
        if not value:
            continue
        new_id = _next_enum_id(portal)
        out.append({"ID": new_id, "SORT": to_int(item.get("SORT"), 500) or 500, "VALUE": value,
                    "DEF": yn(item.get("DEF")), "XML_ID": item.get("XML_ID") or f"{new_id:x}".upper()})
    return out


def _next_enum_id(portal: Platform) -> int:
    from ._common import next_seq

    return next_seq(portal, "crm_userfield_enum")


def create_userfield(portal: Platform, entity: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Validate and store a user field (as crm.<entity>.userfield.add); raises legacy errors."""
    f = {str(k).upper(): v for k, v in fields.items()}
    type_id = str(f.get("USER_TYPE_ID") or "").strip()
    if not type_id:
        raise legacy_crm_error("The 'USER_TYPE_ID' field is not found.")
    raw_name = str(f.get("FIELD_NAME") or "").strip()
    if not raw_name:
        raise legacy_crm_error("The 'FIELD_NAME' field is not found.")
    name = raw_name.upper()
    if not name.startswith("UF_CRM_"):
        name = "UF_CRM_" + (name[3:] if name.startswith("UF_") else name)
    if type_id not in UF_TYPES:
        raise legacy_crm_error(f"Тип пользовательского поля \"{type_id}\" не найден.")
    if len(name) > 50:
        raise legacy_crm_error("Длина кода поля не должна превышать 50 символов.")
    if not _UF_NAME_RE.match(name):
        raise legacy_crm_error("Код поля может содержать только латинские буквы, цифры и знак подчеркивания.")
    if uf_def(portal, entity, name):
        raise legacy_crm_error(f"Поле с кодом {name} уже существует.")
    multiple = yn(f.get("MULTIPLE"))
    if type_id == "boolean":
        multiple = "N"
    label = f.get("EDIT_FORM_LABEL") or f.get("LABEL") or name
    tbl = userfields(portal)
    rid = tbl.next_id()
    row = {
        "ID": rid, "ENTITY_ID": ENTITIES[entity]["uf_entity"], "FIELD_NAME": name, "USER_TYPE_ID": type_id,
        "XML_ID": f.get("XML_ID"), "SORT": to_int(f.get("SORT"), 100) or 100, "MULTIPLE": multiple,
        "MANDATORY": yn(f.get("MANDATORY")), "SHOW_FILTER": str(f.get("SHOW_FILTER") or "N"),
        "SHOW_IN_LIST": yn(f.get("SHOW_IN_LIST"), "Y"), "EDIT_IN_LIST": yn(f.get("EDIT_IN_LIST"), "Y"),
        "IS_SEARCHABLE": yn(f.get("IS_SEARCHABLE")),
        "SETTINGS": f.get("SETTINGS") if isinstance(f.get("SETTINGS"), dict) else {"DEFAULT_VALUE": None},
        "EDIT_FORM_LABEL": label, "LIST_COLUMN_LABEL": f.get("LIST_COLUMN_LABEL") or label,
        "LIST_FILTER_LABEL": f.get("LIST_FILTER_LABEL") or label, "ERROR_MESSAGE": f.get("ERROR_MESSAGE"),
        "HELP_MESSAGE": f.get("HELP_MESSAGE"), "LIST": [],
    }
    if type_id == "enumeration":
        row["LIST"] = _enum_items(portal, f.get("LIST"), [])
    tbl.save(rid, row)
    return row


def _uf_methods(entity: str) -> None:
    prefix = f"crm.{entity}.userfield"
    event = f"ONCRM{ENTITIES[entity]['event']}USERFIELD"

    def _row(call: Call) -> dict[str, Any]:
        rid = to_int(call.param("id"))
        if rid is None or rid <= 0:
            raise legacy_crm_error("ID is not defined or invalid.")
        row = userfields(call.portal).get(rid)
        if row is None or row["ENTITY_ID"] != ENTITIES[entity]["uf_entity"]:
            raise legacy_crm_error("Not found")
        return row

    @rest_method(f"{prefix}.add", "crm", admin_only=True)
    def add(call: Call) -> int:
        fields = call.param("fields")
        if not isinstance(fields, dict):
            raise legacy_crm_error("Parameter 'fields' must be array.")
        row = create_userfield(call.portal, entity, fields)
        call.portal.fire_event(f"{event}ADD", {"FIELDS": {"ID": str(row["ID"])}}, call)
        return row["ID"]

    @rest_method(f"{prefix}.get", "crm")
    def get(call: Call) -> dict[str, Any]:
        return uf_def_out(_row(call))

    @rest_method(f"{prefix}.list", "crm")
    def list_(call: Call) -> ListResult:
        flt = call.param("filter")
        page = paginate(uf_defs(call.portal, entity), filter=flt if isinstance(flt, dict) else None,
                        order=call.param("order"), start=0, sorted_by_id=False, page_size=10**9,
                        field_types={"ID": "integer", "SORT": "integer"})
        rows = page.items
        items = [uf_def_out(r) for r in rows]
        return ListResult(items, len(items))

    @rest_method(f"{prefix}.update", "crm", admin_only=True)
    def update(call: Call) -> bool:
        row = dict(_row(call))
        fields = call.param("fields")
        if not isinstance(fields, dict):
            raise legacy_crm_error("Parameter 'fields' must be array.")
        f = {str(k).upper(): v for k, v in fields.items()}
        for key in ("SORT", "MANDATORY", "SHOW_FILTER", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE",
                    "SETTINGS", "EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL",
                    "ERROR_MESSAGE", "HELP_MESSAGE", "XML_ID"):
            if key in f:
                row[key] = f[key]
        if "LABEL" in f:
            row["EDIT_FORM_LABEL"] = row["LIST_COLUMN_LABEL"] = row["LIST_FILTER_LABEL"] = f["LABEL"]
        if row["USER_TYPE_ID"] == "enumeration" and "LIST" in f:
            row["LIST"] = _enum_items(call.portal, f["LIST"], row.get("LIST") or [])
            call.portal.fire_event(f"{event}SETENUMVALUES", {"FIELDS": {"ID": str(row["ID"])}}, call)
        userfields(call.portal).save(row["ID"], row)
        call.portal.fire_event(f"{event}UPDATE", {"FIELDS": {"ID": str(row["ID"])}}, call)
        return True

    @rest_method(f"{prefix}.delete", "crm", admin_only=True)
    def delete(call: Call) -> bool:
        row = _row(call)
        userfields(call.portal).delete(row["ID"])
        call.portal.fire_event(f"{event}DELETE", {"FIELDS": {"ID": str(row["ID"])}}, call)
        return True

    @rest_method(f"{prefix}.enumeration.fields", "crm")
    def enum_fields(call: Call) -> dict[str, Any]:
        return {k: {"type": t, "isRequired": False, "isReadOnly": k == "ID", "isImmutable": False,
                    "isMultiple": False, "isDynamic": False, "title": k}
                for k, t in (("ID", "int"), ("VALUE", "string"), ("SORT", "int"), ("DEF", "char"),
                             ("XML_ID", "string"))}


for _entity in ENTITIES:
    _uf_methods(_entity)


@rest_method("crm.userfield.types", "crm")
def userfield_types(call: Call) -> list[dict[str, str]]:
    return [{"ID": t, "title": t} for t in sorted(UF_TYPES)]
