"""Product rows of deals and leads (crm.deal/lead.productrows.get/set) and a simple product catalog
(crm.product.*). PRICE is the final unit price with tax and discount; the owner's OPPORTUNITY is
recomputed as the sum of PRICE x QUANTITY unless the owner's IS_MANUAL_OPPORTUNITY is ``Y``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..api import Call, ListResult, Platform, legacy_crm_error, rest_method
from ._common import (
    MSK,
    GroupIndex,
    TableView,
    as_list,
    fast_paginate,
    legacy_fields,
    legacy_id,
    money,
    now_iso,
    table,
    to_float,
    to_int,
    yn,
)

OWNER_TYPES = {"D": "deal", "L": "lead"}


def productrows(portal: Platform):
    return table(portal, "crm_productrow")


def products(portal: Platform):
    return table(portal, "crm_product")


def _by_owner(portal: Platform) -> GroupIndex:
    """Product-row ids per ``(OWNER_TYPE, OWNER_ID)``, kept in step with every write of the table."""
    return productrows(portal).index("by_owner", lambda: GroupIndex(lambda r: ((r["OWNER_TYPE"], r["OWNER_ID"]),)))


def rows_of(portal: Platform, owner_type: str, owner_id: int) -> list[dict[str, Any]]:
    """The rows of one deal/lead, id ascending."""
    tbl = productrows(portal)
    return [tbl.rows[i] for i in _by_owner(portal).ids((owner_type, owner_id))]


def _normalize_row(portal: Platform, owner_type: str, owner_id: int, raw: dict[str, Any], sort: int,
                   rid: int) -> dict[str, Any]:
    r = {str(k).upper(): v for k, v in raw.items()}
    product_id = to_int(r.get("PRODUCT_ID"), 0) or 0
    product = products(portal).get(product_id) if product_id else None
    name = str(r.get("PRODUCT_NAME") or (product or {}).get("NAME") or "")
    quantity = to_float(r.get("QUANTITY"), 1.0)
    tax_rate = to_float(r.get("TAX_RATE"))
    tax_included = yn(r.get("TAX_INCLUDED"), "N")
    discount_rate = to_float(r.get("DISCOUNT_RATE"), 0.0) or 0.0
    price = to_float(r.get("PRICE"))
    if price is None:
        price = to_float(r.get("PRICE_BRUTTO"), (product or {}).get("PRICE") or 0.0) or 0.0
    rate = (tax_rate or 0.0) / 100.0
    exclusive = price / (1 + rate) if rate else price
    netto = exclusive / (1 - discount_rate / 100.0) if discount_rate and discount_rate < 100 else exclusive
    brutto = netto * (1 + rate)
    discount_sum = netto - exclusive
    return {"ID": rid, "OWNER_ID": owner_id, "OWNER_TYPE": owner_type, "PRODUCT_ID": product_id,
            "PRODUCT_NAME": name, "ORIGINAL_PRODUCT_NAME": (product or {}).get("NAME") or name,
            "PRODUCT_DESCRIPTION": r.get("PRODUCT_DESCRIPTION"), "PRICE": round(price, 2),
            "PRICE_EXCLUSIVE": round(exclusive, 2), "PRICE_NETTO": round(netto, 2),
            "PRICE_BRUTTO": round(brutto, 2), "PRICE_ACCOUNT": money(price), "QUANTITY": quantity,
            "DISCOUNT_TYPE_ID": to_int(r.get("DISCOUNT_TYPE_ID"), 2), "DISCOUNT_RATE": discount_rate,
            "DISCOUNT_SUM": round(discount_sum, 2), "TAX_RATE": tax_rate, "TAX_INCLUDED": tax_included,
            "CUSTOMIZED": "Y", "MEASURE_CODE": to_int(r.get("MEASURE_CODE"), 796),
            "MEASURE_NAME": str(r.get("MEASURE_NAME") or (product or {}).get("MEASURE_NAME") or "шт"),
            "SORT": to_int(r.get("SORT"), sort), "XML_ID": r.get("XML_ID"), "TYPE": 1, "STORE_ID": None,
            "RESERVE_ID": None, "DATE_RESERVE_END": None, "RESERVE_QUANTITY": None}


def row_out(r: dict[str, Any]) -> dict[str, Any]:
    out = dict(r)
    out["ID"] = str(r["ID"])
    out["OWNER_ID"] = str(r["OWNER_ID"])
    return out


def _totals(owner: dict[str, Any], entity: str, new: list[dict[str, Any]], now: str) -> dict[str, Any]:
    """The owner with OPPORTUNITY (and a deal's TAX_VALUE) recomputed from its new rows."""
    total = round(sum(r["PRICE"] * r["QUANTITY"] for r in new), 2)
    tax = round(sum((r["PRICE"] - r["PRICE_EXCLUSIVE"]) * r["QUANTITY"] for r in new), 2)
    updated = dict(owner)
    updated["OPPORTUNITY"] = total
    if entity == "deal":
        updated["TAX_VALUE"] = tax
    updated["DATE_MODIFY"] = now
    return updated


def _new_rows(portal: Platform, owner_type: str, owner_id: int, raw_rows: Any) -> list[dict[str, Any]]:
    tbl = productrows(portal)
    new = []
    for i, raw in enumerate(as_list(raw_rows)):
        if not isinstance(raw, dict):
            continue
        new.append(_normalize_row(portal, owner_type, owner_id, raw, (i + 1) * 10, tbl.next_id()))
    return new


def set_rows(portal: Platform, owner_type: str, owner_id: int, raw_rows: list[Any], call: Call | None, *,
             fire: bool = True) -> None:
    """Replace the rows of a deal/lead and recompute its amount unless it is manual."""
    tbl = productrows(portal)
    for r in rows_of(portal, owner_type, owner_id):
        tbl.delete(r["ID"])
    new = _new_rows(portal, owner_type, owner_id, raw_rows)
    for row in new:
        tbl.save(row["ID"], row)
    from . import crm_entities

    entity = OWNER_TYPES[owner_type]
    owner = crm_entities.rows(portal, entity).get(owner_id)
    if owner is not None and owner.get("IS_MANUAL_OPPORTUNITY") != "Y":
        crm_entities.rows(portal, entity).save(owner_id, _totals(owner, entity, new, now_iso(portal)))
    if fire and owner is not None:
        portal.fire_event(f"ONCRM{entity.upper()}UPDATE", {"FIELDS": {"ID": str(owner_id)}}, call)


def set_rows_many(portal: Platform, owner_type: str, items: Iterable[tuple[int, Any]], *,
                  owners: dict[int, dict[str, Any]] | None = None) -> int:
    """:func:`set_rows` for many owners at once, without events (seed loading and the generator): the
    same rows, ids and amounts, written with one insert for the rows and one for the owners.

    ``owners``: rows of owners that the caller has built but not stored yet (a bulk load stores them
    afterwards); their amounts are recomputed in place. Other owners are read from the table and
    written back. Returns the number of product rows written."""
    from . import crm_entities

    tbl = productrows(portal)
    entity = OWNER_TYPES[owner_type]
    stored = crm_entities.rows(portal, entity)
    now = now_iso(portal)
    pending: dict[int, list[dict[str, Any]]] = {}
    changed: dict[int, dict[str, Any]] = {}
    for owner_id, raw_rows in items:
        for r in rows_of(portal, owner_type, owner_id):
            tbl.delete(r["ID"])
        # a second set for the same owner replaces the first (its ids stay used, as set_rows does)
        new = pending[owner_id] = _new_rows(portal, owner_type, owner_id, raw_rows)
        if owners is not None and owner_id in owners:
            owner = owners[owner_id]
            if owner.get("IS_MANUAL_OPPORTUNITY") != "Y":
                owner.update(_totals(owner, entity, new, now))
            continue
        owner = changed.get(owner_id) or stored.get(owner_id)
        if owner is not None and owner.get("IS_MANUAL_OPPORTUNITY") != "Y":
            changed[owner_id] = _totals(owner, entity, new, now)
    rows = [(r["ID"], r) for new in pending.values() for r in new]
    rows.sort(key=lambda pair: pair[0])
    tbl.save_many(rows)
    if changed:
        stored.save_many(changed.items())
    return len(rows)


def drop_rows(portal: Platform, owner_type: str, owner_id: int) -> None:
    for r in rows_of(portal, owner_type, owner_id):
        productrows(portal).delete(r["ID"])


def _productrows_methods(owner_type: str) -> None:
    entity = OWNER_TYPES[owner_type]

    def _owner(call: Call) -> int:
        from . import crm_entities

        rid = legacy_id(call)
        if crm_entities.rows(call.portal, entity).get(rid) is None:
            raise legacy_crm_error("Not found")
        return rid

    @rest_method(f"crm.{entity}.productrows.get", "crm")
    def get(call: Call) -> list[dict[str, Any]]:
        return [row_out(r) for r in rows_of(call.portal, owner_type, _owner(call))]

    @rest_method(f"crm.{entity}.productrows.set", "crm")
    def set_(call: Call) -> bool:
        rid = _owner(call)
        raw = call.param("rows")
        if raw is not None and not isinstance(raw, (list, dict)) and raw != "":
            raise legacy_crm_error("Parameter 'rows' must be array.")
        set_rows(call.portal, owner_type, rid, as_list(raw), call)
        return True


for _t in OWNER_TYPES:
    _productrows_methods(_t)


# --------------------------------------------------------------------------- crm.product.*

PRODUCT_FIELDS = {"ID": "integer", "NAME": "string", "CODE": "string", "ACTIVE": "char", "PREVIEW_PICTURE": "file",
                  "DETAIL_PICTURE": "file", "SORT": "integer", "XML_ID": "string", "TIMESTAMP_X": "datetime",
                  "DATE_CREATE": "datetime", "MODIFIED_BY": "user", "CREATED_BY": "user", "CATALOG_ID": "integer",
                  "SECTION_ID": "integer", "DESCRIPTION": "string", "DESCRIPTION_TYPE": "char",
                  "PRICE": "double", "CURRENCY_ID": "string", "VAT_ID": "integer", "VAT_INCLUDED": "char",
                  "MEASURE": "integer"}
VAT_IDS = {0: 1, 10: 2, 20: 3}


def product_out(r: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, t in PRODUCT_FIELDS.items():
        v = r.get(k)
        if t in ("integer", "user", "file") and v is not None:
            v = str(v)
        elif t == "double" and v is not None:
            v = money(v)
        out[k] = v
    return out


def save_product(portal: Platform, f: dict[str, Any], user_id: int, pid: int | None = None) -> dict[str, Any]:
    tbl = products(portal)
    rid = pid or to_int(f.get("ID")) or tbl.next_id()
    now = now_iso(portal)
    row = dict(tbl.get(rid) or {"ID": rid, "ACTIVE": "Y", "SORT": 500, "CATALOG_ID": 25, "SECTION_ID": None,
                                 "CURRENCY_ID": "RUB", "VAT_INCLUDED": "Y", "MEASURE": 9, "DATE_CREATE": now,
                                 "CREATED_BY": user_id, "DESCRIPTION_TYPE": "text", "CODE": None,
                                 "PREVIEW_PICTURE": None, "DETAIL_PICTURE": None, "DESCRIPTION": None,
                                 "XML_ID": None, "VAT_ID": None, "PRICE": 0.0, "MEASURE_NAME": "шт"})
    for k, v in f.items():
        if k == "PRICE":
            row["PRICE"] = to_float(v, 0.0)
        elif k == "VAT_RATE":
            row["VAT_ID"] = VAT_IDS.get(to_int(v, 0) or 0)
        elif k in ("SORT", "SECTION_ID", "VAT_ID", "MEASURE"):
            row[k] = to_int(v)
        elif k in ("ACTIVE", "VAT_INCLUDED"):
            row[k] = yn(v, "Y")
        elif k in PRODUCT_FIELDS and k not in ("ID", "DATE_CREATE", "TIMESTAMP_X", "CREATED_BY", "MODIFIED_BY"):
            row[k] = v
        elif k == "MEASURE_NAME":
            row[k] = v
    row["TIMESTAMP_X"] = now
    row["MODIFIED_BY"] = user_id
    tbl.save(rid, row)
    return row


@rest_method("crm.product.fields", "crm")
def product_fields(call: Call) -> dict[str, Any]:
    return {k: {"type": t, "isRequired": k == "NAME", "isReadOnly": k in ("ID", "TIMESTAMP_X", "DATE_CREATE"),
                "isImmutable": False, "isMultiple": False, "isDynamic": False, "title": k}
            for k, t in PRODUCT_FIELDS.items()}


@rest_method("crm.product.add", "crm")
def product_add(call: Call) -> int:
    f = legacy_fields(call)
    if not str(f.get("NAME") or "").strip():
        raise legacy_crm_error("Поле \"Название\" обязательно для заполнения.")
    return save_product(call.portal, f, call.user_id)["ID"]


@rest_method("crm.product.get", "crm")
def product_get(call: Call) -> dict[str, Any]:
    row = products(call.portal).get(legacy_id(call))
    if row is None:
        raise legacy_crm_error("Not found")
    return product_out(row)


@rest_method("crm.product.list", "crm")
def product_list(call: Call) -> ListResult:
    flt = call.param("filter")
    page = fast_paginate(TableView(products(call.portal)), filter=flt if isinstance(flt, dict) else None,
                         order=call.param("order"), select=call.param("select"), start=call.param("start"),
                         field_types=PRODUCT_FIELDS, known_fields=list(PRODUCT_FIELDS), always_select=("ID",),
                         tz=MSK)
    page.items = [{k: v for k, v in product_out(r).items() if k in r} for r in page.items]
    return page


@rest_method("crm.product.update", "crm")
def product_update(call: Call) -> bool:
    rid = legacy_id(call)
    if products(call.portal).get(rid) is None:
        raise legacy_crm_error("Not found")
    save_product(call.portal, legacy_fields(call), call.user_id, rid)
    return True


@rest_method("crm.product.delete", "crm")
def product_delete(call: Call) -> bool:
    rid = legacy_id(call)
    if products(call.portal).get(rid) is None:
        raise legacy_crm_error("Not found")
    products(call.portal).delete(rid)
    return True
