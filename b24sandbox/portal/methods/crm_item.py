"""The universal ``crm.item.*`` methods: camelCase names and typed values (ints, floats) over the same
rows the legacy methods use for leads (1), deals (2), contacts (3) and companies (4), and the smart
invoice (31) with its own funnels (stages ``DT31_<category>:N/S/P/D``) stored in ``crm_invoice``.

Errors are the D7 ones (``NOT_FOUND``, ``INVALID_ARG_VALUE``, ``CRM_FIELD_ERROR_VALUE_NOT_VALID``).
For types 1..4 the legacy events fire (``ONCRMDEALUPDATE`` ...); for 31 ``ONCRMDYNAMICITEM*`` and
``ONCRMDYNAMICITEM*_31`` with ``{ID, ENTITY_TYPE_ID}``. A new ``categoryId`` on a deal moves it to
that funnel's first stage (or the given stage of that funnel) and fires ONCRMDEALMOVETOCATEGORY.
"""

from __future__ import annotations

import re
from typing import Any

from ..api import Call, ListResult, Platform, RestError, rest_method
from ..listing import invalid_arg_error
from . import crm_entities as ce
from . import crm_meta as meta
from ._common import (
    MSK,
    TableView,
    as_list,
    fast_paginate,
    iso,
    iso_date,
    now_iso,
    number_out,
    table,
    to_float,
    to_int,
    yn,
)
from .crm_fields import ENTITIES, ITEM_TYPES, MULTIFIELDS, uf_coerce, uf_defs, uf_item_name, uf_out_item

SPECIAL = {"DATE_CREATE": "createdTime", "DATE_MODIFY": "updatedTime", "CREATED_BY_ID": "createdBy",
           "MODIFY_BY_ID": "updatedBy", "MOVED_BY_ID": "movedBy", "STATUS_ID": "stageId",
           "STATUS_SEMANTIC_ID": "stageSemanticId", "COMPANY_TYPE": "typeId"}
_ZERO_INT = {"crm_company", "crm_contact"}
_INT_TYPES = {"integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_quote", "crm_category",
              "location", "file"}


def camel(name: str) -> str:
    if name in SPECIAL:
        return SPECIAL[name]
    parts = name.lower().split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


_UPPER_SPLIT = re.compile(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])")


def d7_upper(name: str) -> str:
    """The UPPER_CASE name of a crm.item field (``assignedById`` -> ``ASSIGNED_BY_ID``,
    ``parentId2`` -> ``PARENT_ID_2``), i.e. the name the platform's item converter knows it by."""
    return _UPPER_SPLIT.sub("_", name).upper()


def upper_aliases(camel_names: Any, uf_names: dict[str, str] | None = None) -> dict[str, str]:
    """UPPER_CASE alias -> camelCase name for the fields of one entity type.

    The real crm.item.* controller primes its case converter with the factory's UPPER_CASE field
    names before converting the request's keys, so a key that already is such a name (``ID``,
    ``STAGE_ID``, ``UF_CRM_...``) passes unchanged and works like its camelCase twin in ``fields``,
    ``select``, ``filter`` and ``order``. User fields are known by their FIELD_NAME (``uf_names``:
    camel -> FIELD_NAME)."""
    out: dict[str, str] = {}
    ufs = uf_names or {}
    for name in camel_names:
        alias = ufs.get(name) or d7_upper(name)
        if alias != name:
            out.setdefault(alias, name)
    return out


def _not_found() -> RestError:
    return RestError("NOT_FOUND", "Element not found")


def _type_param(call: Call) -> int:
    etid = to_int(call.param("entityTypeId"))
    if etid not in (1, 2, 3, 4, meta.INVOICE):
        raise RestError("NOT_FOUND", "Smart process not found")
    return etid


# --------------------------------------------------------------------------- types 1..4


def _legacy_map(portal: Platform, entity: str) -> dict[str, str]:
    """UPPER name -> camel name for an entity (standard fields, parent links and user fields)."""
    out = {}
    for name, (typ, _flags) in ITEM_TYPES[entity].items():
        if typ == "crm_multifield":
            continue
        if entity == "company" and name == "CONTACT_ID":
            out[name] = "contactIds"
            continue
        out[name] = camel(name)
    for d in uf_defs(portal, entity):
        out[d["FIELD_NAME"]] = uf_item_name(d["FIELD_NAME"])
    return out


def item_from_row(portal: Platform, entity: str, row: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    mapping = _legacy_map(portal, entity)
    types = ITEM_TYPES[entity]
    ufs = {d["FIELD_NAME"]: d for d in uf_defs(portal, entity)}
    want = _select_set(select, _entity_aliases(portal, entity, mapping))
    out: dict[str, Any] = {}
    for upper, name in mapping.items():
        if want is not None and name not in want and not (name.startswith("uf") and "uf*" in want):
            continue
        value = row.get(upper)
        if upper in ufs:
            out[name] = uf_out_item(ufs[upper], value)
            continue
        typ = types[upper][0]
        if upper in ("CONTACT_IDS", "COMPANY_IDS") or (entity == "company" and upper == "CONTACT_ID"):
            out[name] = list(value or [])
        elif typ in _INT_TYPES:
            out[name] = value if value is not None else (0 if typ in _ZERO_INT else None)
        elif typ == "double":
            out[name] = number_out(value) if value is not None else None
        else:
            out[name] = value
    if entity == "deal":
        for k, v in row.items():
            if k.startswith("PARENT_ID_"):
                out[camel(k)] = v
    if entity in ("deal", "lead") and (want is None or "observers" in want):
        out.setdefault("observers", [])
    if entity != "deal" and (want is None or "fm" in want):
        fm = []
        for mf in MULTIFIELDS:
            for i in row.get(mf) or []:
                fm.append({"id": i["ID"], "valueType": i["VALUE_TYPE"], "value": i["VALUE"], "typeId": mf})
        out["fm"] = fm
    if want is None or "entityTypeId" in want:
        out["entityTypeId"] = ENTITIES[entity]["type_id"]
    return out


def _entity_aliases(portal: Platform, entity: str, mapping: dict[str, str] | None = None) -> dict[str, str]:
    mapping = mapping if mapping is not None else _legacy_map(portal, entity)
    ufs = {uf_item_name(d["FIELD_NAME"]): d["FIELD_NAME"] for d in uf_defs(portal, entity)}
    return upper_aliases(mapping.values(), ufs)


def _invoice_aliases(portal: Platform) -> dict[str, str]:
    ufs = {uf_item_name(d["FIELD_NAME"]): d["FIELD_NAME"] for d in uf_defs(portal, "CRM_SMART_INVOICE")}
    return upper_aliases([n for n, _, _ in INVOICE_FIELDS] + list(ufs), ufs)


def _select_set(select: Any, aliases: dict[str, str] | None = None) -> set[str] | None:
    items = [str(s) for s in as_list(select)]
    if not items or "*" in items:
        return None
    aliases = aliases or {}
    out = {aliases.get(s, s) for s in items}
    out.add("id")
    if any(s.lower() in ("uf_*", "ufcrm*") for s in items):
        out.add("uf*")
    return out


def _fields_to_upper(portal: Platform, entity: str, fields: dict[str, Any]) -> dict[str, Any]:
    mapping = _legacy_map(portal, entity)
    reverse = {v: k for k, v in mapping.items()}
    aliases = _entity_aliases(portal, entity, mapping)
    out: dict[str, Any] = {}
    fields = {aliases.get(str(k), str(k)) if str(k) not in reverse else str(k): v for k, v in fields.items()}
    for key, value in fields.items():
        k = str(key)
        if k in reverse:
            out[reverse[k]] = value
        elif k.upper().startswith("UF_CRM_"):
            out[k.upper()] = value
        elif k == "fm" and entity != "deal":
            for item in as_list(value):
                if isinstance(item, dict) and item.get("typeId"):
                    out.setdefault(str(item["typeId"]).upper(), []).append(
                        {"VALUE": item.get("value"), "VALUE_TYPE": item.get("valueType"), "ID": item.get("id")})
        elif entity == "deal" and re.match(r"^parentId\d+$", k):
            out["PARENT_ID_" + k[len("parentId"):]] = value
    if entity in ("deal", "lead") and "contactIds" in fields:
        out["CONTACT_IDS"] = fields["contactIds"]
    return out


# --------------------------------------------------------------------------- smart invoices

INVOICE_FIELDS: list[tuple[str, str, str]] = [
    ("id", "integer", "O"), ("xmlId", "string", ""), ("title", "string", ""), ("createdBy", "user", "O"),
    ("updatedBy", "user", "O"), ("movedBy", "user", "O"), ("createdTime", "datetime", "O"),
    ("updatedTime", "datetime", "O"), ("movedTime", "datetime", "O"), ("categoryId", "crm_category", ""),
    ("opened", "boolean", ""), ("stageId", "crm_status", ""), ("previousStageId", "crm_status", "O"),
    ("begindate", "date", ""), ("closedate", "date", ""), ("companyId", "crm_company", ""),
    ("contactId", "crm_contact", ""), ("opportunity", "double", ""), ("isManualOpportunity", "boolean", ""),
    ("taxValue", "double", ""), ("currencyId", "crm_currency", ""), ("mycompanyId", "crm_company", ""),
    ("sourceId", "crm_status", ""), ("sourceDescription", "text", ""), ("webformId", "integer", "O"),
    ("assignedById", "user", ""), ("lastActivityBy", "user", "O"), ("lastActivityTime", "datetime", "O"),
    ("accountNumber", "string", ""), ("locationId", "location", ""), ("comments", "text", ""),
    ("parentId2", "crm_entity", ""), ("stageSemanticId", "string", "O"), ("observers", "user", "M"),
    ("contactIds", "crm_contact", "M"),
]
INVOICE_TYPES = {n: t for n, t, _ in INVOICE_FIELDS}


def invoices(portal: Platform):
    return table(portal, "crm_invoice")


def _invoice_out(portal: Platform, row: dict[str, Any], select: Any = None) -> dict[str, Any]:
    want = _select_set(select, _invoice_aliases(portal))
    out = {}
    for name, typ, _ in INVOICE_FIELDS:
        if want is not None and name not in want:
            continue
        v = row.get(name)
        if typ == "double":
            v = number_out(v)
        out[name] = v
    for d in uf_defs(portal, "CRM_SMART_INVOICE"):
        name = uf_item_name(d["FIELD_NAME"])
        if want is None or name in want:
            out[name] = uf_out_item(d, row.get(d["FIELD_NAME"]))
    if want is None or "entityTypeId" in want:
        out["entityTypeId"] = meta.INVOICE
    return out


def _invoice_apply(portal: Platform, row: dict[str, Any], fields: dict[str, Any], creating: bool) -> str | None:
    """Apply camelCase fields; returns the target stage (or None) and checks the funnel."""
    stage = None
    aliases = _invoice_aliases(portal)
    fields = {aliases.get(str(k), str(k)) if str(k) not in INVOICE_TYPES else str(k): v for k, v in fields.items()}
    for key, value in fields.items():
        k = str(key)
        typ = INVOICE_TYPES.get(k)
        if typ is None or k in ("id", "createdBy", "updatedBy", "movedBy", "createdTime", "updatedTime", "movedTime",
                                "previousStageId", "lastActivityBy", "lastActivityTime", "stageSemanticId",
                                "webformId"):
            continue
        if k == "stageId":
            stage = str(value)
            continue
        if k == "categoryId":
            if creating:
                row["categoryId"] = to_int(value)
            continue
        if k in ("observers", "contactIds"):
            row[k] = [v for v in (to_int(x) for x in as_list(value)) if v]
            if k == "contactIds":
                row["contactId"] = row[k][0] if row[k] else 0
        elif typ in ("integer", "user", "crm_company", "crm_contact", "crm_entity", "location"):
            row[k] = to_int(value) or (0 if typ in ("crm_company", "crm_contact", "crm_entity") else None)
            if k == "contactId" and "contactIds" not in fields:
                row["contactIds"] = [row[k]] if row[k] else []
        elif typ == "double":
            row[k] = to_float(value, 0.0)
        elif typ == "boolean":
            row[k] = yn(value)
        elif typ == "date":
            row[k] = iso_date(value)
        elif typ == "datetime":
            row[k] = iso(value)
        else:
            row[k] = None if value is None else str(value)
    for d in uf_defs(portal, "CRM_SMART_INVOICE"):
        name = uf_item_name(d["FIELD_NAME"])
        if name in fields:
            row[d["FIELD_NAME"]] = uf_coerce(d, fields[name])
    return stage


def _fire_dynamic(portal: Platform, action: str, rid: int, call: Call | None) -> None:
    data = {"FIELDS": {"ID": str(rid), "ENTITY_TYPE_ID": str(meta.INVOICE)}}
    portal.fire_event(f"ONCRMDYNAMICITEM{action}", data, call)
    portal.fire_event(f"ONCRMDYNAMICITEM{action}_{meta.INVOICE}", data, call)


def invoice_row(portal: Platform, fields: dict[str, Any], user: int, row_id: int | None = None) -> dict[str, Any]:
    """A new smart invoice row from camelCase fields, with defaults, checked funnel and stage (not stored)."""
    tbl = invoices(portal)
    now = now_iso(portal)
    row: dict[str, Any] = {n: None for n, _, _ in INVOICE_FIELDS}
    row.update({"opened": "Y", "isManualOpportunity": "N", "opportunity": 0.0, "taxValue": 0.0, "currencyId": "RUB",
                "companyId": 0, "contactId": 0, "mycompanyId": 0, "parentId2": 0, "webformId": 0, "observers": [],
                "contactIds": []})
    stage = _invoice_apply(portal, row, fields, True)
    cat = row.get("categoryId")
    if cat is None or not meta.category_exists(portal, meta.INVOICE, cat):
        if cat is not None:
            raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Воронка\"")
        cat = meta.default_category(portal, meta.INVOICE)
    ids = meta.stage_ids(portal, meta.INVOICE, cat)
    if stage is not None and stage not in ids:
        raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Стадия\"")
    rid = row_id or tbl.next_id()
    row.update({"id": rid, "categoryId": cat, "stageId": stage or (ids[0] if ids else f"DT31_{cat}:N"),
                "createdBy": user, "updatedBy": user, "movedBy": user, "createdTime": now, "updatedTime": now,
                "movedTime": now, "assignedById": row.get("assignedById") or user, "lastActivityBy": user,
                "lastActivityTime": now})
    row["title"] = row.get("title") or f"Счёт #{rid}"
    row["accountNumber"] = row.get("accountNumber") or str(rid)
    row["begindate"] = row.get("begindate") or iso_date(now)
    row["stageSemanticId"] = meta.semantic_of(portal, meta.INVOICE, cat, row["stageId"])
    if "opportunity" in fields and "isManualOpportunity" not in fields:
        row["isManualOpportunity"] = "Y"
    return row


def invoice_create(portal: Platform, fields: dict[str, Any], call: Call | None, user: int,
                   row_id: int | None = None, fire: bool = True) -> dict[str, Any]:
    row = invoice_row(portal, fields, user, row_id)
    rid, cat, now = row["id"], row["categoryId"], row["createdTime"]
    invoices(portal).save(rid, row)
    ce.record_stage(portal, meta.INVOICE, rid, cat, row["stageId"], 1, now)
    if fire:
        _fire_dynamic(portal, "ADD", rid, call)
    return row


def invoice_update(portal: Platform, rid: int, fields: dict[str, Any], call: Call | None, user: int) -> dict[str, Any]:
    tbl = invoices(portal)
    old = tbl.get(rid)
    if old is None:
        raise _not_found()
    row = dict(old)
    now = now_iso(portal)
    stage = _invoice_apply(portal, row, fields, False)
    new_cat = to_int(fields.get("categoryId"))
    moved = False
    if new_cat is not None and new_cat != row["categoryId"]:
        if not meta.category_exists(portal, meta.INVOICE, new_cat):
            raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Воронка\"")
        row["categoryId"] = new_cat
        moved = True
    ids = meta.stage_ids(portal, meta.INVOICE, row["categoryId"])
    if stage is not None and stage not in ids:
        raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Стадия\"")
    if moved and stage is None:
        stage = ids[0] if ids else None
    changed = stage is not None and stage != old["stageId"]
    if changed:
        row["previousStageId"] = old["stageId"]
        row["stageId"] = stage
        row["movedBy"] = user
        row["movedTime"] = now
        row["stageSemanticId"] = meta.semantic_of(portal, meta.INVOICE, row["categoryId"], stage)
    row["updatedBy"] = user
    row["updatedTime"] = now
    tbl.save(rid, row)
    if changed:
        ce.record_stage(portal, meta.INVOICE, rid, row["categoryId"], row["stageId"],
                        ce.history_type(portal, meta.INVOICE, row["categoryId"], row["stageId"]), now)
    _fire_dynamic(portal, "UPDATE", rid, call)
    return row


# --------------------------------------------------------------------------- methods


def _fields_param(call: Call) -> dict[str, Any]:
    fields = call.param("fields")
    if fields is None:
        fields = {}
    if not isinstance(fields, dict):
        raise RestError("INVALID_ARG_VALUE", "Parameter fields must be an object")
    return fields


def _id_param(call: Call) -> int:
    rid = to_int(call.param("id"))
    if rid is None or rid <= 0:
        raise _not_found()
    return rid


@rest_method("crm.item.fields", "crm")
def item_fields(call: Call) -> dict[str, Any]:
    etid = _type_param(call)
    out: dict[str, Any] = {}
    if etid == meta.INVOICE:
        for name, typ, flags in INVOICE_FIELDS:
            out[name] = {"type": typ, "isRequired": False, "isReadOnly": "O" in flags, "isImmutable": False,
                         "isMultiple": "M" in flags, "isDynamic": False, "title": name,
                         "upperName": re.sub(r"([A-Z])", r"_\1", name).upper()}
        defs = uf_defs(call.portal, "CRM_SMART_INVOICE")
    else:
        entity = ce.TYPE_NAMES[etid]
        descr = ce.fields_descr(call.portal, entity, item=True)
        for upper, name in _legacy_map(call.portal, entity).items():
            d = dict(descr.get(upper) or {})
            d["upperName"] = upper
            out[name] = d
        if entity != "deal":
            out["fm"] = {"type": "crm_multifield", "isRequired": False, "isReadOnly": False, "isImmutable": False,
                         "isMultiple": True, "isDynamic": False, "title": "Мультиполя", "upperName": "FM"}
        defs = []
    for d in defs:
        out[uf_item_name(d["FIELD_NAME"])] = {"type": d["USER_TYPE_ID"], "isDynamic": True,
                                               "upperName": d["FIELD_NAME"]}
    return {"fields": out}


@rest_method("crm.item.add", "crm")
def item_add(call: Call) -> dict[str, Any]:
    etid = _type_param(call)
    fields = _fields_param(call)
    if etid == meta.INVOICE:
        return {"item": _invoice_out(call.portal, invoice_create(call.portal, fields, call, call.user_id))}
    entity = ce.TYPE_NAMES[etid]
    upper = _fields_to_upper(call.portal, entity, fields)
    if entity == "deal" and "CATEGORY_ID" in upper:
        cat = to_int(upper["CATEGORY_ID"])
        if cat is not None and not meta.category_exists(call.portal, meta.DEAL, cat):
            raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Воронка\"")
    try:
        row = ce.create(call.portal, entity, upper, call)
    except ce.ValidationError as exc:
        raise RestError(exc.code, exc.text) from exc
    return {"item": item_from_row(call.portal, entity, row)}


@rest_method("crm.item.get", "crm")
def item_get(call: Call) -> dict[str, Any]:
    etid = _type_param(call)
    rid = _id_param(call)
    if etid == meta.INVOICE:
        row = invoices(call.portal).get(rid)
        if row is None:
            raise _not_found()
        return {"item": _invoice_out(call.portal, row)}
    entity = ce.TYPE_NAMES[etid]
    row = ce.rows(call.portal, entity).get(rid)
    if row is None:
        raise _not_found()
    return {"item": item_from_row(call.portal, entity, row)}


@rest_method("crm.item.update", "crm")
def item_update(call: Call) -> dict[str, Any]:
    etid = _type_param(call)
    rid = _id_param(call)
    fields = _fields_param(call)
    if etid == meta.INVOICE:
        return {"item": _invoice_out(call.portal, invoice_update(call.portal, rid, fields, call, call.user_id))}
    entity = ce.TYPE_NAMES[etid]
    if ce.rows(call.portal, entity).get(rid) is None:
        raise _not_found()
    upper = _fields_to_upper(call.portal, entity, fields)
    if entity == "deal" and upper.get("STAGE_ID"):
        cat = to_int(upper.get("CATEGORY_ID"))
        cat = cat if cat is not None else ce.rows(call.portal, entity).get(rid).get("CATEGORY_ID") or 0
        if upper["STAGE_ID"] not in meta.stage_ids(call.portal, meta.DEAL, cat):
            raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Стадия сделки\"")
    if entity == "deal" and "CATEGORY_ID" in upper:
        cat = to_int(upper["CATEGORY_ID"])
        if cat is None or not meta.category_exists(call.portal, meta.DEAL, cat):
            raise RestError("CRM_FIELD_ERROR_VALUE_NOT_VALID", "Неверное значение поля \"Воронка\"")
    try:
        row = ce.modify(call.portal, entity, rid, upper, call, allow_category=True)
    except ce.ValidationError as exc:
        raise RestError(exc.code, exc.text) from exc
    return {"item": item_from_row(call.portal, entity, row)}


@rest_method("crm.item.delete", "crm")
def item_delete(call: Call) -> list[Any]:
    etid = _type_param(call)
    rid = _id_param(call)
    if etid == meta.INVOICE:
        if invoices(call.portal).get(rid) is None:
            raise _not_found()
        invoices(call.portal).delete(rid)
        from . import crm_requisite_links

        crm_requisite_links.unregister(call.portal, meta.INVOICE, rid)
        _fire_dynamic(call.portal, "DELETE", rid, call)
        return []
    try:
        ce.remove(call.portal, ce.TYPE_NAMES[etid], rid, call)
    except LookupError as exc:
        raise _not_found() from exc
    return []


def _convert_keys(obj: Any, conv: dict[str, str]) -> Any:
    """camelCase filter/order keys (with operator prefixes) -> the row's keys."""
    from ..listing import split_operator

    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, value in obj.items():
        k = str(key)
        if k.upper() == "LOGIC" or (isinstance(value, dict) and (k.isdigit() or k.startswith("__"))):
            out[k] = _convert_keys(value, conv) if isinstance(value, dict) else value
            continue
        op, name = split_operator(k)
        target = conv.get(name)
        if target is None:
            raise invalid_arg_error("filter", name)
        prefix = k[: len(k) - len(name)] if k.endswith(name) else ""
        out[prefix + target] = value
    return out


@rest_method("crm.item.list", "crm")
def item_list(call: Call) -> ListResult:
    etid = _type_param(call)
    flt = call.param("filter") if isinstance(call.param("filter"), dict) else None
    order = call.param("order") if isinstance(call.param("order"), dict) else None
    select = call.param("select")
    if etid == meta.INVOICE:
        conv = {n: n for n, _, _ in INVOICE_FIELDS}
        conv.update({uf_item_name(d["FIELD_NAME"]): d["FIELD_NAME"] for d in uf_defs(call.portal, "CRM_SMART_INVOICE")})
        aliases = _invoice_aliases(call.portal)
        types = {n: ("integer" if t in ("crm_category", "crm_company", "crm_contact", "crm_entity", "location")
                     else "char" if t == "boolean" else t) for n, t, _ in INVOICE_FIELDS}
        rows: Any = TableView(invoices(call.portal))
        id_field = "id"
    else:
        entity = ce.TYPE_NAMES[etid]
        mapping = _legacy_map(call.portal, entity)
        conv = {v: k for k, v in mapping.items()}
        aliases = _entity_aliases(call.portal, entity, mapping)
        types = ce.list_field_types(call.portal, entity, item=True)
        rows = TableView(ce.rows(call.portal, entity))
        id_field = "ID"
    conv.update({alias: conv[name] for alias, name in aliases.items() if alias not in conv and name in conv})
    flt_rows = _convert_keys(flt, conv) if flt else None
    order_rows = _convert_keys(order, conv) if order else None
    page = fast_paginate(rows, filter=flt_rows, order=order_rows, select=["*", "UF_*"], start=call.param("start"),
                         field_types=types, known_fields=list(conv.values()), id_field=id_field, tz=MSK)
    if etid == meta.INVOICE:
        items = [_invoice_out(call.portal, invoices(call.portal).get(r["id"]), select) for r in page.items]
    else:
        entity = ce.TYPE_NAMES[etid]
        table_rows = ce.rows(call.portal, entity)
        items = [item_from_row(call.portal, entity, table_rows.get(int(r["ID"])), select) for r in page.items]
    page.items = {"items": items}
    return page
