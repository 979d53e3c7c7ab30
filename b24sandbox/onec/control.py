"""Control API of the emulated 1C bases (``/_sandbox/...``): what tests, the demo and benchmarks call to
set up bases and to act as the accountant on the 1C side. JSON in, JSON out; errors as
``{"error": "<code>", "error_description": "<text>"}``.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from .base import Base, Registry
from .bulk import generate_payments
from .errors import ODataError
from .seed import pick_counterparties, seed_base
from .storage import wire

bp = Blueprint("onec_sandbox_control", __name__)


def registry() -> Registry:
    return current_app.extensions["b24sandbox.onec"]


def fail(status: int, code: str, text: str) -> Response:
    resp = jsonify({"error": code, "error_description": text})
    resp.status_code = status
    return resp


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def get_base(name: str) -> Base | Response:
    base = registry().get(name)
    if base is None:
        return fail(404, "NOT_FOUND", f"1C base {name!r} does not exist")
    return base


def plain(et: Any, ent: dict[str, Any]) -> dict[str, Any]:
    """An entity as plain JSON for checks (numbers as numbers, Int64 as int)."""
    out = {}
    for f in et.fields:
        v = ent.get(f.name, f.default)
        out[f.name] = int(v) if f.kind == "int" else (wire(f, v) if f.kind == "number" else v)
    for tp in et.tabular:
        out[tp.name] = [{"LineNumber": int(r.get("LineNumber", 0)), **{f.name: r.get(f.name, f.default)
                                                                      for f in tp.fields}}
                        for r in ent.get(tp.name, [])]
    return out


def odata_error(err: ODataError) -> Response:
    return fail(err.status if err.status >= 400 else 500, f"ONEC_{err.code}", err.message)


@bp.get("/_sandbox/portals/<member_id>/onec")
def portal_bases(member_id: str) -> Response:
    return jsonify([b.info(request.host_url) for b in registry().for_member(member_id)])


@bp.get("/_sandbox/onec")
def list_bases() -> Response:
    return jsonify([b.info(request.host_url) for b in sorted(registry().bases.values(), key=lambda b: b.name)])


@bp.post("/_sandbox/onec")
def create_base() -> Response:
    data = body()
    name = str(data.get("name") or "")
    profile = str(data.get("profile") or "bp30")
    try:
        base = registry().create(name, profile, str(data.get("user") or "b24sync"),
                                 str(data.get("password") or secrets.token_urlsafe(12)),
                                 str(data.get("member_id") or ""), data.get("options") or {})
    except FileExistsError:
        return fail(409, "ALREADY_EXISTS", f"1C base {name!r} already exists")
    except ValueError as exc:
        return fail(400, "BAD_REQUEST", str(exc))
    counts = seed_base(base, data.get("organization"), data.get("counterparties") or [], data.get("products") or [])
    info = base.info(request.host_url)
    info["seeded"] = counts
    resp = jsonify(info)
    resp.status_code = 201
    return resp


@bp.get("/_sandbox/onec/<name>")
def base_info(name: str) -> Response:
    base = get_base(name)
    return base if isinstance(base, Response) else jsonify(base.info(request.host_url))


@bp.patch("/_sandbox/onec/<name>")
def update_base(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    data = body()
    for key in ("user", "password", "member_id"):
        if key in data:
            setattr(base, key, str(data[key]))
    if isinstance(data.get("options"), dict):
        base.options.update(data["options"])
    registry().update(base)
    return jsonify(base.info(request.host_url))


@bp.delete("/_sandbox/onec/<name>")
def delete_base(name: str) -> Response:
    if not registry().delete(name):
        return fail(404, "NOT_FOUND", f"1C base {name!r} does not exist")
    return jsonify({"deleted": name})


# -- accountant's actions ---------------------------------------------------------------------------------
@bp.post("/_sandbox/onec/<name>/payments")
def register_payment(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    data = body()
    try:
        amount = float(data.get("amount"))
    except (TypeError, ValueError):
        return fail(400, "BAD_REQUEST", "amount is required (a number)")
    kind = str(data.get("kind") or "bank")
    if kind not in ("bank", "cash"):
        return fail(400, "BAD_REQUEST", "kind must be 'bank' or 'cash'")
    try:
        with base.session() as s:
            date = str(data.get("date") or s.handlers.today())
            ent = base.handlers.register_payment(
                s, str(data.get("invoice_ref") or ""), amount, date, kind=kind,
                counterparty_ref=data.get("counterparty_ref"), number=data.get("number"),
                post=bool(data.get("post", True)), comment=str(data.get("comment") or ""))
            set_name = s.get_any(ent["Ref_Key"])[0].set_name  # type: ignore[index]
    except ODataError as err:
        return odata_error(err)
    resp = jsonify({"ref_key": ent["Ref_Key"], "number": ent["Number"], "date": ent["Date"], "set": set_name,
                    "posted": bool(ent["Posted"]), "amount": ent.get("СуммаДокумента")})
    resp.status_code = 201
    return resp


def _document_action(name: str, ref: str, action: str, allowed_sets: tuple[str, ...] | None) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    data = body()
    try:
        with base.session() as s:
            found = s.get_any(ref)
            if found is None or (allowed_sets and found[0].set_name not in allowed_sets):
                return fail(404, "NOT_FOUND", f"document {ref} not found in {name}")
            et, ent = found
            if action == "post":
                ent = s.post(et, ref)
            elif action == "unpost":
                ent = s.unpost(et, ref)
            elif action == "delete-mark":
                ent = s.set_deletion_mark(et, ref, bool(data.get("mark", True)))
            elif action == "delete":
                s.delete(et, ref)
                return jsonify({"ref_key": ref, "deleted": True})
            elif action == "correct":
                ent = base.handlers.move_payment(s, ref, str(data.get("invoice_ref") or ""))
    except ODataError as err:
        return odata_error(err)
    return jsonify({"ref_key": ref, "set": et.set_name, "posted": bool(ent.get("Posted")),
                    "deletion_mark": bool(ent.get("DeletionMark")), "data_version": ent.get("DataVersion")})


@bp.post("/_sandbox/onec/<name>/payments/<ref>/<action>")
def payment_action(name: str, ref: str, action: str) -> Response:
    if action not in ("post", "unpost", "delete-mark", "delete", "correct"):
        return fail(404, "NOT_FOUND", f"unknown action {action}")
    base = registry().get(name)
    sets = tuple(s for s, _ in base.handlers.payment_sets()) if base else None
    return _document_action(name, ref, action, sets)


@bp.post("/_sandbox/onec/<name>/invoices")
def create_invoice(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    data = dict(body())
    try:
        with base.session() as s:
            logic = base.handlers
            if not data.get("counterparty_ref") and data.get("counterparty_inn"):
                found = logic.find_counterparty(s, str(data["counterparty_inn"]), data.get("counterparty_kpp"))
                if not found:
                    return fail(404, "NOT_FOUND", "counterparty with this INN/KPP not found in the base")
                data["counterparty_ref"] = found[0]["Ref_Key"]
            ent = logic.create_invoice(s, data, bool(data.get("post", True)))
            view = logic.invoice_view(s, ent)
    except ODataError as err:
        return odata_error(err)
    resp = jsonify(dict(view, ref_key=ent["Ref_Key"], set=base.handlers.invoice_set))
    resp.status_code = 201
    return resp


@bp.post("/_sandbox/onec/<name>/invoices/<ref>/<action>")
def invoice_action(name: str, ref: str, action: str) -> Response:
    if action not in ("post", "unpost", "delete-mark", "delete"):
        return fail(404, "NOT_FOUND", f"unknown action {action}")
    base = registry().get(name)
    return _document_action(name, ref, action, (base.handlers.invoice_set,) if base else None)


@bp.get("/_sandbox/onec/<name>/invoices/<ref>/status")
def invoice_status(name: str, ref: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    try:
        with base.read_session() as s:
            return jsonify(base.handlers.invoice_status(s, ref))
    except ODataError as err:
        return odata_error(err)


@bp.post("/_sandbox/onec/<name>/counterparties")
def create_counterparty(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    try:
        with base.session() as s:
            ent, created = base.handlers.create_counterparty(s, body())
    except ODataError as err:
        return odata_error(err)
    resp = jsonify({"ref_key": ent["Ref_Key"], "created": created, "name": ent.get("Description")})
    resp.status_code = 201 if created else 200
    return resp


@bp.get("/_sandbox/onec/<name>/documents/<set_name>")
def list_documents(name: str, set_name: str) -> Response:
    """Any entity set of the base as plain JSON (``?limit=&offset=``), for checks."""
    base = get_base(name)
    if isinstance(base, Response):
        return base
    et = base.profile.sets.get(set_name)
    if et is None:
        return fail(404, "NOT_FOUND", f"no set {set_name} in {name}")
    limit = min(int(request.args.get("limit", 1000)), 100000)
    offset = int(request.args.get("offset", 0))
    from .odata.sources import source_for

    src = source_for(base.profile, et, base.invoice_fields)
    where, params = src.where_sql()
    sql = f"SELECT {src.select_sql()} FROM {src.from_sql()} WHERE {where} ORDER BY {src.order_sql} LIMIT ? OFFSET ?"
    if et.kind == "AccumRecordSet":
        return fail(400, "BAD_REQUEST", f"use {set_name}_RecordType")
    with base.store.read() as conn:
        rows = conn.execute(sql, (*params, limit, offset)).fetchall()
    return jsonify([plain(et, src.to_entity(r)) for r in rows])


# -- faults, request log, bulk ------------------------------------------------------------------------------
@bp.route("/_sandbox/onec/<name>/faults", methods=["GET", "PUT", "PATCH", "DELETE"])
def faults(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    if request.method == "GET":
        return jsonify(base.faults.as_dict())
    try:
        if request.method == "DELETE":
            cfg = base.faults.set({}, replace=True)
        else:
            cfg = base.faults.set(body(), replace=request.method == "PUT")
    except (TypeError, ValueError) as exc:
        return fail(400, "BAD_REQUEST", str(exc))
    return jsonify(dict(base.faults.as_dict(), applied=bool(cfg)))


@bp.route("/_sandbox/onec/<name>/requests", methods=["GET", "DELETE"])
def requests_log(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    if request.method == "DELETE":
        base.requests.clear()
        return jsonify({"cleared": True})
    return jsonify(base.requests.snapshot(int(request.args.get("since", 0)), int(request.args.get("limit", 1000))))


@bp.post("/_sandbox/onec/<name>/generate-payments")
def bulk(name: str) -> Response:
    base = get_base(name)
    if isinstance(base, Response):
        return base
    data = body()
    try:
        result = generate_payments(
            base, int(data.get("count", 1000)), invoices=data.get("invoices"), date_from=data.get("date_from"),
            date_to=data.get("date_to"), kind=str(data.get("kind", "mixed")),
            posted_ratio=float(data.get("posted_ratio", 1.0)), seed=int(data.get("seed", 1)))
    except ValueError as exc:
        return fail(400, "BAD_REQUEST", str(exc))
    return jsonify(result)


def create_portal_bases(reg: Registry, member_id: str, data: dict[str, Any]) -> list[Base]:
    """One base per legal entity of the seed (profile and name from ``legal_entities``)."""
    made = []
    companies = data.get("companies") or []
    products = data.get("products") or []
    for i, le in enumerate(data.get("legal_entities") or []):
        name = str(le.get("onec_base") or f"base_{i}")
        existing = reg.get(name)
        if existing is not None:
            if existing.member_id == member_id:
                made.append(existing)
                continue
            name = f"{name}_{member_id[:8]}"
            if reg.get(name) is not None:
                made.append(reg.get(name))  # type: ignore[arg-type]
                continue
        password = f"Sync-{secrets.token_hex(4)}"
        base = reg.create(name, str(le.get("onec_profile") or "bp30"), "b24sync", password, member_id,
                          {"number_prefix": "00", "legal_entity_id": le.get("ID")})
        organization = dict(le, prefix=str(le.get("code") or "")[:2])
        seed_base(base, organization, pick_counterparties(companies, i), products)
        made.append(base)
    return made
