"""The deal tab (placement CRM_DEAL_DETAIL_TAB): the deal's contract, its 1C invoices and payments
(paid and remaining), the SLA state of its current stage, the app's open tasks, why the deal's lead
went to whom; actions «Сформировать договор» and «Выставить счет в 1С» with progress and readable
errors.

Opening: the portal POSTs ``/placement/deal_tab`` with the deal in ``PLACEMENT_OPTIONS.ID``; after the
core's verification (b24app.web.auth) this view also reads the deal **with the user's own token**
(``crm.deal.get`` at the stored portal endpoint), so a user who may not see the deal in Bitrix24
(or forged the options) gets 403, not the deal. It then issues a *deal grant*: an HMAC of the
session's random ``sid`` and the deal id, carried by every follow-up request of the tab (``g``
argument or ``X-B24App-Deal`` header). Follow-up routes take the deal from the session's options and
need the grant, so a session of the app page or of another deal cannot act on this one.

Actions enqueue the features' jobs: ``contracts.issue`` (payload of the contracts feature) and
``sync_1c.push`` (b24app.sync_1c.push.push_deal, what the robot runs). Dedupe keys name the portal,
the deal and a generation (contracts of that deal and type, invoices of the deal), so a double click
queues one job, a dead job is retried by the next click, and a new contract after a void gets a new
job. The page polls ``GET /app/deal/job/<id>`` (JSON) for progress.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import requests
from flask import Blueprint, current_app, jsonify, redirect, request

from b24app.messages import t
from b24app.settings import document
from b24app.store import installations
from b24app.store import jobs as jobs_repo
from b24app.web.auth import PageDenied, PageSession, current_page, page_required, url
from b24app.web.views import portal_dicts
from b24app.web.views.job_text import job_view
from b24app.web.views.layout import placement_view, render_page
from b24app.web.views.settings_panels import when

log = logging.getLogger("b24app.web.deal_tab")

bp = Blueprint("deal_tab", __name__, url_prefix="/app/deal")

GRANT_PARAM = "g"
GRANT_HEADER = "X-B24App-Deal"
PUSH_KIND = "sync_1c.push"  # b24app.sync_1c.plugin
OPEN_TASK = (1, 2, 3, 4, 6)  # new, pending, in progress, awaiting control, deferred (5 = completed)
TASK_STATUS = {1: "new", 2: "pending", 3: "in_progress", 4: "control", 5: "completed", 6: "deferred"}


def _services() -> Any:
    return current_app.extensions["b24app"]


def grant_for(page: PageSession, deal_id: int) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, f"deal-tab:{page.sid}:{deal_id}".encode(), hashlib.sha256).hexdigest()[:40]


def _deal_id_of(page: PageSession) -> int:
    raw = str((page.options or {}).get("ID") or "").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise PageDenied(400, "ui.deal.no_deal")
    return int(raw)


def granted_deal() -> tuple[PageSession, int]:
    """The deal of a follow-up request: the session's deal, proven by the grant the tab issued."""
    page = current_page()
    deal_id = _deal_id_of(page)
    sent = request.headers.get(GRANT_HEADER) or request.args.get(GRANT_PARAM) or request.form.get(GRANT_PARAM) or ""
    if not sent or not hmac.compare_digest(sent.encode(), grant_for(page, deal_id).encode()):
        raise PageDenied(403, "ui.deal.no_grant")
    return page, deal_id


def read_deal_as_user(member_id: str, deal_id: int, auth_id: str) -> dict[str, Any]:
    """``crm.deal.get`` with the user's own token at the stored endpoint: the user may see the deal."""
    svc = _services()
    inst = installations.get(svc.db, member_id)
    if inst is None:
        raise PageDenied(401, "ui.error.not_installed")
    try:
        resp = requests.post(inst.client_endpoint.rstrip("/") + "/crm.deal.get",
                             json={"auth": auth_id, "id": deal_id}, timeout=min(svc.config.http_timeout, 15.0))
        body = resp.json()
    except requests.RequestException as exc:
        raise PageDenied(503, "ui.error.portal_unreachable") from exc
    except ValueError as exc:
        raise PageDenied(502, "ui.error.portal_answer") from exc
    deal = body.get("result") if isinstance(body, dict) else None
    if resp.status_code != 200 or not isinstance(deal, dict) or str(deal.get("ID")) != str(deal_id):
        code = body.get("error") if isinstance(body, dict) else ""
        log.info("deal tab refused: the user's token cannot read the deal",
                 extra={"member_id": member_id, "deal_id": deal_id, "status": resp.status_code, "code": code})
        raise PageDenied(403, "ui.deal.no_access")
    return deal


@placement_view("deal_tab")
def open_tab() -> Any:
    """The verified portal POST of the deal tab."""
    page = current_page()
    deal_id = _deal_id_of(page)
    auth_id = request.form.get("AUTH_ID") or ""
    deal = read_deal_as_user(page.member_id, deal_id, auth_id)
    return render_tab(page, deal_id, deal)


@bp.get("")
@page_required
def tab() -> Any:
    page, deal_id = granted_deal()
    return render_tab(page, deal_id, None)


def render_tab(page: PageSession, deal_id: int, deal: dict[str, Any] | None) -> Any:
    svc = _services()
    lang = page.lang
    doc = document.load(svc.db, page.member_id)
    portal = portal_dicts.dicts(svc, page.member_id)
    client = svc.client(page.member_id)
    problems: list[str] = []
    if deal is None:
        try:
            deal = client.call("crm.deal.get", {"id": deal_id}) or {}
        except Exception as exc:  # the tab still shows what the app knows
            problems.append(t("ui.deal.portal_failed", lang, error=str(exc)[:200]))
            deal = {}
    grant = grant_for(page, deal_id)
    ctx = {
        "deal_id": deal_id, "deal": _deal_view(deal, portal, lang), "grant": grant,
        "contract": contract_block(svc, page, doc, deal_id),
        "onec": onec_block(svc, page, doc, deal_id),
        "sla": sla_block(svc, page, doc, deal_id, deal, portal),
        "tasks": tasks_block(svc, page, deal_id, client, portal, problems),
        "leads": distribution_block(svc, page, doc, deal_id, deal, portal),
        "jobs": pending_jobs(svc, page, doc, deal_id),
        "problems": problems,
        "tab_url": url("deal_tab.tab", **{GRANT_PARAM: grant}),
        "job_url": url("deal_tab.job_status", job_id=0, **{GRANT_PARAM: grant}),
    }
    return render_page("deal/tab.html", title=t("ui.deal.title", lang, id=deal_id), **ctx)


def _deal_view(deal: dict[str, Any], portal: portal_dicts.PortalDicts, lang: str) -> dict[str, Any]:
    stage = str(deal.get("STAGE_ID") or "")
    funnel = portal.funnel_of(stage)
    return {"title": deal.get("TITLE") or "", "stage_id": stage,
            "stage": portal.stage_name(stage, portal_dicts.DEAL) or stage,
            "funnel": (funnel.name if funnel else "") or "", "amount": _number(deal.get("OPPORTUNITY")),
            "currency": deal.get("CURRENCY_ID") or "RUB",
            "responsible": portal.user_name(deal.get("ASSIGNED_BY_ID")) or (f"#{deal.get('ASSIGNED_BY_ID')}"
                                                                           if deal.get("ASSIGNED_BY_ID") else "—")}


def _number(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None


# --- blocks -----------------------------------------------------------------------------------------
def contract_types(doc: dict[str, Any], lang: str) -> list[dict[str, str]]:
    from b24app.contracts.types import effective_type, label

    out = []
    for raw in (doc.get("contracts") or {}).get("types") or []:
        if not isinstance(raw, dict) or not raw.get("code"):
            continue
        typ = effective_type(raw)
        if typ.get("enabled") is False:
            continue
        out.append({"code": typ["code"], "label": raw.get("label") or label(typ["code"], lang)})
    return out


def contract_block(svc: Any, page: PageSession, doc: dict[str, Any], deal_id: int) -> dict[str, Any]:
    from b24app.contracts import register
    from b24app.contracts.types import label

    rows = [r for r in register.list_contracts(svc.db, page.member_id, deal_id=deal_id) if r.get("status") != "void"]
    contracts = [{"number": r["number"], "type": r["type_code"], "type_label": label(r["type_code"], page.lang),
                  "date": r.get("contract_date"), "status": r.get("status"), "url": r.get("document_url") or "",
                  "file_id": r.get("file_id")} for r in rows]
    main = register.contract_for_deal(svc.db, page.member_id, deal_id)
    types = contract_types(doc, page.lang)
    have = {c["type"] for c in contracts}
    enabled = bool((doc.get("contracts") or {}).get("enabled", True))
    return {"main": main, "main_label": label(main["type"], page.lang) if main else "", "all": contracts,
            "types": types, "default_type": next((x["code"] for x in types if x["code"] not in have), ""),
            "enabled": enabled and bool(types)}


def onec_block(svc: Any, page: PageSession, doc: dict[str, Any], deal_id: int) -> dict[str, Any]:
    from b24app.sync_1c import api, state

    status = api.payment_status(svc.db, page.member_id, deal_id)
    invoices = []
    for inv in state.invoices_of_deal(svc.db, page.member_id, deal_id):
        payments = [{"number": p.get("number") or "", "date": str(p.get("pay_date") or "")[:10],
                     "amount": float(p.get("amount") or 0), "active": bool(p.get("active")),
                     "kind": p.get("kind") or ""}
                    for p in state.payments_of_invoice(svc.db, page.member_id, inv.base, inv.ref_key)]
        invoices.append({"base": inv.base, "number": inv.number, "date": str(inv.doc_date or "")[:10],
                         "amount": inv.amount, "paid": inv.paid, "outstanding": inv.outstanding,
                         "due": str(inv.due_date or "")[:10], "status": inv.status, "live": inv.live,
                         "link": inv.link, "payments": payments})
    onec = doc.get("onec") or {}
    configured = bool(onec.get("enabled", True)) and bool([b for b in onec.get("bases") or []
                                                          if b.get("enabled", True)])
    return {"status": None if status is None else {
        "number": status.invoice_number, "amount": float(status.amount), "paid": float(status.paid),
        "outstanding": float(status.outstanding), "due": status.due_date.isoformat() if status.due_date else "",
        "last_payment": status.last_payment_date.isoformat() if status.last_payment_date else "",
        "state": status.status, "base": status.base},
        "invoices": invoices, "configured": configured, "can_push": configured and status is None}


def sla_block(svc: Any, page: PageSession, doc: dict[str, Any], deal_id: int, deal: dict[str, Any],
              portal: portal_dicts.PortalDicts) -> dict[str, Any]:
    from b24app.stages import repo

    stage = str(deal.get("STAGE_ID") or "")
    limit = next((lim for lim in (doc.get("sla") or {}).get("limits") or []
                  if isinstance(lim, dict) and lim.get("entity", "deal") == "deal" and lim.get("stage") == stage), None)
    row = repo.sla_row(svc.db, page.member_id, "deal", deal_id)
    state: dict[str, Any] | None = None
    if row is not None and (not stage or row.get("stage_id") == stage):
        state = {"due": when(row.get("due_at"), doc), "overdue": bool(row.get("overdue")),
                 "late_hours": round(float(row.get("late_hours") or 0), 1), "steps": int(row.get("steps_done") or 0),
                 "entered": when(row.get("entered_at"), doc), "scanned": when(row.get("scanned_at"), doc)}
    limit_text = ""
    if limit:
        if limit.get("working_hours") is not None:
            limit_text = t("ui.deal.sla.hours", page.lang, n=limit["working_hours"])
        elif limit.get("working_days") is not None:
            limit_text = t("ui.deal.sla.days", page.lang, n=limit["working_days"])
        if limit.get("date_field"):
            limit_text = (limit_text + " " if limit_text else "") + t("ui.deal.sla.field", page.lang,
                                                                        field=limit["date_field"])
    return {"stage": portal.stage_name(stage, portal_dicts.DEAL) or stage, "limit": limit_text, "state": state,
            "watched": bool(limit)}


def tasks_block(svc: Any, page: PageSession, deal_id: int, client: Any, portal: portal_dicts.PortalDicts,
                problems: list[str]) -> list[dict[str, Any]]:
    from b24app.stages import repo

    own = [x for x in repo.tasks_of_item(svc.db, page.member_id, "deal", deal_id)
           if x.closed_at is None and x.status in OPEN_TASK]
    if not own:
        return []
    details: dict[int, dict[str, Any]] = {}
    try:
        got = client.call("tasks.task.list", {"filter": {"ID": [x.task_id for x in own]},
                                              "select": ["ID", "TITLE", "DEADLINE", "STATUS", "RESPONSIBLE_ID"]})
        for row in (got or {}).get("tasks", []) if isinstance(got, dict) else []:
            details[int(row.get("id") or row.get("ID"))] = row
    except Exception as exc:  # titles are a nicety: the app's own record is enough to list them
        problems.append(t("ui.deal.tasks_failed", page.lang, error=str(exc)[:200]))
    out = []
    for x in own:
        d = details.get(x.task_id, {})
        status = int(d.get("status") or d.get("STATUS") or x.status)
        if status == 5:
            continue  # completed in the portal, the app has not heard yet
        resp = d.get("responsibleId") or d.get("RESPONSIBLE_ID") or x.responsible_id
        out.append({"id": x.task_id, "title": d.get("title") or d.get("TITLE") or x.template_id,
                    "template": x.template_id, "approval": x.approval, "stage": portal.stage_name(x.stage_id) or
                    x.stage_id, "deadline": str(d.get("deadline") or d.get("DEADLINE") or "")[:16].replace("T", " "),
                    "status": t(f"ui.deal.task.{TASK_STATUS.get(status, 'pending')}", page.lang),
                    "responsible": portal.user_name(resp) or (f"#{resp}" if resp else "—"),
                    "link": f"https://{page.domain}/company/personal/user/{resp or 0}/tasks/task/view/{x.task_id}/"})
    return out


def distribution_block(svc: Any, page: PageSession, doc: dict[str, Any], deal_id: int, deal: dict[str, Any],
                       portal: portal_dicts.PortalDicts) -> list[dict[str, Any]]:
    from b24app.leads import service

    out = []
    lead_raw = str(deal.get("LEAD_ID") or "").strip()
    sources = [("deal", deal_id)]
    if lead_raw.isdigit() and int(lead_raw) > 0:
        sources.insert(0, ("lead", int(lead_raw)))
    for entity, item_id in sources:
        for row in service.explain(svc.db, page.member_id, item_id, page.lang, entity):
            out.append({"entity": entity, "entity_id": item_id, "at": when(row.get("decided_at"), doc),
                        "user": portal.user_name(row.get("user_id")) or (f"#{row['user_id']}" if row.get("user_id")
                                                                         else "—"),
                        "rule": row.get("rule") or "—", "summary": row.get("summary") or row.get("reason") or "",
                        "kind": row.get("kind")})
    return out


# --- actions ----------------------------------------------------------------------------------------
def contract_key(svc: Any, member_id: str, deal_id: int, type_code: str) -> tuple[str, str]:
    """(this click's dedupe key, the previous generation's key) of a contract of ``type_code``."""
    from b24app.contracts import register

    gen = len(register.list_contracts(svc.db, member_id, deal_id=deal_id, type_code=type_code))
    return f"ui:contract:{member_id}:{deal_id}:{type_code}:{gen}", f"ui:contract:{member_id}:{deal_id}:{type_code}:{gen - 1}"


def push_key(svc: Any, member_id: str, deal_id: int) -> tuple[str, str]:
    from b24app.sync_1c import state

    gen = len(state.invoices_of_deal(svc.db, member_id, deal_id))
    return f"ui:push:{member_id}:{deal_id}:{gen}", f"ui:push:{member_id}:{deal_id}:{gen - 1}"


def pending_jobs(svc: Any, page: PageSession, doc: dict[str, Any], deal_id: int) -> list[dict[str, Any]]:
    """Jobs the tab started for this deal that are not done yet (or died): shown with their progress."""
    keys = [push_key(svc, page.member_id, deal_id)]
    keys += [contract_key(svc, page.member_id, deal_id, x["code"]) for x in contract_types(doc, page.lang)]
    out = []
    for current, previous in keys:
        job = jobs_repo.by_dedupe_key(svc.db, current)
        if job is None or job.status == jobs_repo.DONE:
            # the previous generation's job matters only while it still runs (its row may be reserved)
            job = jobs_repo.by_dedupe_key(svc.db, previous)
            if job is not None and job.status not in (jobs_repo.QUEUED, jobs_repo.RUNNING):
                job = None
        if job is not None and job.member_id == page.member_id and job.status != jobs_repo.DONE:
            out.append({**job_view(job, page.lang), "what": _what(job, page.lang)})
    return out


def _what(job: jobs_repo.Job, lang: str) -> str:
    if job.kind == "contracts.issue":
        from b24app.contracts.types import label

        return t("ui.deal.job.contract", lang, type=label(str(job.payload.get("type") or ""), lang))
    return t("ui.deal.job.invoice", lang)


def _enqueue(svc: Any, member_id: str, kind: str, payload: dict[str, Any], key: str, **kw: Any) -> jobs_repo.Job:
    job_id, created = jobs_repo.enqueue(svc.db, kind, payload, member_id=member_id, dedupe_key=key, **kw)
    job = jobs_repo.get(svc.db, job_id)
    assert job is not None
    if not created and job.status == jobs_repo.DEAD:
        jobs_repo.retry(svc.db, job.id)  # the person asks again: a dead job gets fresh attempts
        job = jobs_repo.get(svc.db, job.id) or job
    return job


def _wants_json() -> bool:
    return request.headers.get("Accept", "").startswith("application/json") or request.is_json


def _answer(page: PageSession, deal_id: int, job: jobs_repo.Job, what: str) -> Any:
    view = {**job_view(job, page.lang), "what": what}
    if _wants_json():
        return jsonify(view)
    return redirect(url("deal_tab.tab", **{GRANT_PARAM: grant_for(page, deal_id)}), code=303)


def _refusal(exc: PageDenied) -> Any:
    """A refusal of an action as the tab's script reads it (JSON), or the usual error page."""
    if not _wants_json():
        raise exc
    text = t(exc.key, current_page().lang, **exc.params)
    return jsonify({"error": text, "message": text, "failed": True, "done": False}), exc.code


@bp.post("/contract")
@page_required
def make_contract() -> Any:
    try:
        return _make_contract()
    except PageDenied as exc:
        return _refusal(exc)


def _make_contract() -> Any:
    page, deal_id = granted_deal()
    svc = _services()
    doc = document.load(svc.db, page.member_id)
    types = {x["code"]: x for x in contract_types(doc, page.lang)}
    code = (request.form.get("type") or (request.get_json(silent=True) or {}).get("type") or "").strip()
    if code not in types:
        raise PageDenied(400, "ui.deal.bad_type")
    key, _prev = contract_key(svc, page.member_id, deal_id, code)
    job = _enqueue(svc, page.member_id, "contracts.issue",
                   {"deal_id": deal_id, "type": code, "idempotency_key": key, "created_by": f"user:{page.user_id}"},
                   key, max_attempts=8)
    log.info("contract requested from the deal tab", extra={"member_id": page.member_id, "deal_id": deal_id,
                                                            "type": code, "job_id": job.id})
    return _answer(page, deal_id, job, t("ui.deal.job.contract", page.lang, type=types[code]["label"]))


@bp.post("/invoice")
@page_required
def push_invoice() -> Any:
    try:
        return _push_invoice()
    except PageDenied as exc:
        return _refusal(exc)


def _push_invoice() -> Any:
    page, deal_id = granted_deal()
    svc = _services()
    doc = document.load(svc.db, page.member_id)
    if not onec_block(svc, page, doc, deal_id)["configured"]:
        raise PageDenied(409, "ui.deal.no_onec")
    key, _prev = push_key(svc, page.member_id, deal_id)
    job = _enqueue(svc, page.member_id, PUSH_KIND, {"deal_id": deal_id, "user_id": page.user_id}, key,
                   max_attempts=6, priority=20)
    log.info("1C invoice requested from the deal tab", extra={"member_id": page.member_id, "deal_id": deal_id,
                                                              "job_id": job.id})
    return _answer(page, deal_id, job, t("ui.deal.job.invoice", page.lang))


@bp.get("/job/<int:job_id>")
@page_required
def job_status(job_id: int) -> Any:
    try:
        page, deal_id = granted_deal()
    except PageDenied as exc:
        return _refusal(exc)
    job = jobs_repo.get(_services().db, job_id)
    payload = (job.payload or {}) if job is not None else {}
    deal_of_job = payload.get("deal_id") if job is not None and job.kind in ("contracts.issue", PUSH_KIND) else None
    if job is None or job.member_id != page.member_id or str(deal_of_job) != str(deal_id):
        return jsonify({"error": t("ui.deal.no_job", page.lang)}), 404
    return jsonify({**job_view(job, page.lang), "what": _what(job, page.lang)})
