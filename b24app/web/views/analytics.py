"""Analytics pages: the dashboard, one page per report, exports, ad spend and the data page.

Who sees what: reports are open to portal administrators and to the users named in the setting
``analytics.viewers`` (everyone when that list is empty); entering spend and refreshing data are for
administrators (others see the spend read-only); the data page is for administrators only.
The portal is always the session's; filters come from the query string and never name a portal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, redirect, request
from markupsafe import Markup, escape

from b24app.analytics import export, pull, spend, svg
from b24app.analytics import reports as reports_mod
from b24app.analytics.filters import FilterError, Filters, parse
from b24app.analytics.tables import Column, Report
from b24app.messages import t
from b24app.web.auth import PageDenied, PageSession, admin_required, current_page, page_required, url
from b24app.web.views.layout import nav_item, num, render_page

bp = Blueprint("analytics", __name__, url_prefix="/app/analytics")

REPORT_ORDER = ("funnel", "managers", "channels", "stages", "clients", "lights")
NOTICES = {"saved": "ui.analytics.spend_saved", "deleted": "ui.analytics.spend_deleted",
           "queued": "ui.analytics.refresh_queued"}


def _services() -> Any:
    from flask import current_app

    return current_app.extensions["b24app"]


def _settings(page: PageSession) -> dict[str, Any]:
    from b24app.settings import document

    return document.load(_services().db, page.member_id)


def can_view(page: PageSession, settings: dict[str, Any] | None = None) -> bool:
    """Administrators, and the users of ``analytics.viewers`` (everyone when it is empty)."""
    if page.is_admin:
        return True
    viewers = ((settings if settings is not None else _settings(page)).get("analytics") or {}).get("viewers") or []
    return not viewers or page.user_id in [int(v) for v in viewers]


nav_item("analytics.dashboard", "ui.nav.analytics", order=30, visible=lambda p: can_view(p))
nav_item("analytics.data", "ui.nav.analytics_data", order=35, admin=True)


def _viewer() -> tuple[PageSession, dict[str, Any], str]:
    page = current_page()
    settings = _settings(page)
    if not can_view(page, settings):
        raise PageDenied(403, "ui.error.viewers_only")
    tz = str((settings.get("general") or {}).get("timezone") or "Europe/Moscow")
    return page, settings, tz


def _filters(tz: str) -> tuple[Filters, str | None]:
    try:
        return parse(request.args, tz), None
    except FilterError as exc:
        return Filters(tz=tz), t("ui.error.filter", current_page().lang, reason=str(exc))


def _build(name: str, f: Filters, settings: dict[str, Any]) -> Report:
    return reports_mod.build(name, _services().db, current_page().member_id, f, settings.get("analytics") or {})


# --- rendering helpers ---------------------------------------------------------------------------
def cell_html(value: Any, column: Column, lang: str) -> Markup:
    if column.kind == "light" and value:
        return Markup(f'<span class="light light-{escape(value)}" data-light="{escape(value)}"></span> '
                      f'{escape(t("analytics.light." + str(value), lang))}')
    if column.kind in ("yesno", "reasons", "status"):
        return Markup(escape(export.cell(value, column, lang) or "")) if value not in (None, "") else Markup("")
    if column.kind == "date":
        from b24app.web.views.layout import date_text

        return Markup(escape(date_text(value, lang)))
    if column.kind == "text" or isinstance(value, str):
        return Markup(escape("—" if value in (None, "") else value))
    return Markup(escape(num(value, column.kind, lang)))


def chart_svg(report: Report, spec: dict[str, Any], lang: str) -> Markup:
    table = report.table(spec["table"])
    if spec["kind"] == "funnel":
        row = table.rows[0] if table.rows else {}
        cols = {c.key: c for c in table.columns}
        items = [(cols[k].title(lang), float(row.get(k) or 0)) for k in spec["values"]]
        return Markup(svg.funnel(items, title=table.title(lang), fmt=lambda v: num(v, "int", lang),
                                 chart_id=f"chart-{table.name}"))
    col = next(c for c in table.columns if c.key == spec["value"])
    rows = table.rows[: spec.get("limit", 30)]
    items = [(str(r.get(spec["label"]) or "—"), r.get(spec["value"])) for r in rows]
    title = f"{table.title(lang)}: {col.title(lang)}"
    return Markup(svg.bars(items, title=title, fmt=lambda v: num(v, col.kind, lang),
                           chart_id=f"chart-{table.name}-{col.key}"))


def _choices(page: PageSession) -> dict[str, list[tuple[str, str]]]:
    db = _services().db
    m = page.member_id
    managers = db.query("SELECT id, name FROM analytics_users WHERE member_id = ? ORDER BY active DESC, name", (m,))
    sources = db.query("SELECT status_id, name FROM analytics_statuses WHERE member_id = ? AND entity_id = 'SOURCE' "
                       "ORDER BY sort", (m,))
    cats = db.query("SELECT id, name FROM analytics_categories WHERE member_id = ? ORDER BY sort, id", (m,))
    companies = db.query(
        "SELECT c.id, c.title FROM analytics_companies c WHERE c.member_id = ? AND c.is_my_company = 0 AND EXISTS "
        "(SELECT 1 FROM analytics_deals d WHERE d.member_id = c.member_id AND d.company_id = c.id) "
        "ORDER BY c.title LIMIT 500", (m,))
    return {"manager": [(str(r["id"]), r["name"]) for r in managers],
            "source": [(r["status_id"], r["name"]) for r in sources],
            "category": [(str(r["id"]), r["name"]) for r in cats],
            "company": [(str(r["id"]), r["title"]) for r in companies]}


def _refreshed_text(lang: str, tz: str) -> str:
    summary = pull.last_summary(_services().db, current_page().member_id)
    at = summary.get("refreshed_at")
    if not at:
        return t("ui.analytics.never", lang)
    when = dt.datetime.fromtimestamp(float(at), ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M")
    return t("ui.analytics.refreshed", lang, when=when)


def _report_nav(f: Filters) -> list[dict[str, str]]:
    lang = current_page().lang
    return [{"name": n, "title": t(f"analytics.report.{n}", lang), "url": url("analytics.report", name=n,
                                                                             **f.query_args())}
            for n in REPORT_ORDER]


# --- pages ---------------------------------------------------------------------------------------
@bp.get("")
@page_required
def dashboard() -> Any:
    page, settings, tz = _viewer()
    f, error = _filters(tz)
    funnel = _build("funnel", f, settings)
    managers = _build("managers", f, settings)
    channels = _build("channels", f, settings)
    lights = _build("lights", f, settings)
    charts = [chart_svg(funnel, funnel.charts[0], page.lang), chart_svg(managers, managers.charts[0], page.lang),
              chart_svg(channels, channels.charts[1], page.lang)]
    return render_page("analytics/dashboard.html", title=t("ui.analytics.title", page.lang), filters=f,
                       filter_error=error, choices=_choices(page), funnel=funnel, lights=lights, charts=charts,
                       reports=_report_nav(f), refreshed=_refreshed_text(page.lang, tz), cell=cell_html,
                       form_action=url("analytics.dashboard"))


@bp.get("/r/<name>")
@page_required
def report(name: str) -> Any:
    page, settings, tz = _viewer()
    if name not in reports_mod.REPORTS:
        raise PageDenied(404, "ui.error.not_found")
    f, error = _filters(tz)
    rep = _build(name, f, settings)
    charts = [chart_svg(rep, spec, page.lang) for spec in rep.charts]
    args = f.query_args()
    exports = {tbl.name: url("analytics.table_csv", name=name, table=tbl.name, **args) for tbl in rep.tables}
    return render_page("analytics/report.html", title=rep.title(page.lang), report=rep, filters=f,
                       filter_error=error, choices=_choices(page), charts=charts, exports=exports,
                       xlsx=url("analytics.report_xlsx", name=name, **args), reports=_report_nav(f),
                       refreshed=_refreshed_text(page.lang, tz), cell=cell_html,
                       form_action=url("analytics.report", name=name))


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    resp = Response(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp


@bp.get("/r/<name>.xlsx")
@page_required
def report_xlsx(name: str) -> Any:
    page, settings, tz = _viewer()
    if name not in reports_mod.REPORTS:
        raise PageDenied(404, "ui.error.not_found")
    f, _error = _filters(tz)
    rep = _build(name, f, settings)
    data = export.to_xlsx(rep, page.lang, filters_text=", ".join(f"{k}={v}" for k, v in f.public().items()))
    return _download(data, f"{name}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/r/<name>/<table>.csv")
@page_required
def table_csv(name: str, table: str) -> Any:
    page, settings, tz = _viewer()
    if name not in reports_mod.REPORTS:
        raise PageDenied(404, "ui.error.not_found")
    f, _error = _filters(tz)
    rep = _build(name, f, settings)
    try:
        tbl = rep.table(table)
    except KeyError:
        abort(404)
    return _download(export.to_csv(tbl, page.lang), f"{name}-{table}.csv", "text/csv")


# --- ad spend ------------------------------------------------------------------------------------
@bp.get("/spend")
@page_required
def spend_page() -> Any:
    page, _settings_doc, tz = _viewer()
    rows = spend.listing(_services().db, page.member_id)
    sources = _choices(page)["source"]
    notice = None
    key = NOTICES.get(request.args.get("msg", ""))
    if key:
        notice = t(key, page.lang, n=request.args.get("n", ""), job=request.args.get("job", ""))
    error = request.args.get("error")
    return render_page("analytics/spend.html", title=t("ui.analytics.spend", page.lang), rows=rows, sources=sources,
                       notice=notice, error=t("ui.analytics.spend_error", page.lang, reason=error) if error else None,
                       can_edit=page.is_admin, csv_url=url("analytics.spend_csv"), reports=_report_nav(Filters(tz=tz)))


@bp.get("/spend.csv")
@page_required
def spend_csv() -> Any:
    page, _settings_doc, _tz = _viewer()
    data = ("\ufeff" + spend.to_csv(spend.listing(_services().db, page.member_id))).encode("utf-8")
    return _download(data, "spend.csv", "text/csv")


def _tz() -> str:
    return str((_settings(current_page()).get("general") or {}).get("timezone") or "Europe/Moscow")


def _back(**args: Any) -> Any:
    return redirect(url("analytics.spend_page", **args), code=303)


@bp.post("/spend")
@admin_required
def spend_save() -> Any:
    page = current_page()
    try:
        item = spend.check(request.form.get("source", ""), request.form.get("month", ""), request.form.get("amount", ""))
    except ValueError as exc:
        return _back(error=str(exc))
    n = spend.save(_services().db, page.member_id, [item], tz=_tz(), by=f"user_{page.user_id}")
    return _back(msg="saved", n=n)


@bp.post("/spend/import")
@admin_required
def spend_import() -> Any:
    page = current_page()
    upload = request.files.get("file")
    if upload is None:
        return _back(error="no file")
    try:
        items = spend.parse_csv(upload.read().decode("utf-8-sig"))
    except UnicodeDecodeError:
        return _back(error="the file is not UTF-8 text")
    except spend.SpendError as exc:
        return _back(error="; ".join(exc.lines[:5]))
    n = spend.save(_services().db, page.member_id, items, tz=_tz(), by=f"user_{page.user_id}")
    return _back(msg="saved", n=n)


@bp.post("/spend/delete")
@admin_required
def spend_delete() -> Any:
    page = current_page()
    spend.delete(_services().db, page.member_id, request.form.get("source", ""), request.form.get("month", ""))
    return _back(msg="deleted")


# --- data (administrators) -----------------------------------------------------------------------
@bp.get("/data")
@admin_required
def data() -> Any:
    from b24app.store import sync_state

    page = current_page()
    tz = _tz()
    db = _services().db
    summary = pull.last_summary(db, page.member_id)
    streams = [s for s in sync_state.list_streams(db, page.member_id) if s["stream"].startswith("analytics:")]
    for s in streams:
        at = (s.get("state") or {}).get("synced_at")
        s["synced"] = dt.datetime.fromtimestamp(float(at), ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M") if at else "—"
    key = NOTICES.get(request.args.get("msg", ""))
    notice = t(key, page.lang, n="", job=request.args.get("job", "")) if key else None
    return render_page("analytics/data.html", title=t("ui.analytics.data_title", page.lang), summary=summary,
                       streams=streams, refreshed=_refreshed_text(page.lang, tz), notice=notice)


@bp.post("/refresh")
@admin_required
def refresh() -> Any:
    from b24app.analytics.plugin import enqueue_refresh

    page = current_page()
    job_id = enqueue_refresh(_services(), page.member_id, reason=f"user_{page.user_id}")
    return redirect(url("analytics.data", msg="queued", job=job_id), code=303)


def home_summary() -> dict[str, Any] | None:
    """Key figures for the home page (None when the user may not see reports)."""
    page = current_page()
    settings = _settings(page)
    if not can_view(page, settings):
        return None
    tz = str((settings.get("general") or {}).get("timezone") or "Europe/Moscow")
    from b24app.analytics.reports.funnel import lead_funnel

    rows = lead_funnel(_services().db, page.member_id, Filters(tz=tz)).rows
    return {"funnel": rows[0] if rows else {}, "url": url("analytics.dashboard"),
            "refreshed": _refreshed_text(page.lang, tz)}
