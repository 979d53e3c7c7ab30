"""Leads, deals, contacts and companies: the legacy ``crm.<entity>.*`` methods and the shared core
that ``crm.item.*`` (entityTypeId 1..4) uses on the same rows.

Rows are stored with UPPER_CASE field names and typed values (ints, floats, ISO datetimes, Y/N);
multifields are kept on the row as ``PHONE: [{"ID", "VALUE_TYPE", "VALUE"}]``; user-field values
under their FIELD_NAME. Every add records a stage-history entry (TYPE_ID 1) and every stage move
another one (2 = to an in-progress stage, 3 = to a final stage); the platform is told of every stage
entry (automation) and of every add/update/delete (events with only the ID).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from ..api import HOOKS, Call, ListResult, Platform, legacy_crm_error, rest_method
from . import crm_meta as meta
from ._common import (
    MSK,
    GroupIndex,
    IdView,
    TableView,
    TimeIndex,
    as_list,
    fast_paginate,
    int_values,
    iso,
    iso_date,
    legacy_fields,
    legacy_id,
    money,
    next_seq,
    now_dt,
    now_iso,
    table,
    time_bounds,
    to_float,
    to_int,
    top_level_and,
    yn,
)
from .crm_fields import (
    DEFAULT_VALUE_TYPE,
    ENTITIES,
    ITEM_ONLY,
    ITEM_TYPES,
    MULTIFIELDS,
    TYPES,
    field_descr,
    uf_coerce,
    uf_defs,
    uf_field_descr,
    uf_out_legacy,
)

TYPE_NAMES = {1: "lead", 2: "deal", 3: "contact", 4: "company"}
HISTORY_TYPES = {1: "lead", 2: "deal", 31: "invoice"}
_INT_TYPES = {"integer", "user", "crm_company", "crm_contact", "crm_lead", "crm_quote", "crm_category",
              "location", "file"}


class ValidationError(Exception):
    """A rejected add/update (legacy methods answer it as ``error: ""``, crm.item as a D7 error)."""

    def __init__(self, text: str, code: str = "CRM_FIELD_ERROR_VALUE_NOT_VALID") -> None:
        super().__init__(text)
        self.text = text
        self.code = code


def rows(portal: Platform, entity: str):
    return table(portal, f"crm_{entity}")


def history(portal: Platform):
    return table(portal, "crm_stagehistory")


# --------------------------------------------------------------------------- output


def _fmt_legacy(typ: str, value: Any) -> Any:
    if typ in _INT_TYPES:
        if isinstance(value, list):
            return [str(v) for v in value]
        return None if value is None else str(value)
    if typ == "double":
        return None if value is None else money(value)
    if typ in ("date", "datetime"):
        return value if value else ""
    return value


def mf_out(items: list[dict[str, Any]], type_id: str) -> list[dict[str, Any]]:
    return [{"ID": str(i["ID"]), "VALUE_TYPE": i["VALUE_TYPE"], "VALUE": i["VALUE"], "TYPE_ID": type_id}
            for i in items]


def render_legacy(portal: Platform, entity: str, row: dict[str, Any], keys: set[str] | None = None,
                  *, with_mf: bool = True) -> dict[str, Any]:
    """A stored row as legacy get/list answer it (``keys`` limits the fields, list select)."""
    out: dict[str, Any] = {}
    for name, typ in _legacy_fields(entity, None if keys is None else frozenset(keys)):
        out[name] = _fmt_legacy(typ, row.get(name))
    if entity == "deal":
        for k in row:
            if k.startswith("PARENT_ID_") and (keys is None or k in keys):
                out[k] = None if row[k] is None else str(row[k])
    for d in uf_defs(portal, entity):
        if keys is None or d["FIELD_NAME"] in keys:
            out[d["FIELD_NAME"]] = uf_out_legacy(d, row.get(d["FIELD_NAME"]))
    for mf in MULTIFIELDS:
        if entity == "deal":
            break
        if (keys is None and with_mf and row.get(mf)) or (keys is not None and mf in keys):
            out[mf] = mf_out(row.get(mf) or [], mf)
    return out


@functools.lru_cache(maxsize=256)
def _legacy_fields(entity: str, keys: frozenset[str] | None) -> tuple[tuple[str, str], ...]:
    """``(name, type)`` of the standard fields :func:`render_legacy` writes, in the answer's order: the
    get answer's fields, or every field among ``keys`` (a list's select); multifields apart."""
    types = TYPES[entity]
    names = ENTITIES[entity]["get"] if keys is None else [f[0] for f in ENTITIES[entity]["fields"] if f[0] in keys]
    return tuple((name, types[name][0]) for name in names if types[name][0] != "crm_multifield")


def fields_descr(portal: Platform, entity: str, *, item: bool = False) -> dict[str, Any]:
    """Field descriptions as crm.<entity>.fields gives them (``item``: with the crm.item-only fields)."""
    out = {f[0]: field_descr(entity, f) for f in ENTITIES[entity]["fields"]}
    if item:
        out.update({f[0]: field_descr(entity, f) for f in ITEM_ONLY.get(entity, [])})
    for d in uf_defs(portal, entity):
        out[d["FIELD_NAME"]] = uf_field_descr(d)
    return out


# --------------------------------------------------------------------------- input


def _coerce(typ: str, value: Any) -> Any:
    if typ in _INT_TYPES:
        v = to_int(value)
        return v if v else None
    if typ == "double":
        return to_float(value, 0.0)
    if typ == "char":
        return yn(value)
    if typ == "datetime":
        return iso(value)
    if typ == "date":
        return iso_date(value)
    if value is None:
        return None
    return str(value)


def _apply_multifields(portal: Platform, row: dict[str, Any], name: str, value: Any, update: bool) -> None:
    current = [dict(i) for i in row.get(name) or []] if update else []
    for raw in as_list(value):
        if not isinstance(raw, dict):
            if raw not in (None, ""):
                raw = {"VALUE": raw}
            else:
                continue
        item = {str(k).upper(): v for k, v in raw.items()}
        iid = to_int(item.get("ID"))
        existing = next((c for c in current if iid is not None and c["ID"] == iid), None) if update else None
        if existing is not None:
            val = item.get("VALUE")
            if yn(item.get("DELETE")) == "Y" or val is None or str(val).strip() == "":
                current.remove(existing)
                continue
            existing["VALUE"] = str(val).strip()
            if item.get("VALUE_TYPE"):
                existing["VALUE_TYPE"] = str(item["VALUE_TYPE"]).upper()
            continue
        if iid is not None and update:
            continue  # an ID of another entity's value: ignored
        val = item.get("VALUE")
        if val is None or str(val).strip() == "":
            continue
        current.append({"ID": next_seq(portal, "crm_fm"), "VALUE_TYPE": str(item.get("VALUE_TYPE") or
                        DEFAULT_VALUE_TYPE[name]).upper(), "VALUE": str(val).strip()})
    if current:
        row[name] = current
    else:
        row.pop(name, None)


def _apply(portal: Platform, entity: str, row: dict[str, Any], fields: dict[str, Any], update: bool,
           call: Call | None) -> None:
    types = ITEM_TYPES[entity]
    ufs = {d["FIELD_NAME"]: d for d in uf_defs(portal, entity)}
    for name, value in fields.items():
        if name in MULTIFIELDS and entity != "deal":
            _apply_multifields(portal, row, name, value, update)
            continue
        if name in ufs:
            row[name] = uf_coerce(ufs[name], value)
            continue
        if entity == "deal" and name.startswith("PARENT_ID_"):
            row[name] = to_int(value) or None
            continue
        spec = types.get(name)
        if spec is None:
            continue
        typ, flags = spec
        if "O" in flags and name not in ("LEAD_ID",):
            continue
        if name in ("CONTACT_IDS", "COMPANY_IDS") or (entity == "company" and name == "CONTACT_ID"):
            row[name] = [v for v in (to_int(x) for x in as_list(value)) if v]
            continue
        if name in ("TITLE",) and update and not str(value or "").strip():
            continue  # an empty title on update is ignored
        if name == "ASSIGNED_BY_ID" and update and not (to_int(value) or 0) > 0:
            continue
        row[name] = _coerce(typ, value)


def _derive(portal: Platform, entity: str, row: dict[str, Any]) -> None:
    if entity != "deal":
        row["HAS_PHONE"] = "Y" if row.get("PHONE") else "N"
        row["HAS_EMAIL"] = "Y" if row.get("EMAIL") else "N"
        row["HAS_IMOL"] = "Y" if any(i["VALUE"].startswith("imol|") for i in row.get("IM") or []) else "N"
    if entity == "deal":
        ids = row.get("CONTACT_IDS") or []
        row["CONTACT_ID"] = ids[0] if ids else None
    if entity == "contact":
        ids = row.get("COMPANY_IDS") or []
        row["COMPANY_ID"] = ids[0] if ids else None
    if entity == "lead":
        row["IS_RETURN_CUSTOMER"] = "Y" if row.get("COMPANY_ID") or row.get("CONTACT_ID") else "N"


def _first_user(call: Call | None) -> int:
    return call.user_id if call is not None else 1


def _contact_links(entity: str, fields: dict[str, Any], row: dict[str, Any]) -> None:
    if entity == "deal":
        if "CONTACT_IDS" not in fields and fields.get("CONTACT_ID"):
            cid = to_int(fields["CONTACT_ID"])
            ids = [x for x in row.get("CONTACT_IDS") or [] if x != cid]
            row["CONTACT_IDS"] = ([cid] if cid else []) + ids
    if entity == "contact":
        if "COMPANY_IDS" not in fields and fields.get("COMPANY_ID"):
            cid = to_int(fields["COMPANY_ID"])
            ids = [x for x in row.get("COMPANY_IDS") or [] if x != cid]
            row["COMPANY_IDS"] = ([cid] if cid else []) + ids


# --------------------------------------------------------------------------- stage history


def record_stage(portal: Platform, entity_type_id: int, owner_id: int, category_id: int | None,
                 stage_id: str, type_id: int, created: str | None = None) -> None:
    tbl = history(portal)
    rid = tbl.next_id()
    semantic = meta.semantic_of(portal, entity_type_id, category_id, stage_id)
    tbl.save(rid, {"ID": rid, "ENTITY_TYPE_ID": entity_type_id, "TYPE_ID": type_id, "OWNER_ID": owner_id,
                   "CREATED_TIME": created or now_iso(portal), "CATEGORY_ID": category_id or 0,
                   "STAGE_SEMANTIC_ID": semantic, "STAGE_ID": stage_id})


def history_type(portal: Platform, entity_type_id: int, category_id: int | None, stage_id: str) -> int:
    sem = meta.semantic_of(portal, entity_type_id, category_id, stage_id)
    return 3 if sem in ("S", "F") else 2


# --------------------------------------------------------------------------- core


def _fire(portal: Platform, name: str, rid: int, call: Call | None) -> None:
    portal.fire_event(name, {"FIELDS": {"ID": str(rid)}}, call)


def create(portal: Platform, entity: str, fields: dict[str, Any], call: Call | None, *,
           fire: bool = True, row_id: int | None = None) -> dict[str, Any]:
    """Add one lead/deal/contact/company from UPPER_CASE fields; returns the stored row."""
    row = build_row(portal, entity, fields, _first_user(call), row_id, call)
    rid = row["ID"]
    rows(portal, entity).save(rid, row)
    if entity in ("lead", "deal"):
        etid = meta.LEAD if entity == "lead" else meta.DEAL
        cat = row.get("CATEGORY_ID") if entity == "deal" else None
        stage = row["STATUS_ID"] if entity == "lead" else row["STAGE_ID"]
        record_stage(portal, etid, rid, cat, stage, 1, row["DATE_CREATE"])
    if fire:
        _fire(portal, f"ONCRM{ENTITIES[entity]['event']}ADD", rid, call)
        if entity == "lead":
            portal.stage_entered("lead", rid, 0, row["STATUS_ID"], call)
        elif entity == "deal":
            portal.stage_entered("deal", rid, row["CATEGORY_ID"], row["STAGE_ID"], call)
    return row


def build_row(portal: Platform, entity: str, fields: dict[str, Any], user: int, row_id: int | None = None,
              call: Call | None = None) -> dict[str, Any]:
    """A new row with defaults and derived values (not stored). With ``row_id`` (seed loading) the
    given DATE_CREATE and CREATED_BY_ID are kept."""
    tbl = rows(portal, entity)
    now = now_iso(portal)
    row: dict[str, Any] = {f[0]: None for f in ENTITIES[entity]["fields"] if f[1] != "crm_multifield"}
    _apply(portal, entity, row, fields, False, call)
    _contact_links(entity, fields, row)
    if entity == "company" and not str(row.get("TITLE") or "").strip():
        raise ValidationError('Поле "Название компании" обязательно для заполнения.', "CRM_FIELD_ERROR_REQUIRED")
    rid = row_id or tbl.next_id()
    row["ID"] = rid
    row["ASSIGNED_BY_ID"] = row.get("ASSIGNED_BY_ID") or user
    row["CREATED_BY_ID"] = to_int(fields.get("CREATED_BY_ID")) or user if row_id else user
    row["MODIFY_BY_ID"] = row["CREATED_BY_ID"]
    row["DATE_CREATE"] = iso(fields.get("DATE_CREATE")) if row_id and fields.get("DATE_CREATE") else now
    row["DATE_MODIFY"] = row["DATE_CREATE"]
    row["OPENED"] = yn(fields.get("OPENED"), "Y")
    row["LAST_ACTIVITY_BY"] = row["CREATED_BY_ID"]
    row["LAST_ACTIVITY_TIME"] = row["DATE_CREATE"]
    if entity in ("lead", "deal", "company"):
        row["CURRENCY_ID"] = row.get("CURRENCY_ID") or "RUB"
    if entity in ("lead", "deal"):
        row["OPPORTUNITY"] = row.get("OPPORTUNITY") or 0.0
        row["IS_MANUAL_OPPORTUNITY"] = yn(fields.get("IS_MANUAL_OPPORTUNITY"),
                                          "Y" if row["OPPORTUNITY"] else "N")
        row["MOVED_BY_ID"] = row["CREATED_BY_ID"]
        row["MOVED_TIME"] = row["DATE_CREATE"]
    if entity == "lead":
        if not str(row.get("TITLE") or "").strip():
            row["TITLE"] = f"Лид #{rid}"
        ids = meta.stage_ids(portal, meta.LEAD)
        if row.get("STATUS_ID") not in ids:
            row["STATUS_ID"] = ids[0] if ids else "NEW"
        _lead_status_derive(portal, row, now)
    elif entity == "deal":
        if not str(row.get("TITLE") or "").strip():
            row["TITLE"] = f"Сделка #{rid}"
        cat = to_int(fields.get("CATEGORY_ID"), 0) or 0
        if not meta.category_exists(portal, meta.DEAL, cat):
            cat = 0
        row["CATEGORY_ID"] = cat
        ids = meta.stage_ids(portal, meta.DEAL, cat)
        if row.get("STAGE_ID") not in ids:
            row["STAGE_ID"] = ids[0] if ids else meta.stage_prefix(meta.DEAL, cat) + "NEW"
        row["TYPE_ID"] = row.get("TYPE_ID") or "SALE"
        today = now_dt(portal).date()
        row["BEGINDATE"] = row.get("BEGINDATE") or iso_date(today.isoformat())
        row["CLOSEDATE"] = row.get("CLOSEDATE") or iso_date((today + dt.timedelta(days=7)).isoformat())
        row["TAX_VALUE"] = row.get("TAX_VALUE") or 0.0
        row["IS_RECURRING"] = yn(fields.get("IS_RECURRING"))
        row["IS_REPEATED_APPROACH"] = "N"
        row["IS_RETURN_CUSTOMER"] = "Y" if row_id is None and _has_won_deal(portal, row) else "N"
        _deal_stage_derive(portal, row)
    elif entity == "contact":
        row["EXPORT"] = yn(fields.get("EXPORT"), "Y")
        row["TYPE_ID"] = row.get("TYPE_ID") or "CLIENT"
    elif entity == "company":
        row["IS_MY_COMPANY"] = yn(fields.get("IS_MY_COMPANY"))
        row["COMPANY_TYPE"] = row.get("COMPANY_TYPE") or "CUSTOMER"
        row["REVENUE"] = row.get("REVENUE") or 0.0
    _derive(portal, entity, row)
    return row


def _won_client_keys(row: dict[str, Any]) -> list[tuple[str, Any]]:
    if row.get("STAGE_SEMANTIC_ID") != "S":
        return []
    keys: list[tuple[str, Any]] = [("company", row["COMPANY_ID"])] if row.get("COMPANY_ID") else []
    return keys + [("contact", c) for c in row.get("CONTACT_IDS") or []]


def _has_won_deal(portal: Platform, deal: dict[str, Any]) -> bool:
    """Whether another deal of the same company or of one of its contacts is won (an index of the won
    deals' clients, not a walk over every deal on each add)."""
    company, contacts = deal.get("COMPANY_ID"), set(deal.get("CONTACT_IDS") or [])
    if not company and not contacts:
        return False
    won = rows(portal, "deal").index("won_clients", lambda: GroupIndex(_won_client_keys))
    keys = ([("company", company)] if company else []) + [("contact", c) for c in contacts]
    return any(rid != deal.get("ID") for key in keys for rid in won.ids(key)[:2])


def _lead_status_derive(portal: Platform, row: dict[str, Any], now: str) -> None:
    sem = meta.semantic_of(portal, meta.LEAD, None, row["STATUS_ID"])
    row["STATUS_SEMANTIC_ID"] = sem
    if sem in ("S", "F"):
        row["DATE_CLOSED"] = row.get("DATE_CLOSED") or now
    else:
        row["DATE_CLOSED"] = None


def _deal_stage_derive(portal: Platform, row: dict[str, Any]) -> None:
    cat = row.get("CATEGORY_ID") or 0
    sem = meta.semantic_of(portal, meta.DEAL, cat, row["STAGE_ID"])
    row["STAGE_SEMANTIC_ID"] = sem
    row["CLOSED"] = "Y" if sem in ("S", "F") else "N"
    row["IS_NEW"] = "Y" if meta.is_first_stage(portal, meta.DEAL, cat, row["STAGE_ID"]) else "N"


def modify(portal: Platform, entity: str, rid: int, fields: dict[str, Any], call: Call | None, *,
           allow_category: bool = False, fire: bool = True) -> dict[str, Any]:
    """Update a stored row from UPPER_CASE fields with the server's silent corrections (§6.1)."""
    tbl = rows(portal, entity)
    old = tbl.get(rid)
    if old is None:
        raise LookupError(rid)
    row = dict(old)
    fields = dict(fields)
    now = now_iso(portal)
    moved_category = False
    if entity == "deal":
        new_cat = to_int(fields.pop("CATEGORY_ID", None))
        if allow_category and new_cat is not None and new_cat != row.get("CATEGORY_ID"):
            if meta.category_exists(portal, meta.DEAL, new_cat):
                row["CATEGORY_ID"] = new_cat
                moved_category = True
        cat = row.get("CATEGORY_ID") or 0
        ids = meta.stage_ids(portal, meta.DEAL, cat)
        if "STAGE_ID" in fields and fields["STAGE_ID"] not in ids:
            fields.pop("STAGE_ID")  # a stage of another funnel is silently ignored
        if moved_category and "STAGE_ID" not in fields:
            fields["STAGE_ID"] = ids[0] if ids else meta.stage_prefix(meta.DEAL, cat) + "NEW"
    if entity == "lead" and "STATUS_ID" in fields and fields["STATUS_ID"] not in meta.stage_ids(portal, meta.LEAD):
        fields.pop("STATUS_ID")
    _apply(portal, entity, row, fields, True, call)
    _contact_links(entity, fields, row)
    if entity == "company" and not str(row.get("TITLE") or "").strip():
        row["TITLE"] = old.get("TITLE")
    row["MODIFY_BY_ID"] = _first_user(call)
    row["DATE_MODIFY"] = now
    stage_key = {"lead": "STATUS_ID", "deal": "STAGE_ID"}.get(entity)
    stage_changed = stage_key is not None and (row.get(stage_key) != old.get(stage_key) or moved_category)
    if stage_changed:
        row["MOVED_BY_ID"] = _first_user(call)
        row["MOVED_TIME"] = now
    if entity == "lead":
        _lead_status_derive(portal, row, now)
    if entity == "deal":
        _deal_stage_derive(portal, row)
    if entity in ("lead", "deal") and "OPPORTUNITY" in fields and "IS_MANUAL_OPPORTUNITY" not in fields:
        row["IS_MANUAL_OPPORTUNITY"] = "Y"
    _derive(portal, entity, row)
    tbl.save(rid, row)
    if stage_changed:
        etid = meta.LEAD if entity == "lead" else meta.DEAL
        cat = row.get("CATEGORY_ID") if entity == "deal" else None
        record_stage(portal, etid, rid, cat, row[stage_key],
                     history_type(portal, etid, cat, row[stage_key]), now)
    if fire:
        _fire(portal, f"ONCRM{ENTITIES[entity]['event']}UPDATE", rid, call)
        if moved_category:
            portal.fire_event("ONCRMDEALMOVETOCATEGORY", {"FIELDS": {
                "ID": str(rid), "CATEGORY_ID": str(row["CATEGORY_ID"]), "STAGE_ID": row["STAGE_ID"]}}, call)
        if stage_changed:
            if entity == "lead":
                portal.stage_entered("lead", rid, 0, row["STATUS_ID"], call)
            else:
                portal.stage_entered("deal", rid, row["CATEGORY_ID"], row["STAGE_ID"], call)
    return row


def remove(portal: Platform, entity: str, rid: int, call: Call | None) -> None:
    tbl = rows(portal, entity)
    if tbl.get(rid) is None:
        raise LookupError(rid)
    tbl.delete(rid)
    from . import crm_products, crm_requisite_links, crm_requisites

    if entity == "deal":
        crm_products.drop_rows(portal, "D", rid)
        crm_requisite_links.unregister(portal, 2, rid)
    if entity in ("contact", "company"):
        crm_requisites.drop_for(portal, 3 if entity == "contact" else 4, rid)
    _fire(portal, f"ONCRM{ENTITIES[entity]['event']}DELETE", rid, call)


def document_fields(portal: Platform, entity: str, item_id: int) -> dict[str, Any] | None:
    """HOOKS.document_fields: a lead/deal/contact/company as its legacy get method returns it."""
    entity = entity.lower()
    if entity not in ENTITIES:
        return None
    row = rows(portal, entity).get(int(item_id))
    return render_legacy(portal, entity, row) if row is not None else None


HOOKS.document_fields = document_fields  # type: ignore[attr-defined]


def any_in_category(portal: Platform, entity_type_id: int, category_id: int) -> bool:
    if entity_type_id == meta.DEAL:
        return any(r.get("CATEGORY_ID") == category_id for r in rows(portal, "deal").values())
    from . import crm_item

    return any(r.get("categoryId") == category_id for r in crm_item.invoices(portal).values())


def parent_fields(portal: Platform) -> list[str]:
    """The ``PARENT_ID_<n>`` fields some deal carries, sorted (kept by an index of the deal table)."""
    idx = rows(portal, "deal").index("parent_fields", lambda: GroupIndex(
        lambda r: [k for k in r if k.startswith("PARENT_ID_")]))
    return sorted(idx.groups)


def list_field_types(portal: Platform, entity: str, *, item: bool = False) -> dict[str, str]:
    types = {k: v[0] for k, v in (ITEM_TYPES if item else TYPES)[entity].items()}
    for d in uf_defs(portal, entity):
        types[d["FIELD_NAME"]] = d["USER_TYPE_ID"]
    return types


# --------------------------------------------------------------------------- legacy methods


def _legacy_input(call: Call, entity: str) -> dict[str, Any]:
    """``fields`` of a legacy add/update without the fields only crm.item knows (silently dropped)."""
    fields = legacy_fields(call)
    for f in ITEM_ONLY.get(entity, []):
        fields.pop(f[0], None)
    return fields


def _register(entity: str) -> None:
    prefix = f"crm.{entity}"

    @rest_method(f"{prefix}.fields", "crm")
    def fields_(call: Call) -> dict[str, Any]:
        return fields_descr(call.portal, entity)

    @rest_method(f"{prefix}.add", "crm")
    def add(call: Call) -> int:
        fields = _legacy_input(call, entity)
        try:
            row = create(call.portal, entity, fields, call)
        except ValidationError as exc:
            raise legacy_crm_error(exc.text) from exc
        return row["ID"]

    @rest_method(f"{prefix}.get", "crm")
    def get(call: Call) -> dict[str, Any]:
        rid = legacy_id(call)
        row = rows(call.portal, entity).get(rid)
        if row is None:
            raise legacy_crm_error("Not found")
        return render_legacy(call.portal, entity, row)

    @rest_method(f"{prefix}.list", "crm")
    def list_(call: Call) -> ListResult:
        flt = call.param("filter")
        if flt is not None and not isinstance(flt, (dict, list)):
            flt = None
        types = list_field_types(call.portal, entity)
        known = list(types) + list(MULTIFIELDS)
        if entity == "deal":
            known += parent_fields(call.portal)
        page = fast_paginate(TableView(rows(call.portal, entity)), filter=flt, order=call.param("order"),
                             select=call.param("select"), start=call.param("start"), field_types=types,
                             known_fields=known, always_select=("ID",), tz=MSK)
        page.items = [render_legacy(call.portal, entity, r, set(r)) for r in page.items]
        return page

    @rest_method(f"{prefix}.update", "crm")
    def update(call: Call) -> bool:
        rid = legacy_id(call)
        fields = _legacy_input(call, entity)
        try:
            modify(call.portal, entity, rid, fields, call)
        except LookupError as exc:
            raise legacy_crm_error("Not found") from exc
        except ValidationError as exc:
            raise legacy_crm_error(exc.text) from exc
        return True

    @rest_method(f"{prefix}.delete", "crm")
    def delete(call: Call) -> bool:
        rid = legacy_id(call)
        try:
            remove(call.portal, entity, rid, call)
        except LookupError as exc:
            raise legacy_crm_error("Not found") from exc
        return True


for _entity in ENTITIES:
    _register(_entity)


# --------------------------------------------------------------------------- crm.stagehistory.list


def history_out(row: dict[str, Any]) -> dict[str, Any]:
    out = {"ID": str(row["ID"]), "TYPE_ID": str(row["TYPE_ID"]), "OWNER_ID": str(row["OWNER_ID"]),
           "CREATED_TIME": row["CREATED_TIME"]}
    if row["ENTITY_TYPE_ID"] == meta.LEAD:
        out["STATUS_SEMANTIC_ID"] = row["STAGE_SEMANTIC_ID"]
        out["STATUS_ID"] = row["STAGE_ID"]
    else:
        out["CATEGORY_ID"] = str(row.get("CATEGORY_ID") or 0)
        out["STAGE_SEMANTIC_ID"] = row["STAGE_SEMANTIC_ID"]
        out["STAGE_ID"] = row["STAGE_ID"]
    return out


def _history_by_type(portal: Platform) -> GroupIndex:
    """Stage-history ids per entity type (history rows are never changed: no memo needed)."""
    return history(portal).index("by_type", lambda: GroupIndex(lambda r: (r["ENTITY_TYPE_ID"],), memo=False))


def _history_by_owner(portal: Platform) -> GroupIndex:
    return history(portal).index("by_owner", lambda: GroupIndex(
        lambda r: ((r["ENTITY_TYPE_ID"], r["OWNER_ID"]),), memo=False))


def _history_by_time(portal: Platform) -> TimeIndex:
    return history(portal).index("by_time", lambda: TimeIndex("CREATED_TIME", lambda r: r["ENTITY_TYPE_ID"]))


def history_candidates(portal: Platform, etid: int, flt: Any) -> list[int]:
    """Ids (ascending) of the entity type's history rows that can match ``flt``: every row of the type,
    narrowed by a pinned OWNER_ID (``=``, ``@``, a list) and by CREATED_TIME bounds through the indexes.
    A superset of the matches: the filter itself is still applied by ``paginate``."""
    every = _history_by_type(portal).ids(etid)
    conds = top_level_and(flt)
    if not conds:
        return every
    owners = int_values(conds, "OWNER_ID")
    if owners is not None:
        by_owner = _history_by_owner(portal)
        if len(owners) == 1:
            return by_owner.ids((etid, next(iter(owners))))
        return sorted({rid for owner in owners for rid in by_owner.ids((etid, owner))})
    span = time_bounds(conds, "CREATED_TIME", MSK)
    if span is not None:
        # a wide period matches most rows: walking them in id order is cheaper than sorting its ids
        narrowed = _history_by_time(portal).ids_between(etid, *span, limit=len(every) // 4)
        if narrowed is not None:
            return narrowed
    return every


@rest_method("crm.stagehistory.list", "crm")
def stagehistory_list(call: Call) -> ListResult:
    from ..api import RestError

    etid = to_int(call.param("entityTypeId"))
    if etid not in HISTORY_TYPES:
        raise RestError("NOT_FOUND", "Entity type is not supported", 400)
    types = {"ID": "integer", "TYPE_ID": "integer", "OWNER_ID": "integer", "CREATED_TIME": "datetime",
             "CATEGORY_ID": "integer", "STAGE_SEMANTIC_ID": "string", "STAGE_ID": "string",
             "STATUS_SEMANTIC_ID": "string", "STATUS_ID": "string"}
    flt = call.param("filter")
    tbl = history(call.portal)
    view = IdView(history_candidates(call.portal, etid, flt), tbl.rows, history_out)
    page = fast_paginate(view, filter=flt, order=call.param("order"), select=call.param("select"),
                         start=call.param("start"), field_types=types, tz=MSK)
    page.items = {"items": page.items}
    return page
