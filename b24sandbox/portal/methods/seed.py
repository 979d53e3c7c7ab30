"""Seed loader of sandbox portals (``HOOKS.seed_portal``) and the bulk generator control route.

- ``empty``: one administrator (ID 1), a root department, and the dictionaries of a fresh portal
  (lead statuses, sources, the general deal funnel, deal/contact/company types, a smart-invoice
  funnel).
- ``metalprom``: the data of ``b24sandbox.seed.metalprom.build(rng_seed, today=...)`` (format of the
  shared seed contract; ``today`` is the portal clock's date in Moscow, so a shifted or frozen control
  clock gets a demo consistent with it) with its IDs kept, stage/status history with the given dates
  (each history row in its own funnel), product rows, requisites with bank details and addresses,
  absences and work-day statuses, the deals' legal entity (``MYCOMPANY_ID``, read through crm.item as
  ``mycompanyId``) and the smart invoices (entity 31) with their stage history, and the requisite links
  of deals and smart invoices whose client company has a requisite (its first requisite and bank detail,
  plus our legal entity's when ``MYCOMPANY_ID`` is set). A dictionary the seed provides (any
  ``ENTITY_ID``) replaces the fresh portal's one. No events are fired.

``POST /_sandbox/portals/<member_id>/generate`` adds bulk leads/deals/companies from
``b24sandbox.seed.generator`` in bulk inserts (no events unless ``"fire_events": true``); with
``"preset": "metalprom_lead_funnel"`` it loads the 188 leads of the МеталПром lead-funnel table
(``generator.metalprom_lead_funnel``) with their status history.
"""

from __future__ import annotations

import datetime as dt
import importlib
import time
from typing import Any

from flask import Blueprint, abort, jsonify, request

from ..api import CONTROL_BLUEPRINTS, HOOKS, SERVICES, Platform
from . import crm_entities, crm_item, crm_meta, crm_products, crm_requisite_links, crm_requisites, users
from ._common import MSK, iso, next_seq, table, to_float, to_int


def seed_portal(portal: Platform, seed_name: str, params: dict[str, Any]) -> int:
    """Fill a new portal; returns the administrator's user id."""
    name = (seed_name or "empty").lower()
    if name == "empty":
        return _seed_empty(portal)
    if name == "metalprom":
        module = importlib.import_module("b24sandbox.seed.metalprom")
        today = portal.now().astimezone(MSK).date()
        data = module.build(int(params.get("rng_seed", 1)), today=today)
        return load_data(portal, data)
    raise ValueError(f"unknown seed {seed_name!r}")


HOOKS.seed_portal = seed_portal


def _seed_empty(portal: Platform) -> int:
    users.save_department(portal, {"NAME": "Компания", "SORT": 500, "PARENT": None, "UF_HEAD": 1}, 1)
    users.save_user(portal, {"NAME": "Администратор", "LAST_NAME": "Портала", "EMAIL": "admin@example.ru",
                             "LOGIN": "admin", "IS_ADMIN": True, "ACTIVE": True, "UF_DEPARTMENT": [1],
                             "WORK_POSITION": "Администратор", "PERSONAL_GENDER": "M"}, 1)
    crm_meta.install_defaults(portal)
    return 1


# --------------------------------------------------------------------------- metalprom


def load_data(portal: Platform, data: dict[str, Any]) -> int:
    """Load a seed dict (shared seed contract) keeping its IDs; returns the admin user id."""
    for dep in sorted(data.get("departments") or [], key=lambda d: d["ID"]):
        users.save_department(portal, dep, int(dep["ID"]))
    for user in data.get("users") or []:
        users.save_user(portal, user, int(user["ID"]))
    admins = sorted(int(u["ID"]) for u in data.get("users") or [] if u.get("IS_ADMIN"))
    admin = admins[0] if admins else 1
    for absence in data.get("absences") or []:
        users.add_absence(portal, int(absence["USER_ID"]), absence["DATE_FROM"], absence["DATE_TO"],
                          absence.get("TYPE") or "vacation", absence.get("NOTE") or "")
    for uid, status in (data.get("timeman") or {}).items():
        users.set_timeman(portal, int(uid), str(status))
    _load_dictionaries(portal, data)
    for product in data.get("products") or []:
        crm_products.save_product(portal, {k: v for k, v in product.items() if k != "ID"}, admin, int(product["ID"]))
    _load_companies(portal, data.get("companies") or [], admin)
    _bulk(portal, "contact", data.get("contacts") or [], admin)
    _bulk(portal, "lead", data.get("leads") or [], admin)
    _bulk(portal, "deal", data.get("deals") or [], admin)
    _load_invoices(portal, data, admin)
    crm_requisite_links.seed_links(portal, [int(d["ID"]) for d in data.get("deals") or []],
                                   [int(i.get("ID") or i.get("id")) for i in data.get("smart_invoices") or []])
    return admin


def _load_dictionaries(portal: Platform, data: dict[str, Any]) -> None:
    given = data.get("statuses") or []
    entities = {s["ENTITY_ID"] for s in given}
    crm_meta.install_defaults(portal, deal_stages="DEAL_STAGE" not in entities,
                              lead_statuses="STATUS" not in entities, sources="SOURCE" not in entities,
                              invoice_category=not any(e.startswith("SMART_INVOICE_STAGE_") for e in entities))
    # every dictionary the seed provides replaces the fresh portal's one (company types, industries ...)
    tbl = crm_meta.statuses(portal)
    for row in [r for r in tbl.values() if r["ENTITY_ID"] in entities]:
        tbl.delete(row["ID"])
    crm_meta.invalidate(portal)
    rid = tbl.ids[-1] if tbl.ids else 0
    rows = []
    for s in given:
        rid += 1
        cat = s.get("CATEGORY_ID")
        stage_dict = crm_meta.is_stage_entity(s["ENTITY_ID"])
        rows.append((rid, {"ID": rid, "ENTITY_ID": s["ENTITY_ID"], "STATUS_ID": s["STATUS_ID"], "NAME": s["NAME"],
                           "NAME_INIT": s["NAME"], "SORT": int(s.get("SORT") or 500), "SYSTEM": "N",
                           "CATEGORY_ID": None if cat is None else int(cat), "COLOR": s.get("COLOR"),
                           "SEMANTICS": s.get("SEMANTICS") if stage_dict else None}))
    tbl.save_many(rows)
    crm_meta.invalidate(portal)
    cats = crm_meta.categories(portal)
    for cat in data.get("deal_categories") or []:
        cid = int(cat["ID"])
        cats.save(cid, {"id": cid, "entityTypeId": crm_meta.DEAL, "name": cat["NAME"], "sort": int(cat.get("SORT") or 500),
                        "isDefault": "Y" if cat.get("IS_DEFAULT") or cid == 0 else "N", "originId": "",
                        "originatorId": ""})
    invoice_cats = crm_meta.categories(portal, crm_meta.INVOICE)
    for entity in sorted(entities):
        if entity.startswith("SMART_INVOICE_STAGE_"):
            cid = int(entity.rsplit("_", 1)[1])
            if invoice_cats.get(cid) is None:
                invoice_cats.save(cid, {"id": cid, "entityTypeId": crm_meta.INVOICE, "name": "Счета", "sort": 100,
                                "isDefault": "Y", "originId": "", "originatorId": ""})


def _load_companies(portal: Platform, companies: list[dict[str, Any]], admin: int) -> None:
    _bulk(portal, "company", companies, admin)
    for company in companies:
        for req in company.get("requisites") or []:
            fields = {k: v for k, v in req.items() if k not in ("address", "bank_details")}
            fields.update({"ENTITY_TYPE_ID": 4, "ENTITY_ID": int(company["ID"])})
            row = crm_requisites.add_requisite(portal, fields, admin)
            for bank in req.get("bank_details") or []:
                crm_requisites.add_bankdetail(portal, {**bank, "ENTITY_ID": row["ID"]}, admin)
            addr = req.get("address")
            if addr:
                crm_requisites.set_address(portal, {**addr, "TYPE_ID": 6, "ENTITY_TYPE_ID": 8, "ENTITY_ID": row["ID"]})


_SKIP = {"requisites", "history", "product_rows"}


def _bulk(portal: Platform, entity: str, items: list[dict[str, Any]], admin: int,
          fire_events: bool = False, stats: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Build rows in memory and insert them at once, with their stage history and (deals) product rows
    — what ``crm_products.set_rows`` would do for each deal, in one write. ``stats`` (optional) gets
    the numbers of history and product rows added."""
    built: list[dict[str, Any]] = []
    history_rows: list[tuple[int, dict[str, Any]]] = []
    htbl = crm_entities.history(portal)
    hid = htbl.ids[-1] if htbl.ids else 0
    etid = {"lead": crm_meta.LEAD, "deal": crm_meta.DEAL}.get(entity)
    meanings: dict[tuple[int | None, str], tuple[str, int]] = {}  # (funnel, stage) -> (semantic, move TYPE_ID)
    for item in items:
        fields = {str(k).upper(): v for k, v in item.items() if k not in _SKIP}
        fields.setdefault("CREATED_BY_ID", fields.get("ASSIGNED_BY_ID") or admin)
        row = crm_entities.build_row(portal, entity, fields, to_int(fields.get("ASSIGNED_BY_ID")) or admin,
                                     int(item["ID"]))
        if entity == "deal" and item.get("OPPORTUNITY") is not None and item.get("product_rows"):
            row["IS_MANUAL_OPPORTUNITY"] = "N"
            row["OPPORTUNITY"] = to_float(item["OPPORTUNITY"], 0.0)
        built.append(row)
        if etid is None:
            continue
        stage_key = "STATUS_ID" if entity == "lead" else "STAGE_ID"
        steps = item.get("history") or [{stage_key: row[stage_key], "CREATED_TIME": row["DATE_CREATE"]}]
        for i, step in enumerate(steps):
            stage = step.get(stage_key) or step.get("STAGE_ID") or step.get("STATUS_ID")
            when = iso(step.get("CREATED_TIME")) or row["DATE_CREATE"]
            # a deal moved between funnels has history rows in each of them (the row's own CATEGORY_ID,
            # else the funnel the stage code names)
            cat = _step_category(step, stage) if entity == "deal" else None
            hid += 1
            meaning = meanings.get((cat, stage))
            if meaning is None:
                meaning = meanings[(cat, stage)] = (crm_meta.semantic_of(portal, etid, cat, stage),
                                                    crm_entities.history_type(portal, etid, cat, stage))
            history_rows.append((hid, {"ID": hid, "ENTITY_TYPE_ID": etid, "TYPE_ID": 1 if i == 0 else meaning[1],
                                       "OWNER_ID": row["ID"], "CREATED_TIME": when, "CATEGORY_ID": cat or 0,
                                       "STAGE_SEMANTIC_ID": meaning[0], "STAGE_ID": stage}))
        if len(steps) > 1:
            last = iso(steps[-1].get("CREATED_TIME"))
            if last:
                row["MOVED_TIME"] = last
                row["DATE_MODIFY"] = max(row["DATE_MODIFY"], last)
            if entity == "lead" and row.get("DATE_CLOSED"):
                row["DATE_CLOSED"] = last or row["DATE_CLOSED"]
        elif entity == "lead" and row.get("DATE_CLOSED"):
            row["DATE_CLOSED"] = row["DATE_CREATE"]
    product_rows = 0
    if entity == "deal":
        with_rows = [(r["ID"], item["product_rows"]) for r, item in zip(built, items, strict=True)
                     if item.get("product_rows")]
        if with_rows:
            product_rows = crm_products.set_rows_many(portal, "D", with_rows, owners={r["ID"]: r for r in built})
    crm_entities.rows(portal, entity).save_many((r["ID"], r) for r in built)
    if history_rows:
        htbl.save_many(history_rows)
    if stats is not None:
        stats["history"] = stats.get("history", 0) + len(history_rows)
        stats["product_rows"] = stats.get("product_rows", 0) + product_rows
    if fire_events:
        name = crm_entities.ENTITIES[entity]["event"]
        for r in built:
            portal.fire_event(f"ONCRM{name}ADD", {"FIELDS": {"ID": str(r["ID"])}}, None)
            if entity == "lead":
                portal.stage_entered("lead", r["ID"], 0, r["STATUS_ID"], None)
            elif entity == "deal":
                portal.stage_entered("deal", r["ID"], r["CATEGORY_ID"], r["STAGE_ID"], None)
    return built


def _step_category(step: dict[str, Any], stage: str | None) -> int:
    cat = to_int(step.get("CATEGORY_ID"))
    return cat if cat is not None else crm_meta.deal_category_of_stage(stage or "")


# --------------------------------------------------------------------------- smart invoices


def _load_invoices(portal: Platform, data: dict[str, Any], admin: int) -> None:
    """Smart invoices (entity 31) of the seed with their IDs, links and stage history.

    An invoice's ``history`` (``[{stageId, createdTime}]``, optional) is used as given. Without it the
    history is what the seed's own records show: created at ``createdTime`` in the funnel's first
    stage if it is still there, else in the next one ("sent"); moved to a partial-payment stage at the
    first payment and to the success stage at the payment that completed it (``payments`` of the seed,
    by INVOICE_ID); moved to the failure stage when its deal was lost (the deal's last history time).
    """
    items = data.get("smart_invoices") or []
    if not items:
        return
    payments: dict[int, list[str]] = {}
    for p in sorted(data.get("payments") or [], key=lambda p: str(p.get("DATE") or "")):
        when = iso(p.get("DATE"))
        if when and to_int(p.get("INVOICE_ID")) is not None:
            payments.setdefault(int(p["INVOICE_ID"]), []).append(when)
    deal_last = {int(d["ID"]): iso((d.get("history") or [{}])[-1].get("CREATED_TIME")) for d in data.get("deals") or []}
    rows: list[tuple[int, dict[str, Any]]] = []
    history_rows: list[tuple[int, dict[str, Any]]] = []
    htbl = crm_entities.history(portal)
    hid = htbl.ids[-1] if htbl.ids else 0
    for item in items:
        rid = int(item.get("ID") or item.get("id"))
        fields = {k: v for k, v in item.items() if k not in ("ID", "id", "history")}
        row = crm_item.invoice_row(portal, fields, to_int(item.get("assignedById")) or admin, rid)
        created = iso(item.get("createdTime")) or row["createdTime"]
        steps = _invoice_steps(portal, row, item, created, payments.get(rid, []),
                               deal_last.get(to_int(item.get("parentId2")) or 0))
        cat = row["categoryId"]
        for i, (stage, when) in enumerate(steps):
            hid += 1
            type_id = 1 if i == 0 else crm_entities.history_type(portal, crm_meta.INVOICE, cat, stage)
            history_rows.append((hid, {"ID": hid, "ENTITY_TYPE_ID": crm_meta.INVOICE, "TYPE_ID": type_id,
                                       "OWNER_ID": rid, "CREATED_TIME": when, "CATEGORY_ID": cat,
                                       "STAGE_SEMANTIC_ID": crm_meta.semantic_of(portal, crm_meta.INVOICE, cat, stage),
                                       "STAGE_ID": stage}))
        last_stage, last_time = steps[-1]
        row.update({"createdTime": created, "movedTime": last_time, "updatedTime": last_time,
                    "lastActivityTime": last_time, "stageId": last_stage,
                    "previousStageId": steps[-2][0] if len(steps) > 1 else None,
                    "stageSemanticId": crm_meta.semantic_of(portal, crm_meta.INVOICE, cat, last_stage)})
        rows.append((rid, row))
    crm_item.invoices(portal).save_many(rows)
    htbl.save_many(history_rows)


def _invoice_steps(portal: Platform, row: dict[str, Any], item: dict[str, Any], created: str,
                   paid: list[str], deal_closed: str | None) -> list[tuple[str, str]]:
    """``[(stage, time)]`` of an invoice's stage history, first = creation (see _load_invoices)."""
    given = item.get("history")
    if given:
        out = []
        for step in given:
            stage = step.get("stageId") or step.get("STAGE_ID")
            out.append((str(stage), iso(step.get("createdTime") or step.get("CREATED_TIME")) or created))
        return out
    cat = row["categoryId"]
    ids = crm_meta.stage_ids(portal, crm_meta.INVOICE, cat)
    final = row["stageId"]
    sem = crm_meta.semantic_of(portal, crm_meta.INVOICE, cat, final)
    first = ids[0] if ids else final
    if final == first:
        return [(final, created)]
    process = [s for s in ids if crm_meta.semantic_of(portal, crm_meta.INVOICE, cat, s) == "P"]
    sent = process[1] if len(process) > 1 else first
    steps = [(sent, created)]
    partial = process[2] if len(process) > 2 else None
    if partial is not None and paid and (final == partial or (sem == "S" and len(paid) > 1)):
        steps.append((partial, max(paid[0], created)))
    if sem == "S":
        steps.append((final, max(paid[-1] if paid else created, steps[-1][1])))
    elif sem == "F":
        steps.append((final, max(deal_closed or created, steps[-1][1])))
    elif final != steps[-1][0]:
        steps.append((final, steps[-1][1]))
    return steps


# --------------------------------------------------------------------------- generator route

bp = Blueprint("sandbox_seed", __name__)


def _next_ids(portal: Platform) -> dict[str, int]:
    return {e: (table(portal, f"crm_{e}").ids[-1] if table(portal, f"crm_{e}").ids else 0) + 1
            for e in ("lead", "deal", "company", "contact")}


PRESETS = ("metalprom_lead_funnel",)
"""Named data sets of the generator route (``"preset"``)."""


class GenerateError(ValueError):
    """A generator request that cannot be carried out (the route answers 400 with its code and text)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _preset_leads(portal: Platform, gen: Any, spec: dict[str, Any], start_id: int, seed_n: int,
                  today: dt.date) -> list[dict[str, Any]]:
    """The leads of a named preset (see :data:`PRESETS`)."""
    name = str(spec.get("preset"))
    if name not in PRESETS:
        raise GenerateError("UNKNOWN_PRESET", f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
    wanted = len(gen.METALPROM_FUNNEL_BY_MANAGER)
    given = spec.get("assigned_ids")
    managers = [int(x) for x in given] if given else [3, 4, 5]
    if len(managers) != wanted:
        raise GenerateError("INVALID_ASSIGNED_IDS", f"preset {name} needs exactly {wanted} managers in assigned_ids "
                                                    f"(the funnel table's rows per manager), got {len(managers)}")
    missing = [uid for uid in managers if users.get_user(portal, uid) is None]
    if missing:
        raise GenerateError("USER_NOT_FOUND", f"preset {name}: no user {', '.join(map(str, missing))} on this portal "
                                              "(the default managers 3, 4, 5 are those of the metalprom seed; "
                                              "pass assigned_ids)")
    return gen.metalprom_lead_funnel(seed_n, start_id=start_id, assigned_ids=managers, today=today)


def generate(portal: Platform, spec: dict[str, Any]) -> dict[str, Any]:
    """Bulk data from ``b24sandbox.seed.generator`` (see the route's docstring). Everything goes in
    with bulk inserts (one per table and kind), so the time grows linearly with the amount: 100,000
    deals with product rows and about 1,000,000 stage-history rows take well under a minute."""
    gen = importlib.import_module("b24sandbox.seed.generator")
    started = time.monotonic()
    start_ids = _next_ids(portal)
    seed_n = int(spec.get("rng_seed") or 1)
    today = portal.now().astimezone(dt.timezone(dt.timedelta(hours=3))).date()
    preset_leads = _preset_leads(portal, gen, spec, start_ids["lead"], seed_n, today) if spec.get("preset") else []
    managers = [int(x) for x in spec.get("assigned_ids") or []] or \
        [u["ID"] for u in users.users(portal).values() if u.get("ACTIVE", True)]
    fire = bool(spec.get("fire_events"))
    counts: dict[str, Any] = {}
    stats: dict[str, int] = {"history": 0, "product_rows": 0}
    companies: list[dict[str, Any]] = []
    if int(spec.get("companies") or 0):
        companies = gen.generate_companies(int(spec["companies"]), start_ids["company"], seed_n,
                                           assigned_ids=managers, today=today)
        _load_companies(portal, companies, 1)
        counts["companies"] = len(companies)
    contacts: list[dict[str, Any]] = []
    if int(spec.get("contacts") or 0):
        contacts = gen.generate_contacts(int(spec["contacts"]), start_ids["contact"], seed_n, companies=companies,
                                         assigned_ids=managers, today=today)
        _bulk(portal, "contact", contacts, 1, fire, stats)
        counts["contacts"] = len(contacts)
    if preset_leads:
        _bulk(portal, "lead", preset_leads, 1, fire, stats)
        counts["leads"] = len(preset_leads)
    if int(spec.get("leads") or 0):
        sources = spec.get("source_ids") or [e["STATUS_ID"] for e in crm_meta.entries(portal, "SOURCE")]
        weights = {str(spec["status_id"]): 1.0} if spec.get("status_id") else None
        first = start_ids["lead"] + len(preset_leads)
        leads = gen.generate_leads(int(spec["leads"]), first, seed_n, source_ids=sources,
                                   status_weights=weights, assigned_ids=managers, today=today,
                                   with_history=weights is None)
        _bulk(portal, "lead", leads, 1, fire, stats)
        counts["leads"] = counts.get("leads", 0) + len(leads)
    if int(spec.get("deals") or 0):
        category = int(spec.get("category_id") or 0)
        stages = crm_meta.stage_ids(portal, crm_meta.DEAL, category)
        weights = {str(spec["stage_id"]): 1.0} if spec.get("stage_id") else None
        company_ids = [c["ID"] for c in companies] or [r["ID"] for r in crm_entities.rows(portal, "company").values()
                                                      if r.get("IS_MY_COMPANY") != "Y"]
        extra = {}
        if spec.get("returns_per_deal") is not None:
            extra["returns_per_deal"] = float(spec["returns_per_deal"])
        deals = gen.generate_deals(int(spec["deals"]), start_ids["deal"], seed_n, stages, category_id=category,
                                   stage_weights=weights, company_ids=company_ids,
                                   contact_ids=[c["ID"] for c in contacts], assigned_ids=managers, today=today,
                                   **extra)
        _bulk(portal, "deal", deals, 1, fire, stats)
        counts["deals"] = len(deals)
    counts["history_rows"] = stats["history"]
    counts["product_rows"] = stats["product_rows"]
    counts["seconds"] = round(time.monotonic() - started, 3)
    counts["first_ids"] = start_ids
    return counts


@bp.post("/_sandbox/portals/<member_id>/generate")
def control_generate(member_id: str):
    """``{"leads": N, "deals": M, "companies": K, "contacts": C, "rng_seed": 1, "status_id": "NEW",
    "source_ids": [...], "assigned_ids": [...], "category_id": 0, "stage_id": ..., "returns_per_deal": 0.15,
    "preset": "metalprom_lead_funnel", "fire_events": false}`` -> ``{"leads": N, "deals": M, "companies": K,
    "contacts": C, "history_rows": H, "product_rows": P, "seconds": s, "first_ids": {...}}``; an unusable
    request (unknown preset, wrong managers) -> 400 ``{"error", "error_description"}``."""
    portal = SERVICES.get_portal(member_id) if SERVICES.get_portal else None
    if portal is None:
        abort(404)
    spec = request.get_json(force=True, silent=True) or {}
    with portal.lock:
        try:
            return jsonify(generate(portal, spec))
        except GenerateError as exc:
            return jsonify({"error": exc.code, "error_description": exc.text}), 400


CONTROL_BLUEPRINTS.append(bp)

__all__ = ["PRESETS", "GenerateError", "generate", "load_data", "next_seq", "seed_portal"]
