"""Applications on a portal: registration, the install flow, update, uninstall, page opens.

Install (reference §1.2-1.4):

- *with UI*: the admin opens the app: the portal POSTs the app page to ``install_url`` (query
  ``DOMAIN, PROTOCOL, LANG, APP_SID``; form ``AUTH_ID, AUTH_EXPIRES, REFRESH_ID, SERVER_ENDPOINT,
  member_id, status, PLACEMENT=DEFAULT, PLACEMENT_OPTIONS, APPLICATION_TOKEN, APPLICATION_SCOPE``).
  While that page runs the app is *not installed* (``app.info`` says ``INSTALLED: false``, no events
  are sent to it) but its tokens work, so it can bind events and robots. The sandbox takes
  ``installFinish()`` as called when the page answers 200; then the app is installed and
  ``ONAPPINSTALL`` (with ``refresh_token``) goes to the handlers the app bound for it.
- *without UI*: the app is installed at once and ``ONAPPINSTALL`` is POSTed to ``install_url``
  (the portal registers that URL as the app's ``ONAPPINSTALL`` handler, as the real one does).

Update bumps the version, deletes the app's robots and activities (as ``onRestAppUpdate`` does),
runs the installer again (the app page for UI apps, ``ONAPPINSTALL`` to ``install_url`` otherwise)
and sends ``ONAPPUPDATE`` (with tokens) to bound handlers. Uninstall sends ``ONAPPUNINSTALL``
(no tokens, ``CLEAN``) to bound handlers, then removes handlers, placements, robots, offline
events and revokes every token; app options go with ``clean`` (always for local apps).
``application_token`` is generated once per (portal, app) and stays the same.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, Any

from .outbound import DeliveryResult, OutboundJob
from .phpjson import dumps
from .storage import jdump, jload
from .tokens import TokenPair

if TYPE_CHECKING:
    from .portal import Portal


class AppError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def app_scopes(app: dict[str, Any]) -> list[str]:
    return [str(s) for s in (jload(app.get("scopes"), []) or [])]


def scope_string(app: dict[str, Any]) -> str:
    return ",".join(app_scopes(app))


def register(portal: Portal, data: dict[str, Any]) -> dict[str, Any]:
    """Register (or re-register) an app on the portal (not installed yet)."""
    client_id = str(data.get("client_id") or "").strip()
    if not client_id:
        raise AppError("client_id is required")
    install_url = str(data.get("install_url") or data.get("handler") or "").strip()
    if not install_url:
        raise AppError("install_url is required")
    scopes = data.get("scopes") or []
    if isinstance(scopes, str):
        scopes = [s.strip() for s in scopes.split(",") if s.strip()]
    status = data.get("status") or ("L" if client_id.startswith("local.") else "F")
    now = portal.time()
    with portal.lock:
        existing = portal.app(client_id)
        row = {
            "client_id": client_id,
            "client_secret": str(data.get("client_secret") or ""),
            "install_url": install_url,
            "redirect_uri": str(data.get("redirect_uri") or install_url),
            "app_url": str(data.get("app_url") or install_url),
            "scopes": jdump([str(s) for s in scopes]),
            "ui": int(bool(data.get("ui", True))),
            "status": str(status),
            "lang": str(data.get("lang") or portal.lang),
        }
        if existing:
            portal.db["sb_apps"].update(existing["id"], row)
        else:
            row.update({"version": int(data.get("version") or 1), "installed": 0, "active": 1,
                        "application_token": "", "installed_at": None, "installed_by": None, "created": now})
            portal.db["sb_apps"].insert(row)
    app = portal.app(client_id)
    assert app is not None
    return app


def application_token(portal: Portal, app: dict[str, Any]) -> str:
    """The per-(portal, app) constant ``application_token`` (created on first use)."""
    if app.get("application_token"):
        return str(app["application_token"])
    tok = hashlib.md5(f"{portal.member_id}|{app['id']}|{app['client_secret']}|{secrets.token_hex(8)}"
                      .encode()).hexdigest()
    with portal.lock:
        portal.db["sb_apps"].update(app["id"], {"application_token": tok})
    app["application_token"] = tok
    return tok


def auth_block(portal: Portal, app: dict[str, Any], pair: TokenPair | None, *,
               with_refresh: bool = False) -> dict[str, Any]:
    """The ``auth`` part of an outbound POST: with a user's token, or (pair None) without one."""
    sb = portal.sandbox
    if pair is None:
        return {
            "domain": portal.domain,
            "client_endpoint": portal.client_endpoint,
            "server_endpoint": sb.server_endpoint,
            "member_id": portal.member_id,
            "application_token": application_token(portal, app),
        }
    out: dict[str, Any] = {
        "access_token": pair.access_token,
        "expires": str(pair.expires),
        "expires_in": str(pair.expires_in),
        "scope": pair.scope,
        "domain": portal.domain,
        "server_endpoint": sb.server_endpoint,
        "status": app.get("status") or "L",
        "client_endpoint": portal.client_endpoint,
        "member_id": portal.member_id,
        "user_id": str(pair.user_id),
    }
    if with_refresh and pair.refresh_token:
        out["refresh_token"] = pair.refresh_token
    out["application_token"] = application_token(portal, app)
    return out


def issue_pair(portal: Portal, app: dict[str, Any], user_id: int) -> TokenPair:
    return portal.sandbox.tokens.issue(portal.member_id, app["client_id"], int(user_id), scope_string(app))


def handlers_of(portal: Portal, app: dict[str, Any], event: str) -> list[dict[str, Any]]:
    with portal.lock:
        return [dict(r) for r in portal.db["sb_event_handlers"].rows_where(
            "client_id = ? AND event = ? AND offline = 0", [app["client_id"], event], order_by="id")]


def _lifecycle_jobs(portal: Portal, app: dict[str, Any], event: str, data: dict[str, Any], *,
                    with_tokens: bool, user_id: int) -> list[OutboundJob]:
    jobs = []
    for h in handlers_of(portal, app, event):
        pair = issue_pair(portal, app, user_id) if with_tokens else None
        form = {
            "event": event,
            "event_handler_id": str(h["id"]),
            "data": data,
            "ts": str(int(portal.time())),
            "auth": auth_block(portal, app, pair, with_refresh=True),
        }
        jobs.append(OutboundJob("lifecycle", h["handler"], form, event=event, client_id=app["client_id"]))
    return jobs


def _deliver_all(portal: Portal, jobs: list[OutboundJob]) -> list[dict[str, Any]]:
    out = []
    for job in jobs:
        r = portal.sandbox.sender.deliver(portal, job)
        out.append({"event": job.event, "url": job.url, "status": r.status, "error": r.error,
                    "delivery_id": r.delivery_id})
    return out


def page_post(portal: Portal, app: dict[str, Any], user_id: int, url: str, *, placement: str = "DEFAULT",
              options: Any = None, kind: str = "app_page") -> DeliveryResult:
    """The POST a browser makes into the app's iframe (app page, installer or widget)."""
    pair = issue_pair(portal, app, user_id)
    query = {"DOMAIN": portal.domain, "PROTOCOL": str(portal.protocol), "LANG": app.get("lang") or portal.lang,
             "APP_SID": secrets.token_hex(16)}
    form = {
        "AUTH_ID": pair.access_token,
        "AUTH_EXPIRES": str(pair.expires_in),
        "REFRESH_ID": pair.refresh_token,
        "SERVER_ENDPOINT": portal.sandbox.server_endpoint,
        "member_id": portal.member_id,
        "status": app.get("status") or "L",
        "PLACEMENT": placement,
        "PLACEMENT_OPTIONS": dumps(options if options is not None else []),
        "APPLICATION_TOKEN": application_token(portal, app),
        "APPLICATION_SCOPE": scope_string(app),
    }
    job = OutboundJob(kind, url, form, event=placement, client_id=app["client_id"], query=query)
    return portal.sandbox.sender.deliver(portal, job)


def _ensure_installer_handler(portal: Portal, app: dict[str, Any]) -> None:
    """For apps without UI the portal binds ``ONAPPINSTALL`` to ``install_url`` itself."""
    with portal.lock:
        exists = next(portal.db["sb_event_handlers"].rows_where(
            "client_id = ? AND event = 'ONAPPINSTALL' AND handler = ? AND offline = 0",
            [app["client_id"], app["install_url"]]), None)
        if exists is None:
            portal.db["sb_event_handlers"].insert({
                "client_id": app["client_id"], "event": "ONAPPINSTALL", "handler": app["install_url"],
                "auth_type": 0, "offline": 0, "connector_id": "", "options": "{}", "created_by": 0,
                "created": portal.time(), "system": 1,
            })


def install(portal: Portal, client_id: str, user_id: int | None = None) -> dict[str, Any]:
    app = portal.app(client_id)
    if app is None:
        raise AppError(f"app {client_id} is not registered on {portal.domain}", 404)
    uid = int(user_id or portal.admin_user_id)
    application_token(portal, app)
    with portal.lock:
        portal.db["sb_apps"].update(app["id"], {"installed": 0, "active": 1, "installed_by": uid})
    app = portal.app(client_id)
    assert app is not None
    page: DeliveryResult | None = None
    if app["ui"]:
        page = page_post(portal, app, uid, app["install_url"], kind="install_page")
        if page.status != 200:
            return {"installed": False, "page_status": page.status, "error": page.error or
                    f"the install page answered {page.status}", "delivery_id": page.delivery_id}
    else:
        _ensure_installer_handler(portal, app)
    with portal.lock:
        portal.db["sb_apps"].update(app["id"], {"installed": 1, "installed_at": portal.time()})
    app = portal.app(client_id)
    assert app is not None
    data = {"VERSION": str(app["version"]), "ACTIVE": "Y", "INSTALLED": "Y",
            "LANGUAGE_ID": app.get("lang") or portal.lang}
    sent = _deliver_all(portal, _lifecycle_jobs(portal, app, "ONAPPINSTALL", data, with_tokens=True, user_id=uid))
    return {"installed": True, "application_token": app["application_token"],
            "page_status": page.status if page else None, "onappinstall": sent}


def update(portal: Portal, client_id: str, user_id: int | None = None) -> dict[str, Any]:
    app = portal.app(client_id)
    if app is None:
        raise AppError(f"app {client_id} is not registered on {portal.domain}", 404)
    if not app["installed"]:
        raise AppError(f"app {client_id} is not installed", 409)
    uid = int(user_id or portal.admin_user_id)
    old = int(app["version"] or 1)
    with portal.lock:
        portal.db["sb_apps"].update(app["id"], {"version": old + 1})
        portal.db.execute("DELETE FROM sb_activities WHERE client_id = ?", [client_id])
        portal.db.conn.commit()
    app = portal.app(client_id)
    assert app is not None
    result: dict[str, Any] = {"installed": True, "updated": True, "version": old + 1}
    if app["ui"]:
        page = page_post(portal, app, uid, app["install_url"], kind="install_page")
        result["page_status"] = page.status
    else:
        _ensure_installer_handler(portal, app)
        data = {"VERSION": str(app["version"]), "ACTIVE": "Y", "INSTALLED": "Y",
                "LANGUAGE_ID": app.get("lang") or portal.lang}
        result["onappinstall"] = _deliver_all(portal, _lifecycle_jobs(
            portal, app, "ONAPPINSTALL", data, with_tokens=True, user_id=uid))
    data = {"VERSION": str(app["version"]), "PREVIOUS_VERSION": str(old),
            "LANGUAGE_ID": app.get("lang") or portal.lang}
    result["onappupdate"] = _deliver_all(portal, _lifecycle_jobs(
        portal, app, "ONAPPUPDATE", data, with_tokens=True, user_id=uid))
    return result


def uninstall(portal: Portal, client_id: str, clean: bool = False) -> dict[str, Any]:
    app = portal.app(client_id)
    if app is None:
        raise AppError(f"app {client_id} is not registered on {portal.domain}", 404)
    data = {"LANGUAGE_ID": app.get("lang") or portal.lang, "CLEAN": 1 if clean else 0}
    jobs = _lifecycle_jobs(portal, app, "ONAPPUNINSTALL", data, with_tokens=False, user_id=0)
    portal.sandbox.tokens.revoke_app(portal.member_id, client_id)
    with portal.lock:
        for table in ("sb_event_handlers", "sb_placements", "sb_activities", "sb_offline_events"):
            portal.db.execute(f"DELETE FROM {table} WHERE client_id = ?", [client_id])
        if clean or (app.get("status") == "L"):
            portal.db.execute("DELETE FROM sb_app_options WHERE client_id = ?", [client_id])
        portal.db.conn.commit()
        portal.db["sb_apps"].update(app["id"], {"installed": 0})
    sent = _deliver_all(portal, jobs)
    return {"installed": False, "onappuninstall": sent}


def open_page(portal: Portal, client_id: str, *, placement: str = "DEFAULT", options: Any = None,
              user_id: int | None = None, handler: str | None = None) -> dict[str, Any]:
    """A user opens the app (``DEFAULT``) or one of its widgets: the iframe POST, answered by the app."""
    app = portal.app(client_id)
    if app is None:
        raise AppError(f"app {client_id} is not registered on {portal.domain}", 404)
    uid = int(user_id or portal.admin_user_id)
    placement = (placement or "DEFAULT").upper()
    if placement == "DEFAULT":
        url = handler or app["app_url"] or app["install_url"]
    else:
        if not app["installed"]:
            raise AppError("widgets of an app that is not installed are hidden", 409)
        with portal.lock:
            rows = [dict(r) for r in portal.db["sb_placements"].rows_where(
                "client_id = ? AND placement = ?", [client_id, placement], order_by="id")]
        if handler:
            rows = [r for r in rows if r["handler"] == handler]
        if not rows:
            raise AppError(f"no {placement} handler is bound by {client_id}", 404)
        url = rows[0]["handler"]
    r = page_post(portal, app, uid, url, placement=placement, options=options,
                  kind="app_page" if placement == "DEFAULT" else "placement")
    return {"status": r.status, "error": r.error, "body": r.response, "delivery_id": r.delivery_id, "url": url}
