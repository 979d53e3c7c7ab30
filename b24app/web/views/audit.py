"""The audit page: who got which lead and why (the distribution's recent decisions and their
explanations), robot runs, and jobs in the dead letters with their last error in plain words.

Read-only for portal administrators and the users who may see the reports (``analytics.viewers``);
administrators also get a "retry" button on dead jobs (``jobs.retry``: back to the queue with fresh
attempts). Only the session's portal is read: every query takes ``page.member_id``, and a job of
another portal is "not found" for a retry.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, redirect, request

from b24app.messages import CATALOGUE, t
from b24app.settings import document
from b24app.store import jobs as jobs_repo
from b24app.web.auth import PageDenied, PageSession, admin_required, current_page, page_required, url
from b24app.web.views import portal_dicts
from b24app.web.views.job_text import job_view
from b24app.web.views.layout import nav_item, render_page
from b24app.web.views.settings_panels import when

log = logging.getLogger("b24app.web.audit")

bp = Blueprint("audit", __name__, url_prefix="/app/audit")


def can_view(page: PageSession, settings: dict[str, Any] | None = None) -> bool:
    """Administrators, and the users who may see the reports (the same list as analytics)."""
    if page.is_admin:
        return True
    from flask import current_app

    doc = settings if settings is not None else document.load(current_app.extensions["b24app"].db, page.member_id)
    viewers = (doc.get("analytics") or {}).get("viewers") or []
    return not viewers or page.user_id in [int(v) for v in viewers]


nav_item("audit.index", "ui.nav.audit", order=25, visible=lambda p: can_view(p))


def _services() -> Any:
    from flask import current_app

    return current_app.extensions["b24app"]


def _kind_text(kind: str, lang: str) -> str:
    key = f"ui.audit.kind.{kind}"
    return t(key, lang) if key in CATALOGUE else kind


def _robot_name(code: str, lang: str) -> str:
    from b24app.robots.registry import robots

    robot = robots().get(code)
    return t(robot.name_key, lang) if robot is not None else code


def _entity_link(domain: str, entity: str, entity_id: Any) -> str:
    path = {"lead": "lead", "deal": "deal", "contact": "contact", "company": "company"}.get(entity)
    if not path or not domain or entity_id in (None, ""):
        return ""
    return f"https://{domain}/crm/{path}/details/{entity_id}/"


def decisions(services: Any, page: PageSession, doc: dict[str, Any], *, lead_id: int | None = None,
              limit: int = 50) -> list[dict[str, Any]]:
    from b24app.leads import service, store
    from b24app.leads.texts import summarize

    portal = portal_dicts.dicts(services, page.member_id)
    if lead_id is not None:
        found = store.decisions_of(services.db, page.member_id, "lead", lead_id)
        found.reverse()
    else:
        found = store.recent(services.db, page.member_id, limit=limit)
    out = []
    for d in found:
        summary = ((d.explanation or {}).get("summary") or {}).get(page.lang) or ""
        if not summary:
            try:
                summary = summarize(d, page.lang)
            except (KeyError, ValueError, TypeError):
                summary = d.reason or ""
        names = (d.explanation or {}).get("names") or {}
        out.append({
            "id": d.id, "at": when(d.decided_at, doc), "entity": d.entity_type, "entity_id": d.entity_id,
            "link": _entity_link(page.domain, d.entity_type, d.entity_id), "kind": _kind_text(d.kind, page.lang),
            "user": (portal.user_name(d.user_id) or names.get(str(d.user_id)) or (f"#{d.user_id}" if d.user_id
                                                                                  else "—")),
            "rule": d.rule or "—", "strategy": d.strategy or "", "status": d.status, "trigger": d.trigger,
            "summary": summary, "error": d.error or "",
        })
    if lead_id is not None:
        for row, explained in zip(out, reversed(service.explain(services.db, page.member_id, lead_id, page.lang)),
                                  strict=False):
            row["watches"] = explained.get("watches") or []
    return out


def robot_runs(services: Any, page: PageSession, doc: dict[str, Any], limit: int = 50) -> list[dict[str, Any]]:
    out = []
    for job in jobs_repo.list_jobs(services.db, member_id=page.member_id, kind="robot", limit=limit):
        p = job.payload or {}
        view = job_view(job, page.lang)
        result = job.result if isinstance(job.result, dict) else {}
        out.append({**view, "robot": _robot_name(str(p.get("code") or ""), page.lang),
                    "entity": p.get("entity_type") or "", "entity_id": p.get("entity_id"),
                    "link": _entity_link(page.domain, str(p.get("entity_type") or ""), p.get("entity_id")),
                    "from_tab": not p.get("use_subscription", True),
                    "result": ", ".join(f"{k}: {v}" for k, v in result.items() if k not in ("ok", "error") and v)[:300],
                    "at": when(job.created_at, doc), "finished": when(job.finished_at, doc)})
    return out


def dead_jobs(services: Any, page: PageSession, doc: dict[str, Any], limit: int = 100) -> list[dict[str, Any]]:
    out = []
    for job in jobs_repo.list_jobs(services.db, status=jobs_repo.DEAD, member_id=page.member_id, limit=limit):
        p = job.payload or {}
        about = ""
        for key in ("deal_id", "entity_id", "lead_id", "base", "code", "type"):
            if p.get(key) not in (None, ""):
                about += f"{key}={p[key]} "
        out.append({**job_view(job, page.lang), "kind_text": _kind_text(job.kind, page.lang),
                    "about": about.strip(), "at": when(job.finished_at or job.updated_at, doc)})
    return out


@bp.get("")
@page_required
def index() -> Any:
    page = current_page()
    svc = _services()
    doc = document.load(svc.db, page.member_id)
    if not can_view(page, doc):
        raise PageDenied(403, "ui.error.viewers_only")
    lead_raw = (request.args.get("lead") or "").strip()
    lead_id = int(lead_raw) if lead_raw.isdigit() else None
    notice = None
    if request.args.get("retried"):
        notice = t("ui.audit.retried", page.lang, id=request.args.get("retried"))
    return render_page("settings/audit.html", title=t("ui.audit.title", page.lang),
                       decisions=decisions(svc, page, doc, lead_id=lead_id), lead_id=lead_id,
                       robot_runs=robot_runs(svc, page, doc), dead_jobs=dead_jobs(svc, page, doc),
                       counts=jobs_repo.counts(svc.db, page.member_id), can_retry=page.is_admin, notice=notice)


@bp.post("/retry")
@admin_required
def retry() -> Any:
    page = current_page()
    raw = (request.form.get("job_id") or "").strip()
    job = jobs_repo.get(_services().db, int(raw)) if raw.isdigit() else None
    if job is None or job.member_id != page.member_id:  # another portal's job does not exist here
        raise PageDenied(404, "ui.audit.no_job")
    if job.status != jobs_repo.DEAD:
        raise PageDenied(409, "ui.audit.not_dead")
    jobs_repo.retry(_services().db, job.id)
    log.info("dead job retried from the audit page", extra={"member_id": page.member_id, "job_id": job.id,
                                                            "kind": job.kind, "user_id": page.user_id})
    return redirect(url("audit.index", retried=job.id), code=303)
