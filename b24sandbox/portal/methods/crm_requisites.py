"""Requisites of companies and contacts (crm.requisite.*, presets), their bank details
(crm.requisite.bankdetail.*) and addresses (crm.address.*). Legacy shapes: string values.

crm.address.list keeps the real quirk: it answers no ``total`` (and no ``next``), so a client has to
page it with ``start=-1`` and an ID/ENTITY_ID filter.
"""

from __future__ import annotations

from typing import Any

from ..api import Call, ListResult, Platform, legacy_crm_error, rest_method
from ..listing import paginate
from ._common import MSK, GroupIndex, TableView, legacy_fields, legacy_id, now_iso, table, to_int, yn

PRESETS = [
    {"ID": 1, "NAME": "Организация", "XML_ID": "#CRM_REQUISITE_PRESET_DEF_RU_COMPANY#"},
    {"ID": 2, "NAME": "ИП", "XML_ID": "#CRM_REQUISITE_PRESET_DEF_RU_INDIVIDUAL#"},
    {"ID": 3, "NAME": "Физ. лицо", "XML_ID": "#CRM_REQUISITE_PRESET_DEF_RU_PERSON#"},
]
RQ_FIELDS = ["RQ_NAME", "RQ_FIRST_NAME", "RQ_LAST_NAME", "RQ_SECOND_NAME", "RQ_COMPANY_NAME",
             "RQ_COMPANY_FULL_NAME", "RQ_COMPANY_REG_DATE", "RQ_DIRECTOR", "RQ_ACCOUNTANT", "RQ_CEO_NAME",
             "RQ_CEO_WORK_POS", "RQ_CONTACT", "RQ_EMAIL", "RQ_PHONE", "RQ_FAX", "RQ_IDENT_DOC", "RQ_INN", "RQ_KPP",
             "RQ_OGRN", "RQ_OGRNIP", "RQ_OKPO", "RQ_OKTMO", "RQ_OKVED", "RQ_OKOGU", "RQ_VAT_PAYER",
             "RQ_SIGNATURE", "RQ_STAMP"]
REQ_FIELDS = ["ID", "ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID",
              "MODIFY_BY_ID", "NAME", "CODE", "XML_ID", "ORIGINATOR_ID", "ACTIVE", "ADDRESS_ONLY", "SORT", *RQ_FIELDS]
BANK_FIELDS = ["ID", "ENTITY_ID", "COUNTRY_ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID", "MODIFY_BY_ID",
               "NAME", "CODE", "XML_ID", "ACTIVE", "SORT", "RQ_BANK_NAME", "RQ_BANK_ADDR", "RQ_BANK_ROUTE_NUM",
               "RQ_BIK", "RQ_MFO", "RQ_ACC_NAME", "RQ_ACC_NUM", "RQ_IBAN", "RQ_ACC_CURRENCY", "RQ_COR_ACC_NUM",
               "RQ_SWIFT", "RQ_BIC", "COMMENTS", "ORIGINATOR_ID"]
ADDRESS_FIELDS = ["TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID", "ADDRESS_1", "ADDRESS_2", "CITY", "POSTAL_CODE",
                  "REGION", "PROVINCE", "COUNTRY", "COUNTRY_CODE", "LOC_ADDR_ID", "ANCHOR_TYPE_ID", "ANCHOR_ID"]
INT_KEYS = {"ID", "ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID", "CREATED_BY_ID", "MODIFY_BY_ID", "SORT", "COUNTRY_ID",
            "TYPE_ID", "LOC_ADDR_ID", "ANCHOR_TYPE_ID", "ANCHOR_ID"}


def requisites(portal: Platform):
    return table(portal, "crm_requisite")


def bankdetails(portal: Platform):
    return table(portal, "crm_bankdetail")


def addresses(portal: Platform):
    return table(portal, "crm_address")


def _out(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    out = {}
    for k in keys:
        v = row.get(k)
        out[k] = str(v) if (k in INT_KEYS and v is not None) else v
    return out


def _owner_exists(portal: Platform, etid: int | None, eid: int | None) -> bool:
    from . import crm_entities

    name = {3: "contact", 4: "company"}.get(etid or 0)
    return bool(name and eid and crm_entities.rows(portal, name).get(eid) is not None)


def add_requisite(portal: Platform, f: dict[str, Any], user_id: int, rid: int | None = None) -> dict[str, Any]:
    tbl = requisites(portal)
    rid = rid or tbl.next_id()
    now = now_iso(portal)
    row: dict[str, Any] = {k: None for k in REQ_FIELDS}
    row.update({"ID": rid, "ENTITY_TYPE_ID": to_int(f.get("ENTITY_TYPE_ID")), "ENTITY_ID": to_int(f.get("ENTITY_ID")),
                "PRESET_ID": to_int(f.get("PRESET_ID")), "DATE_CREATE": now, "DATE_MODIFY": None,
                "CREATED_BY_ID": user_id, "MODIFY_BY_ID": None, "NAME": str(f.get("NAME") or ""),
                "ACTIVE": yn(f.get("ACTIVE"), "Y"), "ADDRESS_ONLY": yn(f.get("ADDRESS_ONLY")),
                "SORT": to_int(f.get("SORT"), 500)})
    for k in ("CODE", "XML_ID", "ORIGINATOR_ID", *RQ_FIELDS):
        if k in f:
            row[k] = None if f[k] is None else str(f[k])
    tbl.save(rid, row)
    return row


def add_bankdetail(portal: Platform, f: dict[str, Any], user_id: int) -> dict[str, Any]:
    tbl = bankdetails(portal)
    rid = tbl.next_id()
    row: dict[str, Any] = {k: None for k in BANK_FIELDS}
    row.update({"ID": rid, "ENTITY_ID": to_int(f.get("ENTITY_ID")), "COUNTRY_ID": to_int(f.get("COUNTRY_ID"), 1),
                "DATE_CREATE": now_iso(portal), "CREATED_BY_ID": user_id, "NAME": str(f.get("NAME") or ""),
                "ACTIVE": yn(f.get("ACTIVE"), "Y"), "SORT": to_int(f.get("SORT"), 500)})
    for k in BANK_FIELDS:
        if k.startswith("RQ_") or k in ("CODE", "XML_ID", "COMMENTS", "ORIGINATOR_ID"):
            if k in f:
                row[k] = None if f[k] is None else str(f[k])
    tbl.save(rid, row)
    return row


def set_address(portal: Platform, f: dict[str, Any]) -> dict[str, Any]:
    key = (to_int(f.get("TYPE_ID")), to_int(f.get("ENTITY_TYPE_ID")), to_int(f.get("ENTITY_ID")))
    tbl = addresses(portal)
    same = tbl.index("by_key", lambda: GroupIndex(lambda r: ((r["TYPE_ID"], r["ENTITY_TYPE_ID"], r["ENTITY_ID"]),)))
    existing = tbl.rows[same.ids(key)[0]] if same.ids(key) else None
    rid = existing["ID"] if existing else tbl.next_id()
    row = dict(existing or {k: None for k in ADDRESS_FIELDS})
    row["ID"] = rid
    for k in ADDRESS_FIELDS:
        if k in f:
            row[k] = to_int(f[k]) if k in INT_KEYS else (None if f[k] is None else str(f[k]))
    if row.get("ENTITY_TYPE_ID") == 8 and not row.get("ANCHOR_ID"):
        req = requisites(portal).get(row["ENTITY_ID"])
        if req:
            row["ANCHOR_TYPE_ID"], row["ANCHOR_ID"] = req["ENTITY_TYPE_ID"], req["ENTITY_ID"]
    tbl.save(rid, row)
    return row


def drop_for(portal: Platform, etid: int, eid: int) -> None:
    """Delete the requisites (with bank details and addresses) of a deleted company/contact."""
    for req in [r for r in requisites(portal).values() if r["ENTITY_TYPE_ID"] == etid and r["ENTITY_ID"] == eid]:
        _drop_requisite(portal, req["ID"])


def _drop_requisite(portal: Platform, rid: int) -> None:
    from . import crm_requisite_links

    requisites(portal).delete(rid)
    crm_requisite_links.on_requisite_deleted(portal, rid)
    for b in [b for b in bankdetails(portal).values() if b["ENTITY_ID"] == rid]:
        bankdetails(portal).delete(b["ID"])
    for a in [a for a in addresses(portal).values() if a["ENTITY_TYPE_ID"] == 8 and a["ENTITY_ID"] == rid]:
        addresses(portal).delete(a["ID"])


def _fields_descr(keys: list[str], required: tuple[str, ...]) -> dict[str, Any]:
    return {k: {"type": "integer" if k in INT_KEYS else ("datetime" if k.startswith("DATE_") else
                ("char" if k in ("ACTIVE", "ADDRESS_ONLY", "RQ_VAT_PAYER") else "string")),
                "isRequired": k in required, "isReadOnly": k in ("ID", "DATE_CREATE", "DATE_MODIFY", "CREATED_BY_ID",
                                                                 "MODIFY_BY_ID"),
                "isImmutable": k in ("ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID"), "isMultiple": False,
                "isDynamic": False, "title": k} for k in keys}


# --------------------------------------------------------------------------- crm.requisite.*


@rest_method("crm.requisite.fields", "crm")
def requisite_fields(call: Call) -> dict[str, Any]:
    return _fields_descr(REQ_FIELDS, ("ENTITY_TYPE_ID", "ENTITY_ID", "PRESET_ID", "NAME"))


@rest_method("crm.requisite.add", "crm")
def requisite_add(call: Call) -> int:
    f = legacy_fields(call)
    etid, eid = to_int(f.get("ENTITY_TYPE_ID")), to_int(f.get("ENTITY_ID"))
    if etid not in (3, 4):
        raise legacy_crm_error("The field ENTITY_TYPE_ID is not defined or invalid.")
    if not eid or not _owner_exists(call.portal, etid, eid):
        raise legacy_crm_error("The field ENTITY_ID is not defined or invalid.")
    if to_int(f.get("PRESET_ID")) not in {p["ID"] for p in PRESETS}:
        raise legacy_crm_error("The field PRESET_ID is not defined or invalid.")
    if not str(f.get("NAME") or "").strip():
        raise legacy_crm_error("The field NAME is required.")
    return add_requisite(call.portal, f, call.user_id)["ID"]


@rest_method("crm.requisite.get", "crm")
def requisite_get(call: Call) -> dict[str, Any]:
    row = requisites(call.portal).get(legacy_id(call))
    if row is None:
        raise legacy_crm_error("Not found")
    return _out(row, REQ_FIELDS)


@rest_method("crm.requisite.list", "crm")
def requisite_list(call: Call) -> ListResult:
    flt = call.param("filter")
    types = {k: "integer" for k in INT_KEYS}
    page = paginate(TableView(requisites(call.portal)), filter=flt if isinstance(flt, dict) else None,
                    order=call.param("order"), select=call.param("select"), start=call.param("start"),
                    field_types=types, known_fields=REQ_FIELDS, always_select=("ID",), tz=MSK)
    page.items = [_out(r, [k for k in REQ_FIELDS if k in r]) for r in page.items]
    return page


@rest_method("crm.requisite.update", "crm")
def requisite_update(call: Call) -> bool:
    rid = legacy_id(call)
    row = requisites(call.portal).get(rid)
    if row is None:
        raise legacy_crm_error("Not found")
    row = dict(row)
    for k, v in legacy_fields(call).items():
        if k == "ACTIVE":
            row[k] = yn(v, "Y")
        elif k == "SORT":
            row[k] = to_int(v, 500)
        elif k in ("NAME", "CODE", "XML_ID", "ORIGINATOR_ID", *RQ_FIELDS):
            row[k] = None if v is None else str(v)
    row["DATE_MODIFY"] = now_iso(call.portal)
    row["MODIFY_BY_ID"] = call.user_id
    requisites(call.portal).save(rid, row)
    return True


@rest_method("crm.requisite.delete", "crm")
def requisite_delete(call: Call) -> bool:
    rid = legacy_id(call)
    if requisites(call.portal).get(rid) is None:
        raise legacy_crm_error("Not found")
    _drop_requisite(call.portal, rid)
    return True


@rest_method("crm.requisite.preset.list", "crm")
def preset_list(call: Call) -> ListResult:
    items = [{"ID": str(p["ID"]), "ENTITY_TYPE_ID": "8", "COUNTRY_ID": "1", "NAME": p["NAME"],
              "DATE_CREATE": "2020-01-01T00:00:00+03:00", "DATE_MODIFY": "", "CREATED_BY_ID": "1",
              "MODIFY_BY_ID": "0", "ACTIVE": "Y", "SORT": str(500 + 10 * i), "XML_ID": p["XML_ID"]}
             for i, p in enumerate(PRESETS)]
    return ListResult(items, len(items))


# --------------------------------------------------------------------------- bank details


@rest_method("crm.requisite.bankdetail.fields", "crm")
def bankdetail_fields(call: Call) -> dict[str, Any]:
    return _fields_descr(BANK_FIELDS, ("ENTITY_ID", "NAME"))


@rest_method("crm.requisite.bankdetail.add", "crm")
def bankdetail_add(call: Call) -> int:
    f = legacy_fields(call)
    rid = to_int(f.get("ENTITY_ID"))
    if not rid or requisites(call.portal).get(rid) is None:
        raise legacy_crm_error("The field ENTITY_ID is not defined or invalid.")
    if not str(f.get("NAME") or "").strip():
        raise legacy_crm_error("The field NAME is required.")
    return add_bankdetail(call.portal, f, call.user_id)["ID"]


@rest_method("crm.requisite.bankdetail.get", "crm")
def bankdetail_get(call: Call) -> dict[str, Any]:
    row = bankdetails(call.portal).get(legacy_id(call))
    if row is None:
        raise legacy_crm_error("Not found")
    return _out(row, BANK_FIELDS)


@rest_method("crm.requisite.bankdetail.list", "crm")
def bankdetail_list(call: Call) -> ListResult:
    flt = call.param("filter")
    page = paginate(TableView(bankdetails(call.portal)), filter=flt if isinstance(flt, dict) else None,
                    order=call.param("order"), select=call.param("select"), start=call.param("start"),
                    field_types={k: "integer" for k in INT_KEYS}, known_fields=BANK_FIELDS,
                    always_select=("ID",), tz=MSK)
    page.items = [_out(r, [k for k in BANK_FIELDS if k in r]) for r in page.items]
    return page


@rest_method("crm.requisite.bankdetail.update", "crm")
def bankdetail_update(call: Call) -> bool:
    rid = legacy_id(call)
    row = bankdetails(call.portal).get(rid)
    if row is None:
        raise legacy_crm_error("Not found")
    row = dict(row)
    for k, v in legacy_fields(call).items():
        if k.startswith("RQ_") or k in ("NAME", "CODE", "XML_ID", "COMMENTS"):
            row[k] = None if v is None else str(v)
        elif k == "ACTIVE":
            row[k] = yn(v, "Y")
    row["DATE_MODIFY"] = now_iso(call.portal)
    row["MODIFY_BY_ID"] = call.user_id
    bankdetails(call.portal).save(rid, row)
    return True


@rest_method("crm.requisite.bankdetail.delete", "crm")
def bankdetail_delete(call: Call) -> bool:
    rid = legacy_id(call)
    if bankdetails(call.portal).get(rid) is None:
        raise legacy_crm_error("Not found")
    bankdetails(call.portal).delete(rid)
    from . import crm_requisite_links

    crm_requisite_links.on_bank_detail_deleted(call.portal, rid)
    return True


# --------------------------------------------------------------------------- addresses


@rest_method("crm.address.fields", "crm")
def address_fields(call: Call) -> dict[str, Any]:
    return _fields_descr(ADDRESS_FIELDS, ("TYPE_ID", "ENTITY_TYPE_ID", "ENTITY_ID"))


@rest_method("crm.address.add", "crm")
def address_add(call: Call) -> bool:
    f = legacy_fields(call)
    if not to_int(f.get("TYPE_ID")):
        raise legacy_crm_error("The field TYPE_ID is not defined or invalid.")
    etid, eid = to_int(f.get("ENTITY_TYPE_ID")), to_int(f.get("ENTITY_ID"))
    if etid == 8:
        if not eid or requisites(call.portal).get(eid) is None:
            raise legacy_crm_error("The field ENTITY_ID is not defined or invalid.")
    elif not _owner_exists(call.portal, etid, eid):
        raise legacy_crm_error("The field ENTITY_ID is not defined or invalid.")
    set_address(call.portal, f)
    return True


@rest_method("crm.address.update", "crm")
def address_update(call: Call) -> bool:
    f = legacy_fields(call)
    key = (to_int(f.get("TYPE_ID")), to_int(f.get("ENTITY_TYPE_ID")), to_int(f.get("ENTITY_ID")))
    if not any((r["TYPE_ID"], r["ENTITY_TYPE_ID"], r["ENTITY_ID"]) == key for r in addresses(call.portal).values()):
        raise legacy_crm_error("Not found")
    set_address(call.portal, f)
    return True


@rest_method("crm.address.delete", "crm")
def address_delete(call: Call) -> bool:
    f = legacy_fields(call)
    key = (to_int(f.get("TYPE_ID")), to_int(f.get("ENTITY_TYPE_ID")), to_int(f.get("ENTITY_ID")))
    for r in list(addresses(call.portal).values()):
        if (r["TYPE_ID"], r["ENTITY_TYPE_ID"], r["ENTITY_ID"]) == key:
            addresses(call.portal).delete(r["ID"])
            return True
    raise legacy_crm_error("Not found")


@rest_method("crm.address.list", "crm")
def address_list(call: Call) -> ListResult:
    flt = call.param("filter")
    page = paginate(TableView(addresses(call.portal)), filter=flt if isinstance(flt, dict) else None,
                    order=call.param("order"), select=call.param("select"), start=call.param("start"),
                    field_types={k: "integer" for k in INT_KEYS}, known_fields=ADDRESS_FIELDS, tz=MSK)
    items = [_out(r, [k for k in ADDRESS_FIELDS if k in r]) for r in page.items]
    return ListResult(items, None, None)  # the real method answers neither total nor next
