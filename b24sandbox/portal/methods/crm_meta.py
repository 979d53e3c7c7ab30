"""CRM dictionaries and funnels: crm.status.*, crm.category.*, deprecated crm.dealcategory.*.

Statuses live in ``crm_status`` (one row per dictionary entry, as ``b_crm_status``); funnels of deals
live in ``crm_category`` and those of smart invoices in ``crm_item_category`` (as on the platform, where
deal funnels and item funnels are separate tables, so deal funnel 1 and invoice funnel 1 may coexist). Deal funnel 0 is the general funnel (stages without a
prefix, dictionary ``DEAL_STAGE``); funnel n has stages ``C<n>:CODE`` in ``DEAL_STAGE_<n>``; a smart
invoice funnel c has stages ``DT31_<c>:CODE`` in ``SMART_INVOICE_STAGE_<c>``.
"""

from __future__ import annotations

import re
from typing import Any

from ..api import Call, ListResult, Platform, RestError, legacy_crm_error, rest_method
from ..listing import paginate
from ._common import table, to_int, yn

LEAD, DEAL, CONTACT, COMPANY, INVOICE = 1, 2, 3, 4, 31
SEMANTIC_LETTER = {"process": "P", "success": "S", "failure": "F", "apology": "F"}

SOURCES = [
    ("CALL", "Звонок"), ("EMAIL", "Электронная почта"), ("WEB", "Веб-сайт"), ("ADVERTISING", "Реклама"),
    ("PARTNER", "Существующий клиент"), ("RECOMMENDATION", "По рекомендации"), ("TRADE_SHOW", "Выставка"),
    ("WEBFORM", "CRM-форма"), ("CALLBACK", "Обратный звонок"), ("RC_GENERATOR", "Генератор продаж"),
    ("STORE", "Интернет-магазин"), ("OTHER", "Другое"),
]
LEAD_STATUSES = [
    ("NEW", "Не обработан", "process", "#2FC6F6"), ("IN_PROCESS", "В работе", "process", "#55D0E0"),
    ("PROCESSED", "Обработан", "process", "#47E4C2"), ("CONVERTED", "Качественный лид", "success", "#7BD500"),
    ("JUNK", "Некачественный лид", "failure", "#FF5752"),
]
DEAL_STAGES = [
    ("NEW", "Новая", "process", "#39A8EF"), ("PREPARATION", "Подготовка документов", "process", "#2FC6F6"),
    ("PREPAYMENT_INVOICE", "Счёт на предоплату", "process", "#55D0E0"),
    ("EXECUTING", "В работе", "process", "#47E4C2"), ("FINAL_INVOICE", "Финальный счёт", "process", "#FFA900"),
    ("WON", "Сделка успешна", "success", "#7BD500"), ("LOSE", "Сделка провалена", "failure", "#FF5752"),
    ("APOLOGY", "Анализ причины провала", "apology", "#FF5752"),
]
INVOICE_STAGES = [
    ("N", "Новый", "process", "#22B9FF"), ("S", "Отправлен клиенту", "process", "#2FC6F6"),
    ("P", "Оплачен", "success", "#7BD500"), ("D", "Отклонён", "failure", "#FF5752"),
]
SIMPLE_DICTS = {
    "DEAL_TYPE": [("SALE", "Продажа"), ("COMPLEX", "Комплексная продажа"), ("GOODS", "Продажа товара"),
                  ("SERVICES", "Продажа услуги"), ("SERVICE", "Сервисное обслуживание")],
    "CONTACT_TYPE": [("CLIENT", "Клиенты"), ("SUPPLIER", "Поставщики"), ("PARTNER", "Партнеры"),
                     ("OTHER", "Другое")],
    "COMPANY_TYPE": [("CUSTOMER", "Клиент"), ("SUPPLIER", "Поставщик"), ("COMPETITOR", "Конкурент"),
                     ("PARTNER", "Партнер"), ("OTHER", "Другое")],
    "INDUSTRY": [("IT", "Информационные технологии"), ("TELECOM", "Телекоммуникации и связь"),
                 ("MANUFACTURING", "Производство"), ("BANKING", "Банковские услуги"),
                 ("CONSULTING", "Консалтинг"), ("FINANCE", "Финансы"), ("GOVERNMENT", "Правительство"),
                 ("DELIVERY", "Доставка"), ("ENTERTAINMENT", "Развлечения"),
                 ("NOTPROFIT", "Не для получения прибыли"), ("OTHER", "Другое")],
    "EMPLOYEES": [("EMPLOYEES_1", "менее 50"), ("EMPLOYEES_2", "50-250"), ("EMPLOYEES_3", "250-500"),
                  ("EMPLOYEES_4", "более 500")],
    "HONORIFIC": [("HNR_RU_1", "г-н"), ("HNR_RU_2", "г-жа")],
}
ENTITY_TYPES = [
    ("STATUS", "Статусы лидов", None, None), ("SOURCE", "Источники", None, None),
    ("CONTACT_TYPE", "Тип контакта", None, None), ("COMPANY_TYPE", "Тип компании", None, None),
    ("EMPLOYEES", "Кол-во сотрудников", None, None), ("INDUSTRY", "Сфера деятельности", None, None),
    ("DEAL_TYPE", "Тип сделки", None, None), ("HONORIFIC", "Обращения", None, None),
]


# --------------------------------------------------------------------------- storage


def statuses(portal: Platform):
    return table(portal, "crm_status")


def categories(portal: Platform, entity_type_id: int = DEAL):
    """The funnels of deals (default) or of another entity type (smart invoices)."""
    if entity_type_id == DEAL:
        return table(portal, "crm_category")
    items = table(portal, "crm_item_category")
    if not portal.cache.get("crm_meta.categories_split"):
        # data written before the split kept invoice funnels with the deal funnels
        deals = table(portal, "crm_category")
        for row in [r for r in deals.values() if r["entityTypeId"] != DEAL]:
            if items.get(row["id"]) is None:
                items.save(row["id"], row)
            deals.delete(row["id"])
        portal.cache["crm_meta.categories_split"] = True
    return items


def all_categories(portal: Platform) -> list[dict[str, Any]]:
    return list(categories(portal, DEAL).values()) + list(categories(portal, INVOICE).values())


def _index(portal: Platform) -> dict[str, list[dict[str, Any]]]:
    """ENTITY_ID -> entries sorted by SORT (cached; dropped on every dictionary change)."""
    idx = portal.cache.get("crm_meta.index")
    if idx is None:
        idx = {}
        for row in statuses(portal).values():
            idx.setdefault(row["ENTITY_ID"], []).append(row)
        for rows in idx.values():
            rows.sort(key=lambda r: (int(r["SORT"]), r["ID"]))
        portal.cache["crm_meta.index"] = idx
    return idx


def invalidate(portal: Platform) -> None:
    portal.cache.pop("crm_meta.index", None)


def entries(portal: Platform, entity_id: str) -> list[dict[str, Any]]:
    return _index(portal).get(entity_id, [])


def add_status(portal: Platform, entity_id: str, status_id: str, name: str, sort: int,
               semantics: str | None = None, color: str | None = None, category_id: int | None = None,
               system: str = "N") -> dict[str, Any]:
    tbl = statuses(portal)
    rid = tbl.next_id()
    row = {"ID": rid, "ENTITY_ID": entity_id, "STATUS_ID": status_id, "NAME": name, "NAME_INIT": name
           if system == "Y" else "", "SORT": int(sort), "SYSTEM": system, "CATEGORY_ID": category_id,
           "COLOR": color, "SEMANTICS": semantics}
    tbl.save(rid, row)
    invalidate(portal)
    return row


def stage_entity_id(entity_type_id: int, category_id: int | None) -> str:
    if entity_type_id == LEAD:
        return "STATUS"
    if entity_type_id == DEAL:
        return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"
    if entity_type_id == INVOICE:
        return f"SMART_INVOICE_STAGE_{category_id}"
    raise ValueError(entity_type_id)


def stage_prefix(entity_type_id: int, category_id: int | None) -> str:
    if entity_type_id == DEAL:
        return f"C{category_id}:" if category_id else ""
    if entity_type_id == INVOICE:
        return f"DT31_{category_id}:"
    return ""


def stages(portal: Platform, entity_type_id: int, category_id: int | None = None) -> list[dict[str, Any]]:
    return entries(portal, stage_entity_id(entity_type_id, category_id))


def stage_ids(portal: Platform, entity_type_id: int, category_id: int | None = None) -> list[str]:
    return [s["STATUS_ID"] for s in stages(portal, entity_type_id, category_id)]


def semantic_of(portal: Platform, entity_type_id: int, category_id: int | None, stage_id: str | None) -> str:
    """P (in progress), S (success) or F (failure) for a stage; P for unknown stages."""
    for s in stages(portal, entity_type_id, category_id):
        if s["STATUS_ID"] == stage_id:
            return SEMANTIC_LETTER.get(s.get("SEMANTICS") or "process", "P")
    return "P"


def is_first_stage(portal: Platform, entity_type_id: int, category_id: int | None, stage_id: str) -> bool:
    ids = stage_ids(portal, entity_type_id, category_id)
    return bool(ids) and ids[0] == stage_id


def category_exists(portal: Platform, entity_type_id: int, category_id: int | None) -> bool:
    row = categories(portal, entity_type_id).get(category_id)
    return row is not None and row["entityTypeId"] == entity_type_id


def default_category(portal: Platform, entity_type_id: int) -> int:
    for row in categories(portal, entity_type_id).values():
        if row["entityTypeId"] == entity_type_id and row.get("isDefault") == "Y":
            return row["id"]
    return 0


def deal_category_of_stage(stage_id: str) -> int:
    m = re.match(r"^C(\d+):", stage_id or "")
    return int(m[1]) if m else 0


def status_name(portal: Platform, entity_id: str, status_id: str | None) -> str | None:
    for e in entries(portal, entity_id):
        if e["STATUS_ID"] == status_id:
            return e["NAME"]
    return None


# --------------------------------------------------------------------------- defaults


def install_defaults(portal: Platform, *, deal_stages: bool = True, lead_statuses: bool = True,
                     sources: bool = True, invoice_category: bool = True) -> None:
    """Dictionaries of a fresh portal (used by the "empty" seed and under the demo seed's own)."""
    rows = []
    tbl = statuses(portal)
    rid = tbl.ids[-1] if tbl.ids else 0

    def put(entity: str, code: str, name: str, sort: int, sem: str | None = None, color: str | None = None,
            cat: int | None = None, system: str = "N") -> None:
        nonlocal rid
        rid += 1
        rows.append((rid, {"ID": rid, "ENTITY_ID": entity, "STATUS_ID": code, "NAME": name,
                           "NAME_INIT": name if system == "Y" else "", "SORT": sort, "SYSTEM": system,
                           "CATEGORY_ID": cat, "COLOR": color, "SEMANTICS": sem}))

    if lead_statuses:
        for i, (code, name, sem, color) in enumerate(LEAD_STATUSES):
            put("STATUS", code, name, (i + 1) * 10, sem, color,
                system="Y" if code in ("NEW", "CONVERTED", "JUNK") else "N")
    if sources:
        for i, (code, name) in enumerate(SOURCES):
            put("SOURCE", code, name, (i + 1) * 10, system="Y" if code == "OTHER" else "N")
    if deal_stages:
        for i, (code, name, sem, color) in enumerate(DEAL_STAGES):
            put("DEAL_STAGE", code, name, (i + 1) * 10, sem, color,
                system="Y" if code in ("NEW", "WON", "LOSE") else "N")
    for entity, items in SIMPLE_DICTS.items():
        if entity == "DEAL_TYPE" and not deal_stages:
            continue
        for i, (code, name) in enumerate(items):
            put(entity, code, name, (i + 1) * 10)
    tbl.save_many(rows)
    invalidate(portal)
    cats = categories(portal)
    if 0 not in cats:
        cats.save(0, {"id": 0, "entityTypeId": DEAL, "name": "Общее", "sort": 100, "isDefault": "Y"})
    if invoice_category and not len(categories(portal, INVOICE)):
        create_category(portal, INVOICE, "Счета", 100, is_default=True)


def create_category(portal: Platform, entity_type_id: int, name: str, sort: int = 500,
                    is_default: bool = False, category_id: int | None = None,
                    with_stages: bool = True) -> dict[str, Any]:
    """A new funnel with the standard stages of its entity type."""
    cats = categories(portal, entity_type_id)
    cid = category_id if category_id is not None else cats.next_id()
    row = {"id": cid, "entityTypeId": entity_type_id, "name": name, "sort": int(sort),
           "isDefault": "Y" if is_default else "N", "originId": "", "originatorId": ""}
    cats.save(cid, row)
    if with_stages:
        template = DEAL_STAGES if entity_type_id == DEAL else INVOICE_STAGES
        entity = stage_entity_id(entity_type_id, cid)
        prefix = stage_prefix(entity_type_id, cid)
        for i, (code, sname, sem, color) in enumerate(template):
            add_status(portal, entity, prefix + code, sname, (i + 1) * 10, sem, color, cid,
                       system="Y" if code in ("NEW", "WON", "LOSE", "N", "P", "D") else "N")
    return row


# --------------------------------------------------------------------------- crm.status.*


STATUS_FIELDS = {
    "ID": ("integer", True), "ENTITY_ID": ("string", False), "STATUS_ID": ("string", False),
    "SORT": ("integer", False), "NAME": ("string", False), "NAME_INIT": ("string", True),
    "SYSTEM": ("char", True), "CATEGORY_ID": ("integer", True), "COLOR": ("string", False),
    "SEMANTICS": ("string", True), "EXTRA": ("crm_status_extra", False),
}
_STAGE_ENTITY_RE = re.compile(r"^(STATUS|DEAL_STAGE(_\d+)?|SMART_INVOICE_STAGE_\d+|QUOTE_STATUS|DYNAMIC_\d+_STAGE_\d+)$")


def is_stage_entity(entity_id: str) -> bool:
    """A dictionary of stages/statuses (with semantics and colours) rather than a plain list."""
    return bool(_STAGE_ENTITY_RE.match(entity_id or ""))


def status_out(row: dict[str, Any]) -> dict[str, Any]:
    sem = row.get("SEMANTICS")
    out = {
        "ID": str(row["ID"]), "ENTITY_ID": row["ENTITY_ID"], "STATUS_ID": row["STATUS_ID"],
        "NAME": row["NAME"], "NAME_INIT": row.get("NAME_INIT") or "", "SORT": str(row["SORT"]),
        "SYSTEM": row.get("SYSTEM", "N"),
        "CATEGORY_ID": None if row.get("CATEGORY_ID") is None else str(row["CATEGORY_ID"]),
        "COLOR": row.get("COLOR"),
        "SEMANTICS": {"success": "S", "failure": "F", "apology": "F"}.get(sem or "", None),
    }
    if _STAGE_ENTITY_RE.match(row["ENTITY_ID"]):
        out["EXTRA"] = {"SEMANTICS": sem or "process", "COLOR": row.get("COLOR")}
    return out


@rest_method("crm.status.fields", "crm")
def status_fields(call: Call) -> dict[str, Any]:
    return {name: {"type": t, "isRequired": name in ("ENTITY_ID", "STATUS_ID", "NAME"), "isReadOnly": ro,
                   "isImmutable": name in ("ENTITY_ID", "STATUS_ID"), "isMultiple": False,
                   "isDynamic": False, "title": name}
            for name, (t, ro) in STATUS_FIELDS.items()}


@rest_method("crm.status.entity.types", "crm")
def status_entity_types(call: Call) -> list[dict[str, Any]]:
    out = [{"ID": e, "NAME": n} for e, n, _, _ in ENTITY_TYPES[:1]]
    out.append({"ID": "DEAL_STAGE", "NAME": "Стадии сделки", "PARENT_ID": "", "SEMANTIC_INFO": [],
                "ENTITY_TYPE_ID": DEAL, "IS_ENABLED": True, "CATEGORY_ID": 0})
    for cat in sorted(all_categories(call.portal), key=lambda r: (r["sort"], r["id"])):
        if cat["entityTypeId"] == DEAL and cat["id"]:
            out.append({"ID": f"DEAL_STAGE_{cat['id']}", "NAME": f"Стадии сделки ({cat['name']})",
                        "PARENT_ID": "DEAL_STAGE", "ENTITY_TYPE_ID": DEAL, "IS_ENABLED": True,
                        "CATEGORY_ID": cat["id"]})
        if cat["entityTypeId"] == INVOICE:
            out.append({"ID": f"SMART_INVOICE_STAGE_{cat['id']}", "NAME": f"Стадии счёта ({cat['name']})",
                        "ENTITY_TYPE_ID": INVOICE, "IS_ENABLED": True, "CATEGORY_ID": cat["id"]})
    out += [{"ID": e, "NAME": n} for e, n, _, _ in ENTITY_TYPES[1:]]
    return out


def _status_get(row: dict[str, Any], field: str) -> Any:
    return row.get(field.upper())


@rest_method("crm.status.list", "crm")
def status_list(call: Call) -> ListResult:
    flt = call.param("filter")
    order = call.param("order") or {"SORT": "ASC"}
    source = sorted(statuses(call.portal).values(), key=lambda r: (r["ENTITY_ID"], int(r["SORT"]), r["ID"]))
    types = {"ID": "integer", "SORT": "integer", "CATEGORY_ID": "integer"}
    page = paginate([status_out(r) for r in source], filter=flt if isinstance(flt, dict) else None,
                    order=order, start=0, field_types=types, sorted_by_id=False, page_size=10**9,
                    known_fields=list(STATUS_FIELDS))
    return ListResult(page.items, len(page.items))


def _status_by_id(call: Call) -> dict[str, Any]:
    rid = to_int(call.param("id"))
    if rid is None or rid <= 0:
        raise legacy_crm_error("ID is not defined or invalid.")
    row = statuses(call.portal).get(rid)
    if row is None:
        raise legacy_crm_error("Not found")
    return row


@rest_method("crm.status.get", "crm")
def status_get(call: Call) -> dict[str, Any]:
    return status_out(_status_by_id(call))


@rest_method("crm.status.add", "crm", admin_only=True)
def status_add(call: Call) -> int:
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    f = {str(k).upper(): v for k, v in fields.items()}
    entity_id = str(f.get("ENTITY_ID") or "").strip()
    status_id = str(f.get("STATUS_ID") or "").strip()
    name = str(f.get("NAME") or "").strip()
    if not entity_id:
        raise legacy_crm_error("The field ENTITY_ID is required.")
    if not status_id:
        raise legacy_crm_error("The field STATUS_ID is required.")
    if not name:
        raise legacy_crm_error("The field NAME is required.")
    category_id = None
    m = re.match(r"^(DEAL_STAGE|SMART_INVOICE_STAGE)_(\d+)$", entity_id)
    if m:
        category_id = int(m[2])
        prefix = "C" if m[1] == "DEAL_STAGE" else "DT31_"
        if not status_id.startswith(f"{prefix}{category_id}:"):
            status_id = f"{prefix}{category_id}:{status_id}"
    if any(e["STATUS_ID"] == status_id for e in entries(call.portal, entity_id)):
        raise legacy_crm_error("Element with this STATUS_ID already exists.")
    sem_in = str(f.get("SEMANTICS") or "").upper()
    sem = {"S": "success", "F": "failure"}.get(sem_in, "process" if _STAGE_ENTITY_RE.match(entity_id) else None)
    extra = f.get("EXTRA") if isinstance(f.get("EXTRA"), dict) else {}
    color = f.get("COLOR") or (extra or {}).get("COLOR")
    row = add_status(call.portal, entity_id, status_id, name, to_int(f.get("SORT"), 500) or 500, sem, color,
                     category_id)
    return row["ID"]


@rest_method("crm.status.update", "crm", admin_only=True)
def status_update(call: Call) -> bool:
    row = dict(_status_by_id(call))
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    f = {str(k).upper(): v for k, v in fields.items()}
    if "NAME" in f and str(f["NAME"]).strip():
        row["NAME"] = str(f["NAME"]).strip()
    if "SORT" in f:
        row["SORT"] = to_int(f["SORT"], row["SORT"])
    if "COLOR" in f:
        row["COLOR"] = f["COLOR"]
    statuses(call.portal).save(row["ID"], row)
    invalidate(call.portal)
    return True


@rest_method("crm.status.delete", "crm", admin_only=True)
def status_delete(call: Call) -> bool:
    row = _status_by_id(call)
    params = call.param("params") or {}
    forced = isinstance(params, dict) and yn(params.get("FORCED")) == "Y"
    if row.get("SYSTEM") == "Y" and not forced:
        raise legacy_crm_error("Can't delete system status")
    statuses(call.portal).delete(row["ID"])
    invalidate(call.portal)
    return True


# --------------------------------------------------------------------------- crm.category.*


def category_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "name": row["name"], "sort": row["sort"], "entityTypeId": row["entityTypeId"],
           "isDefault": row.get("isDefault", "N")}
    if not (row["entityTypeId"] == DEAL and row["id"] == 0):
        out["originId"] = row.get("originId", "")
        out["originatorId"] = row.get("originatorId", "")
    return out


def _entity_type_param(call: Call) -> int:
    etid = to_int(call.param("entityTypeId"))
    if etid not in (DEAL, INVOICE):
        if etid in (LEAD, CONTACT, COMPANY):
            raise RestError("NOT_FOUND", "Категории не поддерживаются этим типом")
        raise RestError("NOT_FOUND", "Смарт-процесс не найден")
    return etid


def sorted_categories(portal: Platform, entity_type_id: int) -> list[dict[str, Any]]:
    rows = [r for r in categories(portal, entity_type_id).values() if r["entityTypeId"] == entity_type_id]
    return sorted(rows, key=lambda r: (r["sort"], r["id"]))


@rest_method("crm.category.list", "crm")
def category_list(call: Call) -> ListResult:
    etid = _entity_type_param(call)
    rows = [category_out(r) for r in sorted_categories(call.portal, etid)]
    return ListResult({"categories": rows}, len(rows))


def _category_row(call: Call, etid: int) -> dict[str, Any]:
    cid = to_int(call.param("id"))
    row = categories(call.portal, etid).get(cid)
    if row is None or row["entityTypeId"] != etid:
        raise RestError("NOT_FOUND", "Направление не найдено")
    return row


@rest_method("crm.category.get", "crm")
def category_get(call: Call) -> dict[str, Any]:
    etid = _entity_type_param(call)
    return {"category": category_out(_category_row(call, etid))}


@rest_method("crm.category.add", "crm", admin_only=True)
def category_add(call: Call) -> dict[str, Any]:
    etid = _entity_type_param(call)
    fields = call.param("fields") or {}
    if not isinstance(fields, dict):
        raise RestError("INVALID_ARG_VALUE", "fields must be an object")
    name = str(fields.get("name") or fields.get("NAME") or "").strip()
    if not name:
        raise RestError("CRM_FIELD_ERROR_REQUIRED", "Поле \"Название\" обязательно для заполнения")
    row = create_category(call.portal, etid, name, to_int(fields.get("sort"), 500) or 500,
                          is_default=yn(fields.get("isDefault")) == "Y")
    return {"category": category_out(row)}


@rest_method("crm.category.update", "crm", admin_only=True)
def category_update(call: Call) -> dict[str, Any]:
    etid = _entity_type_param(call)
    row = dict(_category_row(call, etid))
    fields = call.param("fields") or {}
    if isinstance(fields, dict):
        if fields.get("name"):
            row["name"] = str(fields["name"])
        if "sort" in fields:
            row["sort"] = to_int(fields["sort"], row["sort"])
    categories(call.portal, etid).save(row["id"], row)
    return {"category": category_out(row)}


@rest_method("crm.category.delete", "crm", admin_only=True)
def category_delete(call: Call) -> None:
    etid = _entity_type_param(call)
    row = _category_row(call, etid)
    if row.get("isDefault") == "Y":
        raise RestError("CRM_CATEGORY_DEFAULT_DELETE", "Нельзя удалить направление по умолчанию")
    from . import crm_entities

    if crm_entities.any_in_category(call.portal, etid, row["id"]):
        raise RestError("CRM_CATEGORY_NOT_EMPTY", "Направление содержит элементы")
    categories(call.portal, etid).delete(row["id"])
    entity = stage_entity_id(etid, row["id"])
    for s in list(entries(call.portal, entity)):
        statuses(call.portal).delete(s["ID"])
    invalidate(call.portal)
    return None


# --------------------------------------------------------------------------- crm.dealcategory.* (deprecated)


def _dealcategory_out(row: dict[str, Any], portal: Platform) -> dict[str, Any]:
    return {"ID": str(row["id"]), "CREATED_DATE": row.get("created", ""), "NAME": row["name"],
            "IS_LOCKED": "N", "SORT": str(row["sort"])}


@rest_method("crm.dealcategory.list", "crm")
def dealcategory_list(call: Call) -> ListResult:
    rows = [r for r in sorted_categories(call.portal, DEAL) if r["id"] != 0]
    items = [_dealcategory_out(r, call.portal) for r in rows]
    return ListResult(items, len(items))


@rest_method("crm.dealcategory.get", "crm")
def dealcategory_get(call: Call) -> dict[str, Any]:
    cid = to_int(call.param("id"))
    row = categories(call.portal).get(cid)
    if not cid or row is None or row["entityTypeId"] != DEAL:
        raise legacy_crm_error("Not found")
    return _dealcategory_out(row, call.portal)


@rest_method("crm.dealcategory.add", "crm", admin_only=True)
def dealcategory_add(call: Call) -> int:
    fields = call.param("fields")
    if not isinstance(fields, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    f = {str(k).upper(): v for k, v in fields.items()}
    name = str(f.get("NAME") or "").strip()
    if not name:
        raise legacy_crm_error("The field NAME is required.")
    return create_category(call.portal, DEAL, name, to_int(f.get("SORT"), 500) or 500)["id"]


@rest_method("crm.dealcategory.default.get", "crm")
def dealcategory_default_get(call: Call) -> dict[str, Any]:
    row = categories(call.portal).get(0) or {"name": "Общее", "sort": 100}
    return {"ID": 0, "NAME": row["name"], "SORT": row["sort"]}


@rest_method("crm.dealcategory.stage.list", "crm")
def dealcategory_stage_list(call: Call) -> list[dict[str, Any]]:
    cid = to_int(call.param("id"), 0) or 0
    if cid and not category_exists(call.portal, DEAL, cid):
        raise legacy_crm_error("Not found")
    return [{"NAME": s["NAME"], "SORT": int(s["SORT"]), "STATUS_ID": s["STATUS_ID"]}
            for s in stages(call.portal, DEAL, cid)]


@rest_method("crm.dealcategory.status", "crm")
def dealcategory_status(call: Call) -> str:
    cid = to_int(call.param("id"), 0) or 0
    return stage_entity_id(DEAL, cid)
