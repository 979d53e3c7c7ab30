"""Events: ``event.bind/unbind/get``, ``events``, ``event.test``, delivery, the offline queue.

Binding rules follow ``rest/lib/api/event.php`` (reference §2.1). Delivery (§2.2): for every
*installed* app that bound the event, online handlers get a form-encoded POST ``event,
event_handler_id, data[...], ts, auth[...]``; offline bindings store the change in the app's queue
(§2.3), coalesced by ``MESSAGE_ID = md5(EVENT_NAME|json(data))``.

Which ``auth`` a handler gets (the sandbox's rule, following the issue's three shapes):

1. the binding has ``auth_type = N`` -> a token of user N (a handler bound "as user N");
2. else the change was made by a REST call with *this same app's* token (its own UI, a robot
   handler, a background job: "the app itself") -> no token (``domain, client_endpoint,
   server_endpoint, member_id, application_token`` only);
3. else the change was made by a user through another app or an inbound webhook -> a token of that
   user for the receiving app (``access_token, expires, expires_in, scope, domain, server_endpoint,
   status, client_endpoint, member_id, user_id, application_token``; no ``refresh_token``);
4. a change made by the portal itself (``call`` None: robots, workflows, seeding, control routes)
   -> no token.

The server code would also hand a token in case 2 (it only looks at the current user). The
sandbox follows the issue's contract so that the tokenless "system" shape is exercised by ordinary
app traffic; the rule is documented in docs/sandbox.md.

Offline self-suppression: a change made by a call of the same app with the same
``auth_connector`` (both empty counts as equal) is not queued for that app's offline bindings.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import TYPE_CHECKING, Any

from . import errors
from .api import Call, ListResult, RestError, rest_method
from .apps import application_token, auth_block, scope_string
from .listing import paginate
from .outbound import OutboundJob, current_hit, queue_job
from .phpjson import PhpObject, dumps
from .storage import jdump, jload

if TYPE_CHECKING:
    from .portal import Portal

# event name -> scope that must be granted to bind it ("" = any app)
EVENT_SCOPES: dict[str, str] = {}


def register_event(name: str, scope: str) -> None:
    """Make an event bindable (method modules may add their own)."""
    EVENT_SCOPES[name.upper()] = scope


for _ev in ("ONAPPINSTALL", "ONAPPUNINSTALL", "ONAPPUPDATE", "ONAPPPAYMENT", "ONAPPTEST",
            "ONAPPMETHODCONFIRM", "ONOFFLINEEVENT", "ONSUBSCRIPTIONRENEW", "ONAPPUSERREADY"):
    register_event(_ev, "")
for _ent in ("LEAD", "DEAL", "CONTACT", "COMPANY", "QUOTE", "INVOICE"):
    for _act in ("ADD", "UPDATE", "DELETE"):
        register_event(f"ONCRM{_ent}{_act}", "crm")
    for _act in ("ADD", "UPDATE", "DELETE", "SETENUMVALUES"):
        register_event(f"ONCRM{_ent}USERFIELD{_act}", "crm")
for _name in ("ONCRMDEALMOVETOCATEGORY", "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMUPDATE",
              "ONCRMDYNAMICITEMDELETE", "ONCRMTIMELINECOMMENTADD", "ONCRMTIMELINECOMMENTUPDATE",
              "ONCRMTIMELINECOMMENTDELETE", "ONCRMACTIVITYADD", "ONCRMACTIVITYUPDATE", "ONCRMACTIVITYDELETE",
              "ONCRMREQUISITEADD", "ONCRMREQUISITEUPDATE", "ONCRMREQUISITEDELETE", "ONCRMBANKDETAILADD",
              "ONCRMBANKDETAILUPDATE", "ONCRMBANKDETAILDELETE", "ONCRMPRODUCTADD", "ONCRMPRODUCTUPDATE",
              "ONCRMPRODUCTDELETE", "ONCRMDEALRECURRINGADD", "ONCRMTIMELINEITEMACTION"):
    register_event(_name, "crm")
for _name in ("ONTASKADD", "ONTASKUPDATE", "ONTASKDELETE", "ONTASKCOMMENTADD", "ONTASKCOMMENTUPDATE",
              "ONTASKCOMMENTDELETE"):
    register_event(_name, "task")
register_event("ONUSERADD", "user")
register_event("ONIMNOTIFYCONFIRM", "im")

_DYNAMIC_TYPED = re.compile(r"^ONCRMDYNAMICITEM(ADD|UPDATE|DELETE)_\d+$")

# events whose auth carries the refresh token (sender.php $defaultEventParams / rest_provider.php)
WITH_REFRESH = {"ONAPPINSTALL", "ONAPPUPDATE", "ONAPPTEST", "ONOFFLINEEVENT", "ONSUBSCRIPTIONRENEW",
                "ONAPPUSERREADY"}
OFFLINE_LIFETIME_S = 2952000


def event_scope(name: str) -> str | None:
    name = name.upper()
    if name in EVENT_SCOPES:
        return EVENT_SCOPES[name]
    if _DYNAMIC_TYPED.match(name):
        return "crm"
    return None


def events_for(scopes: frozenset[str] | set[str]) -> list[str]:
    return sorted(n for n, s in EVENT_SCOPES.items() if s == "" or s in scopes)


# ---------------------------------------------------------------------------------------------------
# handler URL validation (HandlerHelper::checkCallback)


def check_handler_url(url: Any, *, protocol_text: str = "Unsupported handler protocol") -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url or ""))
        host = parts.hostname or ""
    except ValueError:
        host = ""
        parts = None  # type: ignore[assignment]
    if not host or host.find(".") <= 0 or parts is None:
        raise RestError("ERROR_WRONG_HANDLER_URL", "Wrong handler URL", 400)
    if parts.scheme not in ("http", "https"):
        raise RestError("ERROR_UNSUPPORTED_PROTOCOL", protocol_text, 400)


# ---------------------------------------------------------------------------------------------------
# delivery


def _user_for_handler(handler: dict[str, Any], app: dict[str, Any], call: Call | None) -> int:
    """The user whose token the handler gets, 0 for none (see the module docstring)."""
    if int(handler.get("auth_type") or 0) > 0:
        return int(handler["auth_type"])
    if call is None:
        return 0
    if call.auth_kind == "oauth" and call.client_id == app["client_id"]:
        return 0
    return int(call.user_id or 0)


def build_payload(portal: Portal, app: dict[str, Any], handler: dict[str, Any], name: str,
                  data: Any, user_id: int) -> dict[str, Any]:
    pair = None
    with_refresh = name in WITH_REFRESH
    if user_id > 0:
        if with_refresh:
            pair = portal.sandbox.tokens.issue(portal.member_id, app["client_id"], user_id, scope_string(app))
        else:
            pair = portal.sandbox.tokens.event_token(portal.member_id, app["client_id"], user_id,
                                                     scope_string(app))
    return {
        "event": name,
        "event_handler_id": str(handler["id"]),
        "data": data,
        "ts": str(int(portal.time())),
        "auth": auth_block(portal, app, pair, with_refresh=with_refresh),
    }


def fire(portal: Portal, name: str, data: dict[str, Any], call: Call | None) -> None:
    """Queue an event for every installed app that bound it (online POSTs, offline records)."""
    name = name.upper()
    apps = {a["client_id"]: a for a in portal.installed_apps()}
    if not apps:
        return
    with portal.lock:
        handlers = [dict(r) for r in portal.db["sb_event_handlers"].rows_where("event = ?", [name], order_by="id")]
    for h in handlers:
        app = apps.get(h["client_id"])
        if app is None:
            continue
        if h["offline"]:
            _store_offline(portal, app, h, name, data, call)
            continue
        uid = _user_for_handler(h, app, call)
        payload = build_payload(portal, app, h, name, data, uid)
        key = "|".join([app["client_id"], h["handler"], name, str(uid), dumps(data)])
        queue_job(portal, OutboundJob("event", h["handler"], payload, event=name, client_id=app["client_id"],
                                      dedupe_key=key))


def message_id(name: str, data: Any) -> str:
    return hashlib.md5(f"{name}|{dumps(data)}".encode()).hexdigest()


def _store_offline(portal: Portal, app: dict[str, Any], handler: dict[str, Any], name: str, data: Any,
                   call: Call | None) -> None:
    connector = handler.get("connector_id") or ""
    if call is not None and call.auth_kind == "oauth" and call.client_id == app["client_id"] \
            and (call.auth_connector or "") == connector:
        return  # the app's own change through the same connector: not queued
    mid = message_id(name, data)
    now = portal.time()
    additional = {"user_id": int(call.user_id) if call is not None else 0}
    with portal.lock:
        row = next(portal.db["sb_offline_events"].rows_where(
            "message_id = ? AND client_id = ? AND connector_id = ? AND process_id = ''",
            [mid, app["client_id"], connector]), None)
        if row is not None:
            portal.db["sb_offline_events"].update(row["id"], {"timestamp_x": now,
                                                             "event_additional": jdump(additional)})
        else:
            portal.db["sb_offline_events"].insert({
                "client_id": app["client_id"], "connector_id": connector, "event_name": name,
                "event_data": jdump(data), "event_additional": jdump(additional), "message_id": mid,
                "process_id": "", "timestamp_x": now, "error": 0,
            })
    _notify_offline(portal, app)


def _notify_offline(portal: Portal, app: dict[str, Any]) -> None:
    """``ONOFFLINEEVENT`` to the app's online handlers, throttled by ``options.minTimeout``."""
    with portal.lock:
        handlers = [dict(r) for r in portal.db["sb_event_handlers"].rows_where(
            "client_id = ? AND event = 'ONOFFLINEEVENT' AND offline = 0", [app["client_id"]])]
    if not handlers:
        return
    hit = current_hit(portal)
    last: dict[int, float] = portal.cache.setdefault("_sb_offline_notified", {})
    now = portal.time()
    for h in handlers:
        min_timeout = float((jload(h.get("options"), {}) or {}).get("minTimeout", 1) or 0)
        hid = int(h["id"])
        if hit is not None and f"offline:{hid}" in hit.offline_notified:
            continue
        if min_timeout > 0 and now - last.get(hid, 0.0) < min_timeout:
            continue
        last[hid] = now
        if hit is not None:
            hit.offline_notified.add(f"offline:{hid}")
        uid = int(h.get("auth_type") or 0) or int(app.get("installed_by") or portal.admin_user_id)
        payload = build_payload(portal, app, h, "ONOFFLINEEVENT", [], uid)
        queue_job(portal, OutboundJob("event", h["handler"], payload, event="ONOFFLINEEVENT",
                                      client_id=app["client_id"]))


# ---------------------------------------------------------------------------------------------------
# REST methods


def _app_context(call: Call) -> dict[str, Any]:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.wrong_auth_type()
    app = call.portal.app(call.client_id)  # type: ignore[attr-defined]
    if app is None:
        raise errors.wrong_auth_type()
    return app


def _lower_keys(params: dict[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in params.items()}


@rest_method("event.bind", "basic")
def event_bind(call: Call) -> bool:
    app = _app_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    q = _lower_keys(call.params)
    name = str(q.get("event") or "").upper()
    scope = event_scope(name)
    principal = call.extra.get("principal")
    granted = scope == "" or (scope is not None and principal is not None and principal.has_scope(scope))
    if not name or scope is None or not granted:
        raise RestError("ERROR_EVENT_NOT_FOUND", "Event not found", 400)
    event_type = str(q.get("event_type") or "online").lower()
    offline = event_type == "offline"
    if offline:
        if not call.is_admin:
            raise errors.access_denied("Offline events binding requires administrator access rights")
        if name == "ONOFFLINEEVENT":
            raise RestError("ERROR_EVENT_NOT_FOUND", "Offline event cannot be registered for this event.", 400)
        handler = ""
    else:
        handler = str(q.get("handler") or "")
        if not handler:
            raise errors.argument_null("HANDLER")
        check_handler_url(handler)
    auth_type = 0
    raw_auth_type = q.get("auth_type")
    if raw_auth_type not in (None, ""):
        try:
            auth_type = int(raw_auth_type)
        except (TypeError, ValueError):
            auth_type = 0
    if not call.is_admin:
        if auth_type and auth_type != call.user_id:
            raise errors.access_denied("Event binding with AUTH_TYPE requires administrator access rights")
        auth_type = call.user_id
    connector = str(q.get("auth_connector") or "")
    options = q.get("options") if isinstance(q.get("options"), dict) else {}
    with portal.lock:
        dup = next(portal.db["sb_event_handlers"].rows_where(
            "client_id = ? AND event = ? AND handler = ? AND auth_type = ? AND connector_id = ? AND offline = ?",
            [app["client_id"], name, handler, auth_type, connector, int(offline)]), None)
        if dup is not None:
            raise errors.error_core("Unable to set event handler: Handler already binded")
        portal.db["sb_event_handlers"].insert({
            "client_id": app["client_id"], "event": name, "handler": handler, "auth_type": auth_type,
            "offline": int(offline), "connector_id": connector, "options": jdump(options or {}),
            "created_by": call.user_id, "created": portal.time(), "system": 0,
        })
    return True


@rest_method("event.unbind", "basic")
def event_unbind(call: Call) -> dict[str, int]:
    app = _app_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    q = _lower_keys(call.params)
    name = str(q.get("event") or "").upper()
    if not name:
        raise errors.argument_null("EVENT")
    offline = str(q.get("event_type") or "online").lower() == "offline"
    where = ["client_id = ?", "event = ?", "offline = ?"]
    args: list[Any] = [app["client_id"], name, int(offline)]
    if not offline:
        handler = str(q.get("handler") or "")
        if not handler:
            raise errors.argument_null("HANDLER")
        where.append("handler = ?")
        args.append(handler)
    else:
        where.append("connector_id = ?")
        args.append(str(q.get("auth_connector") or ""))
    if not call.is_admin:
        where.append("auth_type = ?")
        args.append(call.user_id)
    elif "auth_type" in q:
        try:
            at = int(q.get("auth_type") or 0)
        except (TypeError, ValueError):
            at = 0
        where.append("auth_type = ?")
        args.append(at)
    with portal.lock:
        cur = portal.db.execute(f"DELETE FROM sb_event_handlers WHERE {' AND '.join(where)}", args)
        portal.db.conn.commit()
    return {"count": cur.rowcount}


@rest_method("event.get", "basic")
def event_get(call: Call) -> list[dict[str, Any]]:
    app = _app_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    with portal.lock:
        rows = [dict(r) for r in portal.db["sb_event_handlers"].rows_where(
            "client_id = ?", [app["client_id"]], order_by="id")]
    out = []
    for r in rows:
        if not call.is_admin and int(r["auth_type"] or 0) != call.user_id:
            continue
        if r["offline"]:
            out.append({"event": r["event"], "connector_id": r["connector_id"] or "", "offline": 1})
        else:
            out.append({"event": r["event"], "handler": r["handler"], "auth_type": str(r["auth_type"] or 0),
                        "offline": 0})
    return out


@rest_method("events", "basic")
def events_list(call: Call) -> list[str]:
    q = {str(k).upper(): v for k, v in call.params.items()}
    if q.get("FULL") not in (None, "", "0", 0, False, "false"):
        return sorted(EVENT_SCOPES)
    if q.get("SCOPE"):
        return sorted(n for n, s in EVENT_SCOPES.items() if s == str(q["SCOPE"]))
    return events_for(set(call.scopes))


@rest_method("event.test", "basic")
def event_test(call: Call) -> bool:
    app = _app_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    data = {"QUERY": PhpObject(call.params) if not call.params else call.params}
    for h in [dict(r) for r in portal.db["sb_event_handlers"].rows_where(
            "client_id = ? AND event = 'ONAPPTEST' AND offline = 0", [app["client_id"]])]:
        payload = build_payload(portal, app, h, "ONAPPTEST", data, call.user_id)
        queue_job(portal, OutboundJob("event", h["handler"], payload, event="ONAPPTEST",
                                      client_id=app["client_id"]))
    return True


# -- offline queue -------------------------------------------------------------------------------------

_OFFLINE_FIELDS = {"ID": "integer", "TIMESTAMP_X": "datetime", "EVENT_NAME": "string",
                   "MESSAGE_ID": "string", "PROCESS_ID": "string", "ERROR": "integer"}


def _offline_context(call: Call) -> dict[str, Any]:
    app = _app_context(call)
    if not call.is_admin:
        raise errors.access_denied()
    return app


def _offline_rows(portal: Portal, app: dict[str, Any], connector: str) -> list[dict[str, Any]]:
    cutoff = portal.time() - OFFLINE_LIFETIME_S
    with portal.lock:
        portal.db.execute("DELETE FROM sb_offline_events WHERE timestamp_x < ?", [cutoff])
        rows = [dict(r) for r in portal.db["sb_offline_events"].rows_where(
            "client_id = ? AND connector_id = ?", [app["client_id"], connector], order_by="id")]
    out = []
    for r in rows:
        out.append({
            "ID": int(r["id"]),
            "TIMESTAMP_X": _iso(portal, r["timestamp_x"]),
            "EVENT_NAME": r["event_name"],
            "EVENT_DATA": jload(r["event_data"], None),
            "EVENT_ADDITIONAL": jload(r["event_additional"], None),
            "MESSAGE_ID": r["message_id"],
            "PROCESS_ID": r["process_id"] or "",
            "ERROR": int(r["error"] or 0),
        })
    return out


def _iso(portal: Portal, t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(float(t), tz=portal.tz).replace(microsecond=0).isoformat()


def _render_offline(r: dict[str, Any], with_process: bool) -> dict[str, Any]:
    out = {"ID": str(r["ID"]), "TIMESTAMP_X": r["TIMESTAMP_X"], "EVENT_NAME": r["EVENT_NAME"],
           "EVENT_DATA": r["EVENT_DATA"], "EVENT_ADDITIONAL": r["EVENT_ADDITIONAL"],
           "MESSAGE_ID": r["MESSAGE_ID"]}
    if with_process:
        out["PROCESS_ID"] = r["PROCESS_ID"]
        out["ERROR"] = str(r["ERROR"])
    return out


@rest_method("event.offline.get", "basic")
def event_offline_get(call: Call) -> dict[str, Any]:
    app = _offline_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    q = _lower_keys(call.params)
    clear = str(q.get("clear", "1")) not in ("0", "", "false", "N")
    process_id = q.get("process_id")
    connector = str(q.get("auth_connector") or "")
    want_errors = str(q.get("error", "0")) == "1"
    try:
        limit = int(q.get("limit", 50))
    except (TypeError, ValueError):
        limit = 50
    if limit <= 0:
        raise RestError("ERROR_ARGUMENT", "Wrong limit value", 400, argument="limit")
    order = q.get("order") or {"TIMESTAMP_X": "ASC"}
    flt = q.get("filter") if isinstance(q.get("filter"), dict) else {}
    flt = {k: v for k, v in flt.items() if k.lstrip("=!<>%@").upper() in
           ("ID", "TIMESTAMP_X", "EVENT_NAME", "MESSAGE_ID")}
    rows = _offline_rows(portal, app, connector)
    if process_id in (None, ""):
        free = [r for r in rows if r["PROCESS_ID"] == "" and r["ERROR"] == (1 if want_errors else 0)]
        picked = paginate(free, filter=flt, order=order, start=-1, page_size=limit,
                          field_types=_OFFLINE_FIELDS, sorted_by_id=True, tz=portal.tz).items
        process_id = secrets.token_hex(16)
        ids = [int(r["ID"]) for r in picked]
        with portal.lock:
            for i in ids:
                portal.db["sb_offline_events"].update(i, {"process_id": process_id})
        chosen = [dict(r, PROCESS_ID=process_id) for r in picked]
    else:
        process_id = str(process_id)
        chosen = [r for r in rows if r["PROCESS_ID"] == process_id]
    if clear and chosen:
        with portal.lock:
            portal.db.execute("DELETE FROM sb_offline_events WHERE client_id = ? AND process_id = ?",
                              [app["client_id"], process_id])
            portal.db.conn.commit()
    return {"process_id": None if clear else process_id,
            "events": [_render_offline(r, False) for r in chosen]}


def _id_list(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    if isinstance(v, dict):
        return [str(x) for x in v.values()]
    return [str(v)]


@rest_method("event.offline.clear", "basic")
def event_offline_clear(call: Call) -> bool:
    app = _offline_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    q = _lower_keys(call.params)
    process_id = str(q.get("process_id") or "")
    if not process_id:
        raise errors.argument_null("process_id")
    where = "client_id = ? AND process_id = ?"
    args: list[Any] = [app["client_id"], process_id]
    ids = _id_list(q.get("id"))
    mids = _id_list(q.get("message_id"))
    if ids:
        where += f" AND id IN ({','.join('?' * len(ids))})"
        args += [int(i) for i in ids if i.isdigit()] + [-1] * (len(ids) - len([i for i in ids if i.isdigit()]))
    elif mids:
        where += f" AND message_id IN ({','.join('?' * len(mids))})"
        args += mids
    with portal.lock:
        portal.db.execute(f"DELETE FROM sb_offline_events WHERE {where}", args)
        portal.db.conn.commit()
    return True


@rest_method("event.offline.error", "basic")
def event_offline_error(call: Call) -> bool:
    app = _offline_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    q = _lower_keys(call.params)
    process_id = str(q.get("process_id") or "")
    if not process_id:
        raise errors.argument_null("process_id")
    mids = _id_list(q.get("message_id"))
    if not mids:
        raise errors.argument_null("message_id")
    with portal.lock:
        portal.db.execute(
            f"UPDATE sb_offline_events SET error = 1, process_id = '' WHERE client_id = ? AND process_id = ? "
            f"AND message_id IN ({','.join('?' * len(mids))})", [app["client_id"], process_id, *mids])
        portal.db.conn.commit()
    return True


@rest_method("event.offline.list", "basic")
def event_offline_list(call: Call) -> ListResult:
    app = _offline_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    q = _lower_keys(call.params)
    connector = str(q.get("auth_connector") or "")
    rows = _offline_rows(portal, app, connector)
    flt = q.get("filter") if isinstance(q.get("filter"), dict) else {}
    page = paginate(rows, filter=flt, order=q.get("order") or {"ID": "ASC"}, start=q.get("start"),
                    field_types=_OFFLINE_FIELDS, tz=portal.tz)
    page.items = [_render_offline(r, True) for r in page.items]
    return page


def offline_queue(portal: Portal) -> list[dict[str, Any]]:
    """Every offline record of a portal (control API)."""
    with portal.lock:
        rows = [dict(r) for r in portal.db["sb_offline_events"].rows_where(order_by="id")]
    for r in rows:
        r["event_data"] = jload(r["event_data"], None)
        r["event_additional"] = jload(r["event_additional"], None)
    return rows


__all__ = ["EVENT_SCOPES", "application_token", "check_handler_url", "fire", "register_event"]
