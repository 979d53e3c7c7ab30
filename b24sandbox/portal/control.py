"""The control API under ``/_sandbox/`` (JSON in, JSON out). Reference: docs/sandbox.md."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, request

from . import apps as apps_mod
from . import events as events_mod
from . import robots as robots_mod
from .api import Call
from .auth import ALL_SCOPES
from .platform_methods import app_view
from .runtime import PortalExists
from .storage import jdump, jload

if TYPE_CHECKING:
    from .portal import Portal
    from .runtime import Sandbox

bp = Blueprint("b24sandbox_control", __name__, url_prefix="/_sandbox")


def _sb() -> Sandbox:
    return current_app.extensions["b24sandbox"]  # type: ignore[no-any-return]


def ok(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status,
                    content_type="application/json; charset=utf-8")


def fail(code: str, text: str, status: int = 400) -> Response:
    return ok({"error": code, "error_description": text}, status)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _portal(m: str) -> Portal | None:
    sb = _sb()
    return sb.get_portal(m) or sb.portal_by_domain(m)


class _NoPortal(Exception):
    pass


def portal_or_404(m: str) -> Portal:
    p = _portal(m)
    if p is None:
        raise _NoPortal(m)
    return p


@bp.errorhandler(_NoPortal)
def _no_portal(exc: _NoPortal) -> Response:
    return fail("PORTAL_NOT_FOUND", f"no portal {exc.args[0]}", 404)


@bp.errorhandler(apps_mod.AppError)
def _app_error(exc: apps_mod.AppError) -> Response:
    return fail("APP_ERROR", str(exc), exc.status)


# -- server-wide -------------------------------------------------------------------------------------


@bp.get("/")
def index() -> Response:
    sb = _sb()
    return ok({"server_endpoint": sb.server_endpoint, "oauth_url": sb.oauth_url,
               "portals": [p.info() for p in sb.portals.values()], "clock": sb.clock.state()})


@bp.get("/clock")
def clock_get() -> Response:
    return ok(_sb().clock.state())


@bp.put("/clock")
def clock_put() -> Response:
    sb = _sb()
    b = _body()
    now = None
    if b.get("now"):
        try:
            now = dt.datetime.fromisoformat(str(b["now"]).replace("Z", "+00:00"))
        except ValueError:
            return fail("BAD_REQUEST", "now must be an ISO 8601 date-time")
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
    frozen = b.get("frozen")
    sb.clock.set(offset_s=float(b["offset_s"]) if "offset_s" in b and now is None else None, now=now,
                 frozen=None if frozen is None else bool(frozen))
    sb.save_clock()
    for p in list(sb.portals.values()):
        robots_mod.expire_runs(p)
    return ok(sb.clock.state())


@bp.post("/wait-deliveries")
def wait_deliveries() -> Response:
    sb = _sb()
    timeout = float(_body().get("timeout_s") or 10)
    idle = sb.sender.wait_idle(timeout)
    return ok({"idle": idle, "pending": sb.sender.pending})


# -- portals ----------------------------------------------------------------------------------------------


@bp.get("/portals")
def portals_list() -> Response:
    return ok([p.info() for p in _sb().portals.values()])


@bp.post("/portals")
def portals_create() -> Response:
    sb = _sb()
    b = _body()
    domain = str(b.get("domain") or "").strip()
    if not domain or "/" in domain:
        return fail("BAD_REQUEST", "domain is required (a host name such as metalprom.bitrix24.ru)")
    try:
        p = sb.create_portal(domain, plan=str(b.get("plan") or "standard"), seed=str(b.get("seed") or "empty"),
                             member_id=b.get("member_id"), params=b.get("params") or b.get("seed_params"),
                             timezone=b.get("timezone"))
    except PortalExists:
        return fail("PORTAL_EXISTS", f"portal {domain} already exists", 409)
    except ValueError as exc:
        return fail("BAD_REQUEST", str(exc))
    return ok({"member_id": p.member_id, "domain": p.domain, "rest_url": p.client_endpoint,
               "oauth_url": sb.oauth_url, "server_endpoint": sb.server_endpoint,
               "admin_user_id": p.admin_user_id, "plan": p.plan}, 201)


@bp.get("/portals/<m>")
def portal_get(m: str) -> Response:
    p = portal_or_404(m)
    info = p.info()
    info.update({"limits": p.limits.to_dict(), "bucket": p.bucket.state(p.limits), "faults": p.faults.to_dict(),
                 "apps": [a["client_id"] for a in p.apps()]})
    return ok(info)


@bp.delete("/portals/<m>")
def portal_delete(m: str) -> Response:
    p = portal_or_404(m)
    _sb().delete_portal(p.member_id)
    return ok({"deleted": True})


# -- webhooks ---------------------------------------------------------------------------------------------


@bp.post("/portals/<m>/webhooks")
def webhook_create(m: str) -> Response:
    p = portal_or_404(m)
    b = _body()
    uid = int(b.get("user_id") or p.admin_user_id)
    if p.user(uid) is None:
        return fail("USER_NOT_FOUND", f"no user {uid} on {p.domain}", 400)
    scopes = b.get("scopes") or list(ALL_SCOPES)
    if isinstance(scopes, str):
        scopes = [s.strip() for s in scopes.split(",") if s.strip()]
    code = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(16))
    with p.lock:
        wid = p.db["sb_webhooks"].insert({"user_id": uid, "code": code, "scopes": ",".join(scopes), "active": 1,
                                          "created": p.time(), "title": str(b.get("title") or "")}).last_pk
    return ok({"url": f"{p.portal_url}/rest/{uid}/{code}/", "id": wid, "user_id": uid, "code": code,
               "scopes": scopes}, 201)


@bp.get("/portals/<m>/webhooks")
def webhook_list(m: str) -> Response:
    p = portal_or_404(m)
    with p.lock:
        rows = [dict(r) for r in p.db["sb_webhooks"].rows_where(order_by="id")]
    return ok([{"id": r["id"], "user_id": r["user_id"], "url": f"{p.portal_url}/rest/{r['user_id']}/{r['code']}/",
                "scopes": (r["scopes"] or "").split(","), "active": bool(r["active"])} for r in rows])


# -- apps ---------------------------------------------------------------------------------------------------


@bp.post("/portals/<m>/apps")
def app_register(m: str) -> Response:
    p = portal_or_404(m)
    app = apps_mod.register(p, _body())
    return ok(app_view(p, app), 201)


@bp.get("/portals/<m>/apps")
def app_list(m: str) -> Response:
    p = portal_or_404(m)
    return ok([app_view(p, a) for a in p.apps()])


@bp.get("/portals/<m>/apps/<client_id>")
def app_get(m: str, client_id: str) -> Response:
    p = portal_or_404(m)
    app = p.app(client_id)
    if app is None:
        return fail("APP_NOT_FOUND", f"app {client_id} is not registered", 404)
    return ok(app_view(p, app))


@bp.post("/portals/<m>/apps/<client_id>/install")
def app_install(m: str, client_id: str) -> Response:
    p = portal_or_404(m)
    res = apps_mod.install(p, client_id, _body().get("user_id"))
    return ok(res, 200 if res.get("installed") else 502)


@bp.post("/portals/<m>/apps/<client_id>/update")
def app_update(m: str, client_id: str) -> Response:
    p = portal_or_404(m)
    return ok(apps_mod.update(p, client_id, _body().get("user_id")))


@bp.post("/portals/<m>/apps/<client_id>/uninstall")
def app_uninstall(m: str, client_id: str) -> Response:
    p = portal_or_404(m)
    return ok(apps_mod.uninstall(p, client_id, bool(_body().get("clean"))))


@bp.post("/portals/<m>/apps/<client_id>/open")
def app_open(m: str, client_id: str) -> Response:
    p = portal_or_404(m)
    b = _body()
    return ok(apps_mod.open_page(p, client_id, placement=str(b.get("placement") or "DEFAULT"),
                                 options=b.get("options"), user_id=b.get("user_id"), handler=b.get("handler")))


# -- automation and robots --------------------------------------------------------------------------------------


@bp.post("/portals/<m>/automation")
def automation_add(m: str) -> Response:
    p = portal_or_404(m)
    try:
        return ok(robots_mod.add_rule(p, _body()), 201)
    except LookupError as exc:
        return fail("ROBOT_NOT_FOUND", str(exc), 404)
    except ValueError as exc:
        return fail("BAD_REQUEST", str(exc))


@bp.get("/portals/<m>/automation")
def automation_list(m: str) -> Response:
    return ok(robots_mod.rules(portal_or_404(m)))


@bp.delete("/portals/<m>/automation/<int:rule_id>")
def automation_delete(m: str, rule_id: int) -> Response:
    return ok({"deleted": robots_mod.delete_rule(portal_or_404(m), rule_id)})


@bp.get("/portals/<m>/robot-runs")
def robot_runs(m: str) -> Response:
    runs = robots_mod.runs(portal_or_404(m))
    state = request.args.get("state")
    if state:
        runs = [r for r in runs if r["state"] == state]
    return ok(runs)


@bp.get("/portals/<m>/robot-runs/<int:run_id>")
def robot_run(m: str, run_id: int) -> Response:
    for r in robots_mod.runs(portal_or_404(m)):
        if r["id"] == run_id:
            return ok(r)
    return fail("NOT_FOUND", f"no robot run {run_id}", 404)


@bp.post("/portals/<m>/stage-entered")
def stage_entered(m: str) -> Response:
    """Run a stage's automation rules as the CRM methods do (for tests of robots alone)."""
    p = portal_or_404(m)
    b = _body()
    from .outbound import hit_scope

    with hit_scope(p), p.lock:
        ids = robots_mod.stage_entered(p, str(b.get("entity") or "deal"), int(b.get("id") or 0),
                                       int(b.get("category_id") or 0), str(b.get("stage_id") or ""), None)
    return ok({"run_ids": ids})


@bp.post("/portals/<m>/fire-event")
def fire_event(m: str) -> Response:
    """Fire an event as if the portal (or ``user_id`` in the portal's UI) changed something."""
    p = portal_or_404(m)
    b = _body()
    name = str(b.get("event") or "")
    if not name:
        return fail("BAD_REQUEST", "event is required")
    call = None
    if b.get("user_id"):
        call = Call(method="ui", params={}, portal=p, user_id=int(b["user_id"]), auth_kind="ui")
    from .outbound import hit_scope

    with hit_scope(p), p.lock:
        events_mod.fire(p, name, b.get("data") or {}, call)
    return ok({"fired": name.upper()})


# -- limits, faults, tokens -----------------------------------------------------------------------------------------


@bp.get("/portals/<m>/limits")
def limits_get(m: str) -> Response:
    p = portal_or_404(m)
    return ok(dict(p.limits.to_dict(), bucket=p.bucket.state(p.limits)))


@bp.put("/portals/<m>/limits")
def limits_put(m: str) -> Response:
    p = portal_or_404(m)
    b = _body()
    p.limits.update(b)
    if b.get("reset"):
        p.bucket.reset()
        p.budget.reset()
    p.save_settings()
    return ok(dict(p.limits.to_dict(), bucket=p.bucket.state(p.limits)))


@bp.get("/portals/<m>/faults")
def faults_get(m: str) -> Response:
    return ok(portal_or_404(m).faults.to_dict())


@bp.put("/portals/<m>/faults")
def faults_put(m: str) -> Response:
    p = portal_or_404(m)
    p.faults.update(_body())
    p.save_settings()
    return ok(p.faults.to_dict())


@bp.post("/portals/<m>/expire-tokens")
def expire_tokens(m: str) -> Response:
    p = portal_or_404(m)
    return ok({"expired": _sb().tokens.expire_portal(p.member_id)})


@bp.get("/portals/<m>/oauth-stats")
def oauth_stats(m: str) -> Response:
    p = portal_or_404(m)
    return ok(_sb().tokens.stats(p.member_id))


# -- logs ------------------------------------------------------------------------------------------------------------


def _since() -> int:
    try:
        return int(request.args.get("since") or 0)
    except ValueError:
        return 0


@bp.get("/portals/<m>/deliveries")
def deliveries(m: str) -> Response:
    p = portal_or_404(m)
    where = "id > ?"
    args: list[Any] = [_since()]
    for name in ("kind", "event", "client_id"):
        if request.args.get(name):
            where += f" AND {name} = ?"
            args.append(request.args[name])
    with p.log_lock:
        rows = [dict(r) for r in p.log_db["sb_deliveries"].rows_where(where, args, order_by="id")]
    out = []
    for r in rows:
        r["ok"] = bool(r["ok"])
        r["body"] = jload(r["body"], {})
        out.append(r)
    return ok(out)


@bp.get("/portals/<m>/requests")
def requests_log(m: str) -> Response:
    p = portal_or_404(m)
    where = "id > ?"
    args: list[Any] = [_since()]
    for name in ("method", "client_id", "auth_kind"):
        if request.args.get(name):
            where += f" AND {name} = ?"
            args.append(request.args[name])
    with p.log_lock:
        rows = [dict(r) for r in p.log_db["sb_requests"].rows_where(where, args, order_by="id")]
    for r in rows:
        r["sub_calls"] = jload(r["sub_calls"], None)
        r["time"] = dt.datetime.fromtimestamp(r["ts"], tz=p.tz).isoformat()
    return ok(rows)


@bp.get("/portals/<m>/events/offline")
def offline_events(m: str) -> Response:
    return ok(events_mod.offline_queue(portal_or_404(m)))


def register_blueprints(app: Any) -> None:
    app.register_blueprint(bp)


__all__ = ["bp", "jdump", "register_blueprints"]
