"""Platform REST methods: ``app.info``, ``app.option.*``, ``user.option.*``, ``placement.*``, ``scope``,
``methods``, ``method.get``, ``server.time`` (``rest/classes/general/rest_provider.php``,
``rest/lib/api/placement.php``)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from . import errors
from .api import METHODS, Call, RestError, rest_method
from .apps import app_scopes
from .auth import ALL_SCOPES
from .events import check_handler_url
from .phpjson import PhpObject
from .storage import jdump, jload

if TYPE_CHECKING:
    from .portal import Portal


def _portal(call: Call) -> Portal:
    return call.portal  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------------
# app.info


@rest_method("app.info", "basic")
def app_info(call: Call) -> dict[str, Any]:
    portal = _portal(call)
    license_name, license_type, family = portal.license()
    if call.auth_kind == "oauth" and call.client_id:
        app = portal.app(call.client_id)
        if app is None:
            raise errors.access_denied("Application context required")
        return {
            "ID": int(app["id"]),
            "CODE": app["client_id"],
            "VERSION": int(app["version"] or 1),
            "STATUS": app["status"] or "L",
            "INSTALLED": bool(app["installed"]),
            "PAYMENT_EXPIRED": "N",
            "DAYS": None,
            "LANGUAGE_ID": app.get("lang") or portal.lang,
            "LICENSE": license_name,
            "LICENSE_TYPE": license_type,
            "LICENSE_FAMILY": family,
        }
    if call.auth_kind == "webhook":
        return {"SCOPE": sorted(call.scopes), "LICENSE": license_name}
    raise errors.access_denied("Application context required")


@rest_method("server.time", "basic")
def server_time(call: Call) -> str:
    portal = _portal(call)
    return dt.datetime.fromtimestamp(portal.time(), tz=portal.tz).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------------------------------------------
# options


def _options(portal: Portal, client_id: str) -> dict[str, Any]:
    with portal.lock:
        return {r["name"]: jload(r["value"]) for r in portal.db["sb_app_options"].rows_where(
            "client_id = ?", [client_id], order_by="rowid")}


def _set_options(portal: Portal, owner: str, params: dict[str, Any]) -> None:
    opts = params.get("options") if "options" in params else params
    if not isinstance(opts, dict) or not opts:
        if isinstance(opts, list) and opts:
            opts = {str(i): v for i, v in enumerate(opts)}
        else:
            raise errors.argument_null("options")
    with portal.lock:
        for k, v in opts.items():
            portal.db["sb_app_options"].upsert({"client_id": owner, "name": str(k), "value": jdump(v)},
                                               pk=("client_id", "name"))


@rest_method("app.option.set", "basic")
def app_option_set(call: Call) -> bool:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.access_denied("Application context required")
    params = dict(call.params)
    opts = params.get("options") if "options" in params else params
    if not opts:
        raise errors.argument_null("options")
    if not call.is_admin:
        raise errors.access_denied("Administrator authorization required")
    _set_options(_portal(call), call.client_id, params)
    return True


@rest_method("app.option.get", "basic")
def app_option_get(call: Call) -> Any:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.access_denied("Application context required")
    opts = _options(_portal(call), call.client_id)
    if "option" in call.params:
        return opts.get(str(call.params["option"]))
    return opts


@rest_method("user.option.set", "basic")
def user_option_set(call: Call) -> bool:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.access_denied("Application context required")
    params = dict(call.params)
    opts = params.get("options") if "options" in params else params
    if not opts:
        raise errors.argument_null("options")
    _set_options(_portal(call), f"{call.client_id}#user{call.user_id}", params)
    return True


@rest_method("user.option.get", "basic")
def user_option_get(call: Call) -> Any:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.access_denied("Application context required")
    opts = _options(_portal(call), f"{call.client_id}#user{call.user_id}")
    if "option" in call.params:
        return opts.get(str(call.params["option"]))
    return opts


# ---------------------------------------------------------------------------------------------------
# placements

_CRM_ENTITIES = ("LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "SMART_INVOICE", "INVOICE")
PLACEMENTS: dict[str, str] = {"REST_APP_URI": "", "PAGE_BACKGROUND_WORKER": ""}
for _e in _CRM_ENTITIES:
    for _suffix in ("DETAIL_TAB", "LIST_MENU", "DETAIL_TOOLBAR", "DETAIL_ACTIVITY", "LIST_TOOLBAR",
                    "ACTIVITY_TIMELINE_MENU", "DOCUMENTGENERATOR_BUTTON"):
        PLACEMENTS[f"CRM_{_e}_{_suffix}"] = "crm"
for _code in ("CRM_ANALYTICS_MENU", "CRM_FUNNELS_TOOLBAR", "CRM_ROBOT_TRIGGERS", "CRM_REQUISITE_EDIT_FORM"):
    PLACEMENTS[_code] = "crm"
for _code in ("TASK_VIEW_TAB", "TASK_VIEW_SIDEBAR", "TASK_VIEW_TOP_PANEL", "TASK_LIST_CONTEXT_MENU",
              "TASK_USER_LIST_TOOLBAR", "TASK_GROUP_LIST_TOOLBAR"):
    PLACEMENTS[_code] = "task"
for _code in ("USER_PROFILE_MENU", "USER_PROFILE_TOOLBAR"):
    PLACEMENTS[_code] = "user"
for _code in ("IM_NAVIGATION", "IM_CONTEXT_MENU", "IM_TEXTAREA", "IM_SIDEBAR", "IM_SMILES_SELECTOR"):
    PLACEMENTS[_code] = "im"
PLACEMENTS["CALENDAR_GRIDVIEW"] = "calendar"
PLACEMENTS["LEFT_MENU"] = "intranet"
PLACEMENTS["SONET_GROUP_DETAIL_TAB"] = "sonet_group"
MAX_COUNT = {"REST_APP_URI": 1, "PAGE_BACKGROUND_WORKER": 1}


def _placement_scope(code: str) -> str | None:
    if code in PLACEMENTS:
        return PLACEMENTS[code]
    if code.startswith("CRM_DYNAMIC_") and code.endswith("_DETAIL_TAB"):
        return "crm"
    return None


def _placement_context(call: Call) -> dict[str, Any]:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.wrong_auth_type("Application context required")
    if not call.is_admin:
        raise errors.access_denied()
    app = _portal(call).app(call.client_id)
    if app is None:
        raise errors.wrong_auth_type("Application context required")
    return app


def _available(call: Call, code: str) -> bool:
    scope = _placement_scope(code)
    principal = call.extra.get("principal")
    return scope is not None and (scope == "" or (principal is not None and principal.has_scope(scope)))


@rest_method("placement.bind", "placement")
def placement_bind(call: Call) -> bool:
    app = _placement_context(call)
    portal = _portal(call)
    q = {str(k).upper(): v for k, v in call.params.items()}
    placement = q.get("PLACEMENT")
    if placement is not None and not isinstance(placement, str):
        raise errors.argument_type("PLACEMENT", "string")
    placement = str(placement or "").upper()
    if placement == "":
        raise errors.argument_null("PLACEMENT")
    if placement == "DEFAULT":
        raise RestError("ERROR_ARGUMENT", "The placement code has an incorrect value", 400, argument="PLACEMENT")
    handler = str(q.get("HANDLER") or "")
    if handler == "":
        raise errors.argument_null("HANDLER")
    check_handler_url(handler)
    if not _available(call, placement):
        raise RestError("ERROR_PLACEMENT_NOT_FOUND", "Placement not found", 400)
    user_id = int(q.get("USER_ID") or 0) if str(q.get("USER_ID") or "0").isdigit() else 0
    with portal.lock:
        existing = [dict(r) for r in portal.db["sb_placements"].rows_where(
            "client_id = ? AND placement = ?", [app["client_id"], placement])]
        if any(r["handler"] == handler and int(r["user_id"] or 0) == user_id for r in existing):
            raise RestError("ERROR_CORE", "Unable to set placement handler: Handler already binded", 400)
        if placement in MAX_COUNT and len(existing) >= MAX_COUNT[placement]:
            raise RestError("ERROR_PLACEMENT_MAX_COUNT", f"Placement max count: {MAX_COUNT[placement]}", 400)
        lang_all = q.get("LANG_ALL") if isinstance(q.get("LANG_ALL"), dict) else {}
        if not lang_all:
            entry = {k: str(q[k]).strip() for k in ("TITLE", "DESCRIPTION", "GROUP_NAME") if q.get(k)}
            lang_all = {portal.lang: entry} if entry else {}
        else:
            lang_all = {str(lang): {f: str((item or {}).get(f, "")).strip()
                                    for f in ("TITLE", "DESCRIPTION", "GROUP_NAME")}
                        for lang, item in lang_all.items() if isinstance(item, dict)}
        first = next(iter(lang_all.values()), {}) if lang_all else {}
        portal.db["sb_placements"].insert({
            "client_id": app["client_id"], "placement": placement, "handler": handler,
            "title": str(q.get("TITLE") or first.get("TITLE") or ""),
            "description": str(q.get("DESCRIPTION") or first.get("DESCRIPTION") or ""),
            "group_name": str(q.get("GROUP_NAME") or first.get("GROUP_NAME") or ""),
            "lang_all": jdump(lang_all), "options": jdump(q.get("OPTIONS") if isinstance(q.get("OPTIONS"), dict)
                                                        else {}),
            "user_id": user_id, "created": portal.time(),
        })
    return True


@rest_method("placement.unbind", "placement")
def placement_unbind(call: Call) -> dict[str, int]:
    app = _placement_context(call)
    portal = _portal(call)
    q = {str(k).upper(): v for k, v in call.params.items()}
    placement = q.get("PLACEMENT")
    if placement is not None and not isinstance(placement, str):
        raise errors.argument_type("PLACEMENT", "string")
    placement = str(placement or "").upper()
    if placement == "":
        raise errors.argument_null("PLACEMENT")
    where = "client_id = ? AND placement = ?"
    args: list[Any] = [app["client_id"], placement]
    if q.get("HANDLER"):
        where += " AND handler = ?"
        args.append(str(q["HANDLER"]))
    if "USER_ID" in q:
        where += " AND user_id = ?"
        args.append(int(q.get("USER_ID") or 0))
    with portal.lock:
        cur = portal.db.execute(f"DELETE FROM sb_placements WHERE {where}", args)
        portal.db.conn.commit()
    return {"count": cur.rowcount}


def placement_rows(portal: Portal, client_id: str) -> list[dict[str, Any]]:
    with portal.lock:
        rows = [dict(r) for r in portal.db["sb_placements"].rows_where("client_id = ?", [client_id],
                                                                       order_by="id")]
    return [{
        "id": int(r["id"]), "placement": r["placement"], "userId": int(r["user_id"] or 0),
        "handler": r["handler"], "options": jload(r["options"], {}) or [], "title": r["title"] or "",
        "description": r["description"] or "", "langAll": jload(r["lang_all"], {}) or [],
    } for r in rows]


@rest_method("placement.get", "placement")
def placement_get(call: Call) -> list[dict[str, Any]]:
    app = _placement_context(call)
    return placement_rows(_portal(call), app["client_id"])


@rest_method("placement.list", "placement")
def placement_list(call: Call) -> list[str]:
    if call.auth_kind != "oauth":
        raise errors.wrong_auth_type("Application context required")
    q = {str(k).upper(): v for k, v in call.params.items()}
    if q.get("SCOPE"):
        return sorted(c for c, s in PLACEMENTS.items() if s == str(q["SCOPE"]))
    if q.get("FULL") not in (None, "", "0", 0, False):
        return sorted(PLACEMENTS)
    return sorted(c for c in PLACEMENTS if _available(call, c))


# ---------------------------------------------------------------------------------------------------
# scope / methods


@rest_method("scope", "basic")
def scope_list(call: Call) -> list[str]:
    q = {str(k).upper(): v for k, v in call.params.items()}
    if q.get("FULL") not in (None, "", "0", 0, False):
        return sorted(ALL_SCOPES)
    return sorted(call.scopes)


@rest_method("methods", "basic")
def methods_list(call: Call) -> list[str]:
    q = {str(k).upper(): v for k, v in call.params.items()}
    principal = call.extra.get("principal")
    names = set()
    for name, spec in METHODS.items():
        if q.get("SCOPE") not in (None, ""):
            ok = spec.scope == str(q["SCOPE"])
        elif q.get("FULL") not in (None, "", "0", 0, False):
            ok = True
        else:
            ok = principal is not None and principal.has_scope(spec.scope)
        if ok:
            names.add(name)
    if q.get("SCOPE") in (None, ""):
        names.add("batch")
    return sorted(names)


@rest_method("method.get", "basic")
def method_get(call: Call) -> dict[str, bool]:
    name = str(call.param("name") or "").lower()
    spec = METHODS.get(name)
    principal = call.extra.get("principal")
    exists = spec is not None or name == "batch"
    available = name == "batch" or (spec is not None and principal is not None and principal.has_scope(spec.scope))
    return PhpObject({"isExisting": exists, "isAvailable": available})  # type: ignore[return-value]


def app_view(portal: Portal, app: dict[str, Any]) -> dict[str, Any]:
    """The control API's view of an app (``GET /_sandbox/portals/<m>/apps/<client_id>``)."""
    with portal.lock:
        handlers = [dict(r) for r in portal.db["sb_event_handlers"].rows_where(
            "client_id = ?", [app["client_id"]], order_by="id")]
        robots = [dict(r) for r in portal.db["sb_activities"].rows_where(
            "client_id = ?", [app["client_id"]], order_by="id")]
    return {
        "client_id": app["client_id"],
        "installed": bool(app["installed"]),
        "application_token": app["application_token"] or None,
        "version": int(app["version"] or 1),
        "status": app["status"],
        "ui": bool(app["ui"]),
        "install_url": app["install_url"],
        "scopes": app_scopes(app),
        "robots": [{
            "code": r["code"], "handler": r["handler"], "is_robot": bool(r["is_robot"]),
            "name": jload(r["name"]), "use_subscription": r["use_subscription"],
            "auth_user_id": r["auth_user_id"], "properties": jload(r["properties"], {}),
            "return_properties": jload(r["return_properties"], {}), "document_type": jload(r["document_type"]),
            "filter": jload(r["filter"]),
        } for r in robots],
        "events": [{
            "id": int(h["id"]), "event": h["event"], "handler": h["handler"], "auth_type": int(h["auth_type"] or 0),
            "offline": bool(h["offline"]), "connector_id": h["connector_id"] or "",
            "options": jload(h["options"], {}),
        } for h in handlers],
        "placements": placement_rows(portal, app["client_id"]),
        "options": _options(portal, app["client_id"]),
    }
