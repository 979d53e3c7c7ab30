"""Requisite links: which requisites and bank details are chosen in a deal or an invoice
(crm.requisite.link.fields|get|register|list|unregister), as ``Bitrix\\Crm\\Requisite\\EntityLink`` keeps them.

A link is keyed by (ENTITY_TYPE_ID, ENTITY_ID) — deal 2, old invoice 5, quote 7, smart invoice 31 — and
holds the client's requisite and bank detail (REQUISITE_ID, BANK_DETAIL_ID) and our company's
(MC_REQUISITE_ID, MC_BANK_DETAIL_ID); 0 means "not chosen". ``register`` runs the platform's
``checkConsistence`` with its texts: the client requisite must belong to the entity's client (its company,
else its contact), the bank detail to that requisite, the "my company" requisite to the entity's
``MYCOMPANY_ID`` (a company with IS_MY_COMPANY=Y), and a bank detail never without its requisite.

Deleting a deal or a smart invoice drops its link; deleting a requisite drops or clears the links that use
it (``unregisterByRequisite``); deleting a bank detail clears it from links. Stored in ``crm_requisite_link``
with id = ENTITY_TYPE_ID * 10**12 + ENTITY_ID (the table's primary key order).
"""

from __future__ import annotations

import re
from typing import Any

from ..api import Call, ListResult, Platform, legacy_crm_error, rest_method
from ..listing import paginate
from ._common import MSK, TableView, table

FIELDS = ("ENTITY_TYPE_ID", "ENTITY_ID", "REQUISITE_ID", "BANK_DETAIL_ID", "MC_REQUISITE_ID", "MC_BANK_DETAIL_ID")
# EntityLink::getAvailableEntityTypeIds(): deal, old invoice, quote and the dynamic types (the sandbox
# has one: the smart invoice); old invoices and quotes are not emulated, so their entities are never found
ENTITY_TYPES = {2: "Deal", 5: "Invoice", 7: "Quote", 31: "Smart_invoice"}  # ucfirst(strtolower(ResolveName))
CLIENT_TYPES = {3: "Contact", 4: "Company"}
_KEY = 10 ** 12
_INT = re.compile(r"^\s*\d+\s*$")


def links(portal: Platform):
    return table(portal, "crm_requisite_link")


def _rid(entity_type_id: int, entity_id: int) -> int:
    return entity_type_id * _KEY + entity_id


def get_link(portal: Platform, entity_type_id: int, entity_id: int) -> dict[str, Any] | None:
    """The stored link of one entity (ints) or None."""
    return links(portal).get(_rid(entity_type_id, entity_id))


def save_link(portal: Platform, entity_type_id: int, entity_id: int, requisite_id: int = 0, bank_detail_id: int = 0,
              mc_requisite_id: int = 0, mc_bank_detail_id: int = 0) -> dict[str, Any]:
    """``EntityLink::register``: upsert the link without checks (callers check first)."""
    row = {"ENTITY_TYPE_ID": entity_type_id, "ENTITY_ID": entity_id, "REQUISITE_ID": requisite_id,
           "BANK_DETAIL_ID": bank_detail_id, "MC_REQUISITE_ID": mc_requisite_id,
           "MC_BANK_DETAIL_ID": mc_bank_detail_id}
    links(portal).save(_rid(entity_type_id, entity_id), row)
    return row


def unregister(portal: Platform, entity_type_id: int, entity_id: int) -> None:
    """Drop an entity's link (the entity was deleted, or crm.requisite.link.unregister)."""
    links(portal).delete(_rid(entity_type_id, entity_id))


def on_requisite_deleted(portal: Platform, requisite_id: int) -> None:
    """``EntityLink::unregisterByRequisite``: links that hold only this requisite go; in the others the
    client (or our company's) requisite and its bank detail are reset to 0."""
    tbl = links(portal)
    for row in list(tbl.values()):
        rq, mc = row["REQUISITE_ID"], row["MC_REQUISITE_ID"]
        rid = _rid(row["ENTITY_TYPE_ID"], row["ENTITY_ID"])
        if (rq == requisite_id and mc == 0) or (mc == requisite_id and rq in (0, requisite_id)):
            tbl.delete(rid)
        elif rq == requisite_id:
            tbl.save(rid, dict(row, REQUISITE_ID=0, BANK_DETAIL_ID=0))
        elif mc == requisite_id:
            tbl.save(rid, dict(row, MC_REQUISITE_ID=0, MC_BANK_DETAIL_ID=0))


def on_bank_detail_deleted(portal: Platform, bank_detail_id: int) -> None:
    """A deleted bank detail is no longer chosen anywhere (its field becomes 0)."""
    tbl = links(portal)
    for row in list(tbl.values()):
        changed = dict(row)
        for key in ("BANK_DETAIL_ID", "MC_BANK_DETAIL_ID"):
            if changed[key] == bank_detail_id:
                changed[key] = 0
        if changed != row:
            tbl.save(_rid(row["ENTITY_TYPE_ID"], row["ENTITY_ID"]), changed)


# --------------------------------------------------------------------------- client and seller of an entity


def client_seller(portal: Platform, entity_type_id: int, entity_id: int) -> tuple[int, int, int] | None:
    """``getEntityClientSellerInfo``: (client type 4|3|0, client id, MYCOMPANY_ID) of a deal or smart
    invoice — the company if set, else the (first) contact — or None if the entity does not exist."""
    from . import crm_entities, crm_item

    if entity_type_id == 2:
        row = crm_entities.rows(portal, "deal").get(entity_id)
        if row is None:
            return None
        company, contacts, my = row.get("COMPANY_ID"), row.get("CONTACT_IDS") or [row.get("CONTACT_ID")], \
            row.get("MYCOMPANY_ID")
    elif entity_type_id == 31:
        row = crm_item.invoices(portal).get(entity_id)
        if row is None:
            return None
        company, contacts, my = row.get("companyId"), row.get("contactIds") or [row.get("contactId")], \
            row.get("mycompanyId")
    else:
        return None
    contact = next((int(c) for c in contacts if c and int(c) > 0), 0)
    if company and int(company) > 0:
        return 4, int(company), int(my or 0)
    if contact:
        return 3, contact, int(my or 0)
    return 0, 0, int(my or 0)


def _is_my_company(portal: Platform, company_id: int) -> bool:
    from . import crm_entities

    row = crm_entities.rows(portal, "company").get(company_id)
    return bool(row) and row.get("IS_MY_COMPANY") == "Y"


def check_consistence(portal: Platform, entity_type_id: int, entity_id: int, requisite_id: int, bank_detail_id: int,
                      mc_requisite_id: int, mc_bank_detail_id: int) -> None:
    """``EntityLink::checkConsistence`` with the platform's messages (raised as legacy CRM errors)."""
    from . import crm_requisites

    info = client_seller(portal, entity_type_id, entity_id)
    if info is None:
        raise legacy_crm_error("Entity is not found")
    client_type, client_id, my_company = info
    entity_name = ENTITY_TYPES[entity_type_id]
    if requisite_id > 0:
        if client_type == 0 or client_id <= 0:
            raise legacy_crm_error(f"Requisite with ID '{requisite_id}' can not be tied to the {entity_name} "
                                   "in which the client is not selected.")
        req = crm_requisites.requisites(portal).get(requisite_id)
        if req is None:
            raise legacy_crm_error(f"The Requisite with ID '{requisite_id}' is not found.")
        if (req.get("ENTITY_TYPE_ID"), req.get("ENTITY_ID")) != (client_type, client_id):
            raise legacy_crm_error(f"The Requisite with ID '{requisite_id}' is not assigned to "
                                   f"{CLIENT_TYPES[client_type]} with ID '{client_id}'.")
    if bank_detail_id > 0:
        if requisite_id <= 0:
            raise legacy_crm_error("The BankDetail can not be assigned without Requisite.")
        bank = crm_requisites.bankdetails(portal).get(bank_detail_id)
        if bank is None:
            raise legacy_crm_error(f"The BankDetail with ID '{bank_detail_id}' is not found.")
        if bank.get("ENTITY_ID") != requisite_id:
            raise legacy_crm_error(f"The BankDetail with ID '{bank_detail_id}' is not assigned to Requisite "
                                   f"with ID '{requisite_id}'.")
    if mc_requisite_id > 0:
        if my_company <= 0 or not _is_my_company(portal, my_company):
            # the platform's text names the client's requisite id here (a slip in EntityLink, kept as is)
            raise legacy_crm_error(f"Requisite of your company with ID '{requisite_id}' can not be tied to the "
                                   f"{entity_name} in which your company is not selected.")
        req = crm_requisites.requisites(portal).get(mc_requisite_id)
        if req is None:
            raise legacy_crm_error(f"The Requisite of your company with ID '{mc_requisite_id}' is not found.")
        if (req.get("ENTITY_TYPE_ID"), req.get("ENTITY_ID")) != (4, my_company):
            raise legacy_crm_error(f"The Requisite with ID '{mc_requisite_id}' is not assigned to your company "
                                   f"with ID '{my_company}'.")
    if mc_bank_detail_id > 0:
        if mc_requisite_id <= 0:
            raise legacy_crm_error("The BankDetail of your company can not be assigned without Requisite of "
                                   "your company.")
        bank = crm_requisites.bankdetails(portal).get(mc_bank_detail_id)
        if bank is None:
            raise legacy_crm_error(f"The BankDetail of your company with ID '{mc_bank_detail_id}' is not found.")
        if bank.get("ENTITY_ID") != mc_requisite_id:
            raise legacy_crm_error(f"The BankDetail of your company with ID '{mc_bank_detail_id}' is not assigned "
                                   f"to Requisite of your company with ID '{mc_requisite_id}'.")


def default_link(portal: Platform, entity_type_id: int, entity_id: int) -> dict[str, int] | None:
    """What the seed chooses for an entity: the client company's first requisite (by SORT, ID) and its
    first bank detail, and the same of our company (MYCOMPANY_ID); None when the client company has
    no requisite."""
    from . import crm_requisites

    info = client_seller(portal, entity_type_id, entity_id)
    if info is None or info[0] != 4:
        return None

    def first(owner: int) -> tuple[int, int]:
        reqs = sorted((r for r in crm_requisites.requisites(portal).values()
                       if r.get("ENTITY_TYPE_ID") == 4 and r.get("ENTITY_ID") == owner),
                      key=lambda r: (int(r.get("SORT") or 0), int(r["ID"])))
        if not reqs:
            return 0, 0
        banks = sorted((b for b in crm_requisites.bankdetails(portal).values() if b.get("ENTITY_ID") == reqs[0]["ID"]),
                       key=lambda b: (int(b.get("SORT") or 0), int(b["ID"])))
        return int(reqs[0]["ID"]), int(banks[0]["ID"]) if banks else 0

    requisite, bank = first(info[1])
    if not requisite:
        return None
    mc_requisite, mc_bank = first(info[2]) if info[2] > 0 and _is_my_company(portal, info[2]) else (0, 0)
    return {"REQUISITE_ID": requisite, "BANK_DETAIL_ID": bank, "MC_REQUISITE_ID": mc_requisite,
            "MC_BANK_DETAIL_ID": mc_bank}


# --------------------------------------------------------------------------- REST


def _out(row: dict[str, Any], keys: tuple[str, ...] | list[str] = FIELDS) -> dict[str, Any]:
    return {k: str(row[k]) for k in keys if k in row}


def _entity_param(call: Call, name: str) -> int:
    """``entityTypeId``/``entityId`` of get and unregister: a positive integer, else the platform's error."""
    value = call.param(name)
    number = int(value) if isinstance(value, int) and not isinstance(value, bool) else \
        int(value) if isinstance(value, str) and _INT.match(value) else 0
    if number <= 0:
        raise legacy_crm_error(f"{name} is not defined or invalid.")
    return number


def _id_field(fields: dict[str, Any], key: str, positive: bool) -> int:
    value = fields.get(key)
    if isinstance(value, bool) or value is None:
        raise legacy_crm_error(f"{key} is not defined or invalid.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _INT.match(value):
        number = int(value)
    else:
        raise legacy_crm_error(f"{key} is not defined or invalid.")
    if number < (1 if positive else 0):
        raise legacy_crm_error(f"{key} is not defined or invalid.")
    return number


@rest_method("crm.requisite.link.fields", "crm")
def link_fields(call: Call) -> dict[str, Any]:
    titles = {"ENTITY_TYPE_ID": "Тип сущности", "ENTITY_ID": "ID сущности", "REQUISITE_ID": "ID реквизита",
              "BANK_DETAIL_ID": "ID банковского реквизита", "MC_REQUISITE_ID": "ID реквизита вашей компании",
              "MC_BANK_DETAIL_ID": "ID банковского реквизита вашей компании"}
    return {k: {"type": "integer", "isRequired": True, "isReadOnly": False,
                "isImmutable": k in ("ENTITY_TYPE_ID", "ENTITY_ID"), "isMultiple": False, "isDynamic": False,
                "title": titles[k]} for k in FIELDS}


@rest_method("crm.requisite.link.get", "crm")
def link_get(call: Call) -> dict[str, Any]:
    """``{ENTITY_TYPE_ID, ENTITY_ID}`` as integers (from the request), the four ids as strings."""
    etid, eid = _entity_param(call, "entityTypeId"), _entity_param(call, "entityId")
    row = get_link(call.portal, etid, eid)
    if row is None:
        raise legacy_crm_error("Not found")
    return {"ENTITY_TYPE_ID": etid, "ENTITY_ID": eid, **_out(row, FIELDS[2:])}


@rest_method("crm.requisite.link.register", "crm")
def link_register(call: Call) -> bool:
    raw = call.param("fields")
    if not isinstance(raw, dict):
        raise legacy_crm_error("Parameter 'fields' must be array.")
    fields = {str(k).upper(): v for k, v in raw.items()}
    etid = _id_field(fields, "ENTITY_TYPE_ID", positive=True)
    eid = _id_field(fields, "ENTITY_ID", positive=True)
    ids = [_id_field(fields, k, positive=False) for k in FIELDS[2:]]
    if etid not in ENTITY_TYPES:  # checkConsistence: not a deal, old invoice, quote or dynamic type
        raise legacy_crm_error("Entity type is not defined or invalid.")
    check_consistence(call.portal, etid, eid, *ids)
    save_link(call.portal, etid, eid, *ids)
    return True


@rest_method("crm.requisite.link.list", "crm")
def link_list(call: Call) -> ListResult:
    flt = call.param("filter")
    page = paginate(TableView(links(call.portal)), filter=flt if isinstance(flt, dict) else None,
                    order=call.param("order"), select=call.param("select"), start=call.param("start"),
                    field_types={k: "integer" for k in FIELDS}, known_fields=list(FIELDS), id_field="ENTITY_ID",
                    sorted_by_id=False, tz=MSK)
    page.items = [_out(r, [k for k in FIELDS if k in r]) for r in page.items]
    return page


@rest_method("crm.requisite.link.unregister", "crm")
def link_unregister(call: Call) -> bool:
    etid, eid = _entity_param(call, "entityTypeId"), _entity_param(call, "entityId")
    unregister(call.portal, etid, eid)
    return True


# --------------------------------------------------------------------------- seed


def seed_links(portal: Platform, deal_ids: list[int], invoice_ids: list[int]) -> int:
    """Register the default link (see :func:`default_link`) of each given deal and smart invoice whose
    client company has a requisite; returns how many were registered."""
    rows = []
    for etid, ids in ((2, deal_ids), (31, invoice_ids)):
        for eid in ids:
            link = default_link(portal, etid, eid)
            if link is not None:
                rows.append((_rid(etid, eid), {"ENTITY_TYPE_ID": etid, "ENTITY_ID": eid, **link}))
    if rows:
        links(portal).save_many(rows)
    return len(rows)
