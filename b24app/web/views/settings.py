"""The settings pages inside Bitrix24: every section of the settings document, for portal
administrators to change and for everybody else to read.

- ``GET /app/settings``: the sections, YAML export and import (import validates the whole file and
  shows every problem before anything is stored);
- ``GET /app/settings/s/<section>``: a section drawn from its schema (settings_forms.py) with the
  portal's pickers; the distribution page also edits users' own schedules (``calendar.users``) and
  pauses managers, the contracts page previews the next number of each type and takes template
  uploads, the 1C page tests connections and shows the sync's cursors, lag and dead letters;
- ``POST /app/settings/s/<section>``: save, atomically: the form carries the document version it
  was drawn from (``expected_version``); a concurrent save by someone else is refused with a clear
  message, and problems are drawn next to their fields, nothing stored.

Saving is for portal administrators (``admin_required``: others get 403 even with a forged form);
the session's portal is the only one read or written (tenant rule, docs/ui.md).
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

from flask import Blueprint, Response, jsonify, redirect, request

from b24app import clock
from b24app.messages import t
from b24app.settings import document
from b24app.settings.schema import Issue, Issues
from b24app.settings.sections import SECTIONS
from b24app.store.settings_repo import ConcurrentEdit
from b24app.web.auth import PageDenied, PageSession, admin_required, current_page, page_required, url
from b24app.web.views import portal_dicts
from b24app.web.views import settings_forms as forms
from b24app.web.views.layout import nav_item, render_page

log = logging.getLogger("b24app.web.settings")

bp = Blueprint("settings_ui", __name__, url_prefix="/app/settings")
nav_item("settings_ui.index", "ui.nav.settings", order=20)

ORDER = ("general", "calendar", "distribution", "stages", "sla", "contracts", "onec", "analytics")
PAGES: dict[str, dict[str, tuple[str, ...]]] = {
    "distribution": {"covers": ("distribution", "calendar.users"),
                     "first": ("enabled", "auto", "pools", "rules", "caps")},
    "contracts": {"covers": ("contracts",), "skip": ("contracts.templates",),
                  "first": ("enabled", "types", "legal_entities")},
    "onec": {"covers": ("onec",), "first": ("enabled", "bases", "routing")},
}
IMPORT_MAX = 1_500_000
ADMIN_VIEW = ("onec",)  # connection addresses and logins are for administrators' eyes only


def _services() -> Any:
    from flask import current_app

    return current_app.extensions["b24app"]


def section_names() -> list[str]:
    """The sections in the order people look for them (then any other registered one)."""
    document.schema()  # loads every plugin's section
    names = [n for n in ORDER if n in SECTIONS]
    return names + sorted(n for n in SECTIONS if n not in names)


def section_title(name: str, lang: str) -> str:
    sec = SECTIONS.get(name)
    if sec is None:
        return name
    return (sec.title_en if lang == "en" else sec.title_ru) or sec.title_ru or name


def _section_nav(active: str | None) -> list[dict[str, Any]]:
    page = current_page()
    return [{"name": n, "title": section_title(n, page.lang), "url": url("settings_ui.section", name=n),
             "active": n == active} for n in section_names() if page.is_admin or n not in ADMIN_VIEW]


# --- the overview: sections, export, import ---------------------------------------------------------
@bp.get("")
@page_required
def index() -> Any:
    page = current_page()
    return _index_page(page)


def _index_page(page: PageSession, *, problems: list[dict[str, str]] | None = None, notice: str | None = None,
                yaml_text: str = "", status: int = 200) -> Any:
    svc = _services()
    stored, version = _stored(page.member_id)
    if request.args.get("imported") and notice is None:
        notice = t("ui.settings.imported", page.lang, version=request.args.get("imported"))
    _, issues = document.check(stored)
    counts: dict[str, int] = {}
    for i in issues:
        counts[i.path.split(".")[0].split("[")[0]] = counts.get(i.path.split(".")[0].split("[")[0], 0) + 1
    doc = document.load(svc.db, page.member_id)
    sections = [{"name": n, "title": section_title(n, page.lang), "url": url("settings_ui.section", name=n),
                 "problems": counts.get(n, 0), "summary": _summary(n, doc, page.lang)} for n in section_names()
                if page.is_admin or n not in ADMIN_VIEW]
    from b24app.web.views.audit import can_view as can_audit

    html = render_page("settings/index.html", title=t("ui.settings.title", page.lang), sections=sections,
                       show_audit=can_audit(page, doc),
                       version=version, can_edit=page.is_admin, problems=problems or [], notice=notice,
                       yaml_text=yaml_text, section_nav=_section_nav(None))
    return html, status


def _stored(member_id: str) -> tuple[dict[str, Any], int]:
    from b24app.store import settings_repo

    stored, version = settings_repo.load(_services().db, member_id)
    return stored or {}, version


def _summary(name: str, doc: dict[str, Any], lang: str) -> str:
    sec = doc.get(name) or {}
    if name == "distribution":
        return t("ui.settings.sum.distribution", lang, rules=len(sec.get("rules") or []),
                 pools=len(sec.get("pools") or {}))
    if name == "stages":
        return t("ui.settings.sum.stages", lang, rules=len(sec.get("rules") or []))
    if name == "sla":
        return t("ui.settings.sum.sla", lang, limits=len(sec.get("limits") or []))
    if name == "contracts":
        return t("ui.settings.sum.contracts", lang, types=len(sec.get("types") or []),
                 entities=len(sec.get("legal_entities") or []))
    if name == "onec":
        return t("ui.settings.sum.onec", lang, bases=len(sec.get("bases") or []))
    return ""


@bp.get("/export.yaml")
@admin_required
def export_yaml() -> Any:
    page = current_page()
    doc = document.load(_services().db, page.member_id)
    text = document.to_yaml(doc)
    day = clock.utcnow().strftime("%Y-%m-%d")
    name = f"b24app-settings-{(page.domain or 'portal').split('.')[0]}-{day}.yaml"
    return Response(text, mimetype="text/yaml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/import")
@admin_required
def import_yaml() -> Any:
    page = current_page()
    svc = _services()
    upload = request.files.get("file")
    text = ""
    if upload is not None and upload.filename:
        raw = upload.read(IMPORT_MAX + 1)
        if len(raw) > IMPORT_MAX:
            return _index_page(page, problems=[{"path": "", "text": t("ui.settings.import_too_big", page.lang)}],
                               status=422)
        text = raw.decode("utf-8-sig", errors="replace")
    else:
        text = request.form.get("yaml") or ""
    if not text.strip():
        return _index_page(page, problems=[{"path": "", "text": t("ui.settings.import_empty", page.lang)}],
                           status=422)
    try:
        doc = document.from_yaml(text)
    except document.SettingsInvalid as exc:
        return _index_page(page, problems=_problems(exc.issues, page.lang), yaml_text=text, status=422)
    if not isinstance(doc, dict):
        issues = Issues()
        issues.add("", "файл должен описывать разделы настроек (набор «раздел: значения»)",
                   "the file must describe settings sections (a mapping of sections)")
        return _index_page(page, problems=_problems(issues, page.lang), yaml_text=text, status=422)
    portal = portal_dicts.dicts(svc, page.member_id)
    _, issues = document.check(forms.typed_passwords_masked(doc))
    issues = list(issues) + forms.portal_issues(forms.typed_passwords_masked(doc), portal)
    if issues:
        return _index_page(page, problems=_problems(issues, page.lang), yaml_text=text, status=422)
    try:
        version = document.save(svc.db, page.member_id, doc, updated_by=f"user:{page.user_id}",
                                expected_version=_form_version(), secrets=svc.secrets)
    except ConcurrentEdit as exc:
        return _index_page(page, problems=[{"path": "", "text": t("ui.settings.conflict", page.lang,
                                                                     version=exc.current)}],
                           yaml_text=text, status=409)
    except document.SettingsInvalid as exc:
        return _index_page(page, problems=_problems(exc.issues, page.lang), yaml_text=text, status=422)
    log.info("settings imported from YAML", extra={"member_id": page.member_id, "user_id": page.user_id,
                                                   "version": version})
    return redirect(url("settings_ui.index", imported=version), code=303)


def _problems(issues: Any, lang: str) -> list[dict[str, str]]:
    return [{"path": i.path, "text": i.ru if lang == "ru" else i.en} for i in issues]


def _form_version() -> int | None:
    raw = (request.form.get("_version") or "").strip()
    return int(raw) if raw.isdigit() else None


# --- a section ---------------------------------------------------------------------------------------
def _known(name: str) -> None:
    if name not in section_names():
        raise PageDenied(404, "ui.settings.no_section")


@bp.get("/s/<name>")
@page_required
def section(name: str) -> Any:
    _known(name)
    page = current_page()
    if name in ADMIN_VIEW and not page.is_admin:
        raise PageDenied(403, "ui.settings.admin_view")
    svc = _services()
    doc = document.load(svc.db, page.member_id)
    notice = None
    if request.args.get("saved"):
        notice = t("ui.settings.saved", page.lang, version=request.args.get("saved"))
    elif request.args.get("done"):
        key = f"ui.settings.done.{request.args.get('done')}"
        from b24app.messages import CATALOGUE

        notice = t(key, page.lang, n=request.args.get("n", "")) if key in CATALOGUE else None
    return _section_page(page, name, doc, document.version(svc.db, page.member_id), notice=notice)


def _section_page(page: PageSession, name: str, doc: dict[str, Any], version: int, *,
                  issues: list[Issue] | None = None, notice: str | None = None, conflict: int | None = None,
                  status: int = 200) -> Any:
    svc = _services()
    cfg = PAGES.get(name, {})
    covers = cfg.get("covers", (name,))
    portal = portal_dicts.dicts(svc, page.member_id)
    ctx = forms.FormContext.make(page.lang, portal, doc, issues or [], cfg.get("skip", ()))
    root = document.schema()
    blocks: list[forms.Field] = []
    for path in covers:
        top = forms.build(forms.node_at(root, path), forms.get_at(doc, path), ctx, name=path, path=path, lkey=path)
        if path == name and top.kind == "group":
            first = cfg.get("first", ())
            ordered = [c for k in first for c in top.children if c.lkey == f"{name}.{k}"]
            ordered += [c for c in top.children if c not in ordered]
            top.children = ordered
            top.label = ""
        blocks.append(top)
    problems = [{"path": i.path, "text": i.ru if page.lang == "ru" else i.en} for i in (issues or [])]
    extra = _panels(page, name, doc)
    html = render_page("settings/section.html", title=section_title(name, page.lang), name=name, runs=_runs,
                       section_title=section_title(name, page.lang), blocks=blocks, version=version,
                       can_edit=page.is_admin, problems=problems, unplaced=ctx.unplaced(), notice=notice,
                       conflict=conflict, portal_error=portal.error, section_nav=_section_nav(name), **extra)
    return html, status


def _runs(fields: list[forms.Field]) -> list[dict[str, Any]]:
    """Consecutive plain values of a section go into one card; lists, maps and groups stand alone."""
    out: list[dict[str, Any]] = []
    for f in fields:
        plain = f.kind not in ("group", "list", "map", "pool_users", "schedule", "multi")
        if plain and out and out[-1]["plain"]:
            out[-1]["fields"].append(f)
        else:
            out.append({"plain": plain, "fields": [f]})
    return out


@bp.post("/s/<name>")
@admin_required
def save(name: str) -> Any:
    _known(name)
    page = current_page()
    svc = _services()
    stored = document.load(svc.db, page.member_id)
    cfg = PAGES.get(name, {})
    form = forms.FormData(request.form.items(multi=True))
    try:
        doc = forms.apply_form(stored, document.schema(), form, cfg.get("covers", (name,)))
    except (KeyError, ValueError, TypeError) as exc:  # a form not drawn by us
        log.info("settings form not understood", extra={"member_id": page.member_id, "error": str(exc)[:200]})
        raise PageDenied(400, "ui.error.bad_request", reason=t("ui.settings.form_broken", page.lang)) from exc
    expected = _form_version()
    drawn = expected if expected is not None else document.version(svc.db, page.member_id)
    portal = portal_dicts.dicts(svc, page.member_id)
    checked = forms.typed_passwords_masked(doc)
    _, issues = document.check(checked)
    issues = list(issues) + forms.portal_issues(checked, portal)
    if issues:
        return _section_page(page, name, doc, drawn, issues=issues, status=422)
    try:
        version = document.save(svc.db, page.member_id, doc, updated_by=f"user:{page.user_id}",
                                expected_version=expected, secrets=svc.secrets)
    except ConcurrentEdit as exc:
        log.info("concurrent settings edit refused", extra={"member_id": page.member_id, "section": name})
        return _section_page(page, name, doc, drawn, conflict=exc.current, status=409)
    except document.SettingsInvalid as exc:
        return _section_page(page, name, doc, drawn, issues=list(exc.issues), status=422)
    log.info("settings saved", extra={"member_id": page.member_id, "user_id": page.user_id, "section": name,
                                      "version": version})
    return redirect(url("settings_ui.section", name=name, saved=version), code=303)


# --- panels beside the forms ----------------------------------------------------------------------
def _panels(page: PageSession, name: str, doc: dict[str, Any]) -> dict[str, Any]:
    from b24app.web.views import settings_panels

    if name == "distribution":
        return settings_panels.distribution_panel(_services(), page, doc)
    if name == "contracts":
        return settings_panels.contracts_panel(_services(), page, doc)
    if name == "onec":
        return settings_panels.onec_panel(_services(), page, doc)
    return {}


def _back(name: str, **args: Any) -> Any:
    return redirect(url("settings_ui.section", name=name, **args), code=303)


@bp.post("/distribution/pause")
@admin_required
def pause() -> Any:
    from b24app.leads import store

    page = current_page()
    raw = (request.form.get("user_id") or "").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise PageDenied(400, "ui.error.bad_request", reason=t("ui.settings.pause_who", page.lang))
    reason = (request.form.get("reason") or "").strip()[:300]
    store.pause(_services().db, page.member_id, int(raw), by=page.user_id, reason=reason)
    log.info("manager paused", extra={"member_id": page.member_id, "user_id": int(raw), "by": page.user_id})
    return _back("distribution", done="paused")


@bp.post("/distribution/resume")
@admin_required
def resume() -> Any:
    from b24app.leads import store

    page = current_page()
    raw = (request.form.get("user_id") or "").strip()
    if not raw.isdigit():
        raise PageDenied(400, "ui.error.bad_request", reason=t("ui.settings.pause_who", page.lang))
    store.resume(_services().db, page.member_id, int(raw))
    return _back("distribution", done="resumed")


@bp.get("/contracts/preview.json")
@page_required
def contract_preview() -> Any:
    from b24app.web.views import settings_panels

    page = current_page()
    doc = document.load(_services().db, page.member_id)
    args = {k: request.args.get(k, "") for k in ("code", "format", "prefix", "reset", "sequence", "per_legal_entity",
                                                  "start", "step", "legal_entity")}
    return jsonify(settings_panels.number_preview(_services(), page, doc, args))


@bp.post("/contracts/template")
@admin_required
def template_upload() -> Any:
    from b24app.contracts.settings_section import CODE_PATTERN
    from b24app.contracts.templates import MAX_TEMPLATE_BYTES

    page = current_page()
    svc = _services()
    code = (request.form.get("code") or "").strip()
    title = (request.form.get("title") or "").strip()[:200]
    upload = request.files.get("file")
    problems: list[Issue] = []
    where = f"contracts.templates.{code or '?'}"
    if not re.fullmatch(CODE_PATTERN, code):
        problems.append(Issue(where, "код шаблона: латинские буквы, цифры и _, с буквы (2–32 символа)",
                              "template code: latin letters, digits and _, starting with a letter (2-32)"))
    data = upload.read(MAX_TEMPLATE_BYTES + 1) if upload is not None and upload.filename else b""
    if not data:
        problems.append(Issue(where, "выберите файл .docx", "choose a .docx file"))
    elif len(data) > MAX_TEMPLATE_BYTES:
        problems.append(Issue(where, "шаблон больше 5 МБ", "the template is larger than 5 MB"))
    doc = document.load(svc.db, page.member_id)
    version = _form_version()
    if not problems:
        contracts = dict(doc.get("contracts") or {})
        templates = dict(contracts.get("templates") or {})
        templates[code] = {"title": title or (upload.filename if upload else code), "path": "",
                           "base64": base64.b64encode(data).decode()}
        contracts["templates"] = templates
        doc["contracts"] = contracts
        _, issues = document.check(forms.typed_passwords_masked(doc))
        problems = [i for i in issues if i.path.startswith("contracts.templates")] or list(issues)
        if not problems:
            try:
                document.save(svc.db, page.member_id, doc, updated_by=f"user:{page.user_id}",
                              expected_version=version, secrets=svc.secrets)
            except ConcurrentEdit as exc:
                return _section_page(page, "contracts", document.load(svc.db, page.member_id), exc.current,
                                     conflict=exc.current, status=409)
            except document.SettingsInvalid as exc:
                problems = list(exc.issues)
            else:
                return _back("contracts", done="template")
    return _section_page(page, "contracts", document.load(svc.db, page.member_id),
                         document.version(svc.db, page.member_id), issues=problems, status=422)


@bp.post("/contracts/template/delete")
@admin_required
def template_delete() -> Any:
    page = current_page()
    svc = _services()
    code = (request.form.get("code") or "").strip()
    doc = document.load(svc.db, page.member_id)
    contracts = dict(doc.get("contracts") or {})
    templates = dict(contracts.get("templates") or {})
    if code not in templates:
        raise PageDenied(404, "ui.settings.no_template")
    templates.pop(code)
    contracts["templates"] = templates
    doc["contracts"] = contracts
    try:
        document.save(svc.db, page.member_id, doc, updated_by=f"user:{page.user_id}",
                      expected_version=_form_version(), secrets=svc.secrets)
    except ConcurrentEdit as exc:
        return _section_page(page, "contracts", document.load(svc.db, page.member_id), exc.current,
                             conflict=exc.current, status=409)
    except document.SettingsInvalid as exc:  # a type still names the template
        return _section_page(page, "contracts", document.load(svc.db, page.member_id),
                             document.version(svc.db, page.member_id), issues=list(exc.issues), status=422)
    return _back("contracts", done="template_deleted")


@bp.post("/onec/test")
@admin_required
def onec_test() -> Any:
    from b24app.web.views import settings_panels

    page = current_page()
    base = (request.form.get("base") or (request.get_json(silent=True) or {}).get("base") or "").strip()
    report, status = settings_panels.test_connection(_services(), page, base)
    return jsonify(report), status


@bp.get("/onec/status.json")
@admin_required
def onec_status() -> Any:
    from b24app.web.views import settings_panels

    page = current_page()
    doc = document.load(_services().db, page.member_id)
    return jsonify(settings_panels.onec_status(_services(), page, doc))


@bp.post("/onec/retry")
@admin_required
def onec_retry() -> Any:
    from b24app.web.views import settings_panels

    page = current_page()
    n = settings_panels.retry_dead_letters(_services(), page, (request.form.get("base") or "").strip() or None)
    return _back("onec", done="retried", n=n)


@bp.post("/onec/run")
@admin_required
def onec_run() -> Any:
    from b24app.web.views import settings_panels

    page = current_page()
    n = settings_panels.run_pulls(_services(), page, (request.form.get("base") or "").strip() or None)
    return _back("onec", done="queued", n=n)
