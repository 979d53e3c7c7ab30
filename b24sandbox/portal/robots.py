"""Automation robots: ``bizproc.robot.*``, ``bizproc.activity.*``, automation rules, robot runs.

Registration validates like ``bizproc/lib/restservice.php`` (reference §3.1): app context and admin
rights (``ACCESS_DENIED``), then ``ERROR_ACTIVITY_VALIDATION_FAILURE`` texts in the server's order,
handler URL checks, and one code space shared by robots and activities of an app
(``md5(APP_ID@CODE)``).

Automation rules (set by the control API) attach a robot with property values to a stage of a lead
or deal funnel. :func:`stage_entered` (called by the CRM methods on add and on a stage change; a jump
runs only the target stage's rules) creates a *robot run* and POSTs the robot call of §3.2:
``workflow_id, code, document_id[0..2], document_type[0..2], event_token, properties[...],
use_subscription, timeout_duration, ts, auth[...]`` (with ``refresh_token``).

``event_token`` = ``"<workflow_id>|<activity_name>|<event_id>.<hmac-sha256 hex>"`` signed with the
portal's secret (salt ``bizproc``). ``bizproc.event.send`` answers 403 ``ACCESS_DENIED`` on a bad
signature and ``true`` otherwise; only the first send to a waiting run counts (return values matched
case-insensitively to ``RETURN_PROPERTIES``, unknown ones dropped, plus ``IsTimeout`` = 0) and
closes it. A waiting run with ``timeout_duration`` > 0 closes as ``timeout`` (``IsTimeout`` = 1) when
portal time passes its deadline (checked every second and on every read). With
``use_subscription=N`` the run is done as soon as the call is queued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
import secrets
import string
from typing import TYPE_CHECKING, Any

from . import errors
from .api import HOOKS, Call, RestError, rest_method
from .apps import auth_block, issue_pair
from .events import check_handler_url
from .outbound import OutboundJob, queue_job
from .storage import jdump, jload

if TYPE_CHECKING:
    from .portal import Portal

VALIDATION = "ERROR_ACTIVITY_VALIDATION_FAILURE"
_CODE_RE = re.compile(r"^[a-z0-9.\-_]+$", re.IGNORECASE)
_PROP_RE = re.compile(r"^[a-z][a-z0-9_]*$", re.IGNORECASE)

DOCUMENT_TYPES: dict[str, tuple[list[str], str]] = {
    "lead": (["crm", "CCrmDocumentLead", "LEAD"], "LEAD_{id}"),
    "deal": (["crm", "CCrmDocumentDeal", "DEAL"], "DEAL_{id}"),
    "contact": (["crm", "CCrmDocumentContact", "CONTACT"], "CONTACT_{id}"),
    "company": (["crm", "CCrmDocumentCompany", "COMPANY"], "COMPANY_{id}"),
    "quote": (["crm", "Bitrix\\Crm\\Integration\\BizProc\\Document\\Quote", "QUOTE"], "QUOTE_{id}"),
    "smart_invoice": (["crm", "Bitrix\\Crm\\Integration\\BizProc\\Document\\SmartInvoice", "SMART_INVOICE"],
                      "SMART_INVOICE_{id}"),
}

DEFAULT_LOG = {"ru": "Получен ответ от приложения", "en": "Response received from the application"}


# ---------------------------------------------------------------------------------------------------
# registration


def _upper(data: Any, keep: bool = False) -> Any:
    """``prepareActivityData``: upper-case keys except the ids under PROPERTIES/RETURN_PROPERTIES/OPTIONS."""
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for k, v in data.items():
        key = str(k) if keep else str(k).upper()
        out[key] = _upper(v, keep=key in ("PROPERTIES", "RETURN_PROPERTIES", "OPTIONS")) if isinstance(v, dict) \
            else v
    return out


def _robot_context(call: Call) -> str:
    if call.auth_kind != "oauth" or not call.client_id:
        raise errors.access_denied("Application context required")
    if not call.is_admin:
        raise errors.access_denied()
    return call.client_id


def _validate_code(code: Any) -> str:
    if code is None or code == "" or code == [] or code == {}:
        raise RestError(VALIDATION, "Empty activity code!", 400)
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise RestError(VALIDATION, "Wrong activity code!", 400)
    return code


def _validate_handler(url: Any) -> None:
    check_handler_url(url, protocol_text="Unsupported event handler protocol")


def _validate_properties(props: Any) -> None:
    if isinstance(props, list) and not props:
        return
    if not isinstance(props, dict):
        raise RestError(VALIDATION, "Wrong properties array!", 400)
    for key, prop in props.items():
        if not _PROP_RE.match(str(key)):
            raise RestError(VALIDATION, f"Wrong property key ({key})!", 400)
        if not isinstance(prop, dict) or not prop.get("NAME"):
            raise RestError(VALIDATION, f"Empty property NAME ({key})!", 400)


def _validate_document_type(v: Any) -> None:
    if not isinstance(v, list) or len(v) < 3 or not all(isinstance(x, str) and x for x in v[:3]):
        raise RestError(VALIDATION, "Wrong activity DOCUMENT_TYPE!", 400)


def _validate(data: dict[str, Any], *, partial: bool = False) -> None:
    if not partial:
        if not data:
            raise RestError(VALIDATION, "Empty data!", 400)
        _validate_code(data.get("CODE"))
    if not partial or "HANDLER" in data:
        _validate_handler(data.get("HANDLER"))
    if (not partial or "NAME" in data) and not data.get("NAME"):
        raise RestError(VALIDATION, "Empty activity NAME!", 400)
    if data.get("PROPERTIES") not in (None, ""):
        _validate_properties(data["PROPERTIES"])
    if data.get("RETURN_PROPERTIES") not in (None, ""):
        _validate_properties(data["RETURN_PROPERTIES"])
    if data.get("DOCUMENT_TYPE") not in (None, ""):
        _validate_document_type(data["DOCUMENT_TYPE"])
    if "FILTER" in data and data["FILTER"] is not None and not isinstance(data["FILTER"], (dict, list)):
        raise RestError(VALIDATION, "Wrong activity FILTER!", 400)
    if str(data.get("USE_PLACEMENT") or "N").upper() == "Y":
        _validate_handler(data.get("PLACEMENT_HANDLER"))


def internal_code(client_id: str, code: str) -> str:
    return hashlib.md5(f"{client_id}@{code}".encode()).hexdigest()


def _find(portal: Portal, client_id: str, code: str) -> dict[str, Any] | None:
    with portal.lock:
        row = next(portal.db["sb_activities"].rows_where("internal_code = ?", [internal_code(client_id, code)]),
                   None)
    return dict(row) if row else None


def _row(data: dict[str, Any]) -> dict[str, Any]:
    us = str(data.get("USE_SUBSCRIPTION") or "").upper()
    return {
        "handler": str(data.get("HANDLER") or ""),
        "auth_user_id": int(data.get("AUTH_USER_ID") or 0) if str(data.get("AUTH_USER_ID") or "0").lstrip("-")
        .isdigit() else 0,
        "use_subscription": us if us in ("Y", "N") else "",
        "name": jdump(data.get("NAME")),
        "description": jdump(data.get("DESCRIPTION")),
        "properties": jdump(data.get("PROPERTIES") or {}),
        "return_properties": jdump(data.get("RETURN_PROPERTIES") or {}),
        "document_type": jdump(data.get("DOCUMENT_TYPE")),
        "filter": jdump(data.get("FILTER")),
        "use_placement": str(data.get("USE_PLACEMENT") or "N").upper(),
        "placement_handler": str(data.get("PLACEMENT_HANDLER") or ""),
    }


def _add(call: Call, is_robot: bool) -> bool:
    client_id = _robot_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    data = _upper(dict(call.params))
    _validate(data)
    code = str(data["CODE"])
    if _find(portal, client_id, code) is not None:
        raise RestError("ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!", 400)
    row = _row(data)
    row.update({"client_id": client_id, "code": code, "internal_code": internal_code(client_id, code),
                "is_robot": int(is_robot), "created": portal.time()})
    with portal.lock:
        portal.db["sb_activities"].insert(row)
    return True


def _update(call: Call, is_robot: bool) -> bool:
    client_id = _robot_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    data = _upper(dict(call.params))
    code = _validate_code(data.get("CODE"))
    existing = _find(portal, client_id, code)
    if existing is None or bool(existing["is_robot"]) != is_robot:
        raise RestError("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!", 400)
    fields = data.get("FIELDS")
    if not isinstance(fields, dict) or not fields:
        raise RestError(VALIDATION, "No fields to update", 400)
    _validate(fields, partial=True)
    full = _row(fields)
    present = {
        "HANDLER": "handler", "AUTH_USER_ID": "auth_user_id", "USE_SUBSCRIPTION": "use_subscription",
        "NAME": "name", "DESCRIPTION": "description", "PROPERTIES": "properties",
        "RETURN_PROPERTIES": "return_properties", "DOCUMENT_TYPE": "document_type", "FILTER": "filter",
        "USE_PLACEMENT": "use_placement", "PLACEMENT_HANDLER": "placement_handler",
    }
    changes = {col: full[col] for key, col in present.items() if key in fields}
    with portal.lock:
        portal.db["sb_activities"].update(existing["id"], changes)
    return True


def _delete(call: Call, is_robot: bool) -> bool:
    client_id = _robot_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    data = _upper(dict(call.params))
    code = _validate_code(data.get("CODE"))
    existing = _find(portal, client_id, code)
    if existing is None or bool(existing["is_robot"]) != is_robot:
        raise RestError("ERROR_ACTIVITY_NOT_FOUND", "Activity or Robot not found!", 400)
    with portal.lock:
        portal.db["sb_activities"].delete(existing["id"])
    return True


def _list(call: Call, is_robot: bool) -> list[str]:
    client_id = _robot_context(call)
    portal: Portal = call.portal  # type: ignore[assignment]
    with portal.lock:
        return [r["code"] for r in portal.db["sb_activities"].rows_where(
            "client_id = ? AND is_robot = ?", [client_id, int(is_robot)], order_by="id")]


@rest_method("bizproc.robot.add", "bizproc")
def robot_add(call: Call) -> bool:
    return _add(call, True)


@rest_method("bizproc.robot.update", "bizproc")
def robot_update(call: Call) -> bool:
    return _update(call, True)


@rest_method("bizproc.robot.delete", "bizproc")
def robot_delete(call: Call) -> bool:
    return _delete(call, True)


@rest_method("bizproc.robot.list", "bizproc")
def robot_list(call: Call) -> list[str]:
    return _list(call, True)


@rest_method("bizproc.activity.add", "bizproc")
def activity_add(call: Call) -> bool:
    return _add(call, False)


@rest_method("bizproc.activity.update", "bizproc")
def activity_update(call: Call) -> bool:
    return _update(call, False)


@rest_method("bizproc.activity.delete", "bizproc")
def activity_delete(call: Call) -> bool:
    return _delete(call, False)


@rest_method("bizproc.activity.list", "bizproc")
def activity_list(call: Call) -> list[str]:
    return _list(call, False)


# ---------------------------------------------------------------------------------------------------
# event token


def sign(portal: Portal, value: str) -> str:
    key = hashlib.sha256((portal.secret + "bizproc").encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def make_token(portal: Portal, workflow_id: str, activity_name: str, event_id: str) -> str:
    value = f"{workflow_id}|{activity_name}|{event_id}"
    return f"{value}.{sign(portal, value)}"


def extract_token(portal: Portal, token: Any) -> tuple[str, str, str] | None:
    if not isinstance(token, str) or "." not in token:
        return None
    value, _, sig = token.rpartition(".")
    if not hmac.compare_digest(sign(portal, value), sig):
        return None
    parts = value.split("|")
    if len(parts) != 3:
        return None
    return parts[0], parts[1], parts[2]


def _workflow_id() -> str:
    return f"{secrets.token_hex(7)}.{random.randint(10_000_000, 99_999_999)}"


def _activity_name() -> str:
    return "A" + "_".join(f"{random.randint(10000, 99999)}" for _ in range(4))


def _event_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


# ---------------------------------------------------------------------------------------------------
# property values as bizproc externalizes them


def _as_datetime(portal: Portal, v: Any) -> dt.datetime | None:
    if isinstance(v, dt.datetime):
        return v if v.tzinfo else v.replace(tzinfo=portal.tz)
    if isinstance(v, dt.date):
        return dt.datetime(v.year, v.month, v.day, tzinfo=portal.tz)
    s = str(v).strip()
    m = re.match(r"^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$", s)
    if m:
        d, mo, y, hh, mm, ss = m.groups()
        return dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=portal.tz)
    try:
        parsed = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=portal.tz)


def format_value(portal: Portal, ptype: str, v: Any) -> Any:
    """One property value in bizproc's external form (user -> ``user_<id>``, bool -> Y/N, dates in the
    portal's format ``dd.mm.yyyy`` / ``dd.mm.yyyy hh:mm:ss``, null -> ``""``)."""
    if v is None:
        return ""
    t = (ptype or "string").lower()
    if t == "user":
        s = str(v).strip()
        if s.isdigit():
            return f"user_{s}"
        return s
    if t == "bool":
        if isinstance(v, bool):
            return "Y" if v else "N"
        return "Y" if str(v).strip().upper() in ("Y", "1", "TRUE", "YES") else "N"
    if t in ("date", "datetime"):
        d = _as_datetime(portal, v)
        if d is None:
            return str(v)
        d = d.astimezone(portal.tz)
        return d.strftime("%d.%m.%Y") if t == "date" else d.strftime("%d.%m.%Y %H:%M:%S")
    if t == "int":
        try:
            return str(int(float(str(v))))
        except ValueError:
            return str(v)
    if t == "double":
        try:
            f = float(str(v).replace(",", "."))
            return str(int(f)) if f.is_integer() else repr(f)
        except ValueError:
            return str(v)
    if isinstance(v, bool):
        return "Y" if v else "N"
    return v if isinstance(v, (dict, list)) else str(v)


_DOC_REF = re.compile(r"\{=Document:([A-Za-z0-9_]+)\}")


def _resolve_templates(portal: Portal, entity: str, item_id: int, v: Any) -> Any:
    if isinstance(v, list):
        return [_resolve_templates(portal, entity, item_id, x) for x in v]
    if not isinstance(v, str) or "{=Document:" not in v or HOOKS.document_fields is None:
        return v
    fields = HOOKS.document_fields(portal, entity, item_id) or {}
    m = _DOC_REF.fullmatch(v.strip())
    if m:
        return fields.get(m.group(1), "")
    return _DOC_REF.sub(lambda mm: str(fields.get(mm.group(1), "") or ""), v)


def build_properties(portal: Portal, robot: dict[str, Any], values: dict[str, Any], entity: str,
                     item_id: int) -> dict[str, Any]:
    props = jload(robot.get("properties"), {}) or {}
    if not isinstance(props, dict):
        return {}
    out: dict[str, Any] = {}
    lower = {str(k).lower(): v for k, v in (values or {}).items()}
    for pid, spec in props.items():
        spec = spec if isinstance(spec, dict) else {}
        raw = values.get(pid, lower.get(pid.lower(), spec.get("DEFAULT")))
        raw = _resolve_templates(portal, entity, item_id, raw)
        ptype = str(spec.get("TYPE") or "string")
        if str(spec.get("MULTIPLE") or "N").upper() == "Y":
            items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
            out[pid] = [format_value(portal, ptype, x) for x in items]
        else:
            if isinstance(raw, list):
                raw = raw[0] if raw else None
            out[pid] = format_value(portal, ptype, raw)
    return out


# ---------------------------------------------------------------------------------------------------
# automation rules and runs


def add_rule(portal: Portal, data: dict[str, Any]) -> dict[str, Any]:
    """Attach a robot (with property values) to a stage; the control API's ``POST .../automation``."""
    entity = str(data.get("entity") or "deal").lower()
    if entity not in DOCUMENT_TYPES:
        raise ValueError(f"entity must be one of {sorted(DOCUMENT_TYPES)}")
    stage_id = str(data.get("stage_id") or "")
    if not stage_id:
        raise ValueError("stage_id is required")
    code = str(data.get("robot_code") or data.get("code") or "")
    client_id = data.get("client_id")
    with portal.lock:
        robots = [dict(r) for r in portal.db["sb_activities"].rows_where("code = ? AND is_robot = 1", [code])]
    if client_id:
        robots = [r for r in robots if r["client_id"] == client_id]
    if not robots:
        raise LookupError(f"no robot with code {code!r} is registered on {portal.domain}")
    us = str(data.get("use_subscription") or "").upper()
    row = {
        "entity": entity, "category_id": int(data.get("category_id") or 0), "stage_id": stage_id,
        "client_id": robots[0]["client_id"], "robot_code": code,
        "properties": jdump(data.get("properties") or {}),
        "use_subscription": us if us in ("Y", "N") else "",
        "timeout_duration": int(data.get("timeout_duration") or 0),
        "auth_user_id": int(data.get("auth_user_id") or 0), "created": portal.time(),
        "title": str(data.get("title") or ""),
    }
    with portal.lock:
        rid = int(portal.db["sb_automation_rules"].insert(row).last_pk)  # type: ignore[union-attr]
    return rule_view(dict(row, id=rid))


def rule_view(r: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(r["id"]), "entity": r["entity"], "category_id": int(r["category_id"] or 0),
        "stage_id": r["stage_id"], "client_id": r["client_id"], "robot_code": r["robot_code"],
        "properties": jload(r["properties"], {}), "use_subscription": r["use_subscription"] or "",
        "timeout_duration": int(r["timeout_duration"] or 0), "auth_user_id": int(r["auth_user_id"] or 0),
        "title": r.get("title") or "",
    }


def rules(portal: Portal) -> list[dict[str, Any]]:
    with portal.lock:
        return [rule_view(dict(r)) for r in portal.db["sb_automation_rules"].rows_where(order_by="id")]


def delete_rule(portal: Portal, rule_id: int) -> bool:
    with portal.lock:
        cur = portal.db.execute("DELETE FROM sb_automation_rules WHERE id = ?", [rule_id])
        portal.db.conn.commit()
    return cur.rowcount > 0


def stage_entered(portal: Portal, entity: str, item_id: int, category_id: int, stage_id: str,
                  call: Call | None) -> list[int]:
    """Run the automation rules of the stage the item entered; returns the new run ids."""
    entity = entity.lower()
    if entity not in DOCUMENT_TYPES:
        return []
    expire_runs(portal)
    with portal.lock:
        matching = [dict(r) for r in portal.db["sb_automation_rules"].rows_where(
            "entity = ? AND stage_id = ?", [entity, stage_id], order_by="id")]
    if entity == "deal":
        matching = [r for r in matching if int(r["category_id"] or 0) == int(category_id)]
    run_ids = []
    for rule in matching:
        run_ids.append(_start_run(portal, rule, entity, item_id, call))
    return run_ids


def _start_run(portal: Portal, rule: dict[str, Any], entity: str, item_id: int, call: Call | None) -> int:
    doc_type, doc_id_tpl = DOCUMENT_TYPES[entity]
    document_id = [doc_type[0], doc_type[1], doc_id_tpl.format(id=item_id)]
    robot = _find(portal, rule["client_id"], rule["robot_code"])
    app = portal.app(rule["client_id"])
    now = portal.time()
    base = {
        "rule_id": rule["id"], "client_id": rule["client_id"], "code": rule["robot_code"], "entity": entity,
        "item_id": item_id, "document_id": document_id[2], "document_type": jdump(doc_type),
        "created": now, "return_values": "{}", "log": "[]",
    }
    if robot is None or not robot["is_robot"] or app is None or not app["installed"]:
        why = "robot is not registered" if robot is None or not robot["is_robot"] else "app is not installed"
        row = dict(base, state="error", workflow_id="", activity_name="", event_id="", use_subscription="N",
                   timeout_duration=0, timeout_at=None, properties="{}", user_id=0, closed_at=now,
                   log=jdump([{"ts": now, "message": why}]))
        with portal.lock:
            return int(portal.db["sb_robot_runs"].insert(row).last_pk)  # type: ignore[union-attr]
    us = robot["use_subscription"] or rule["use_subscription"] or "Y"
    timeout = max(0, min(int(rule["timeout_duration"] or 0), 5 * 365 * 86400))
    workflow_id, activity_name, event_id = _workflow_id(), _activity_name(), _event_id()
    values = jload(rule["properties"], {}) or {}
    properties = build_properties(portal, robot, values, entity, item_id)
    user_id = int(rule["auth_user_id"] or 0) or int(robot["auth_user_id"] or 0) or \
        (int(call.user_id) if call is not None and call.user_id else 0) or portal.admin_user_id
    waiting = us == "Y"
    row = dict(base, state="waiting" if waiting else "done", workflow_id=workflow_id,
               activity_name=activity_name, event_id=event_id, use_subscription=us, timeout_duration=timeout,
               timeout_at=(now + timeout) if waiting and timeout > 0 else None,
               properties=jdump(properties), user_id=user_id, closed_at=None if waiting else now)
    with portal.lock:
        run_id = int(portal.db["sb_robot_runs"].insert(row).last_pk)  # type: ignore[union-attr]
    pair = issue_pair(portal, app, user_id)
    form: dict[str, Any] = {
        "workflow_id": workflow_id,
        "code": robot["code"],
        "document_id": document_id,
        "document_type": doc_type,
        "event_token": make_token(portal, workflow_id, activity_name, event_id),
    }
    if properties:
        form["properties"] = properties
    form.update({
        "use_subscription": us,
        "timeout_duration": str(timeout),
        "ts": str(int(now)),
        "auth": auth_block(portal, app, pair, with_refresh=True),
    })
    queue_job(portal, OutboundJob("robot", robot["handler"], form, event=robot["code"],
                                  client_id=app["client_id"], ref_id=run_id))
    return run_id


def expire_runs(portal: Portal) -> int:
    """Close waiting runs whose timeout passed (portal time); returns how many."""
    now = portal.time()
    with portal.lock:
        rows = [dict(r) for r in portal.db["sb_robot_runs"].rows_where(
            "state = 'waiting' AND timeout_at IS NOT NULL AND timeout_at <= ?", [now])]
        for r in rows:
            log = jload(r["log"], []) or []
            log.append({"ts": now, "message": "timeout"})
            portal.db["sb_robot_runs"].update(r["id"], {
                "state": "timeout", "return_values": jdump({"IsTimeout": 1}), "log": jdump(log), "closed_at": now})
    return len(rows)


def run_view(r: dict[str, Any]) -> dict[str, Any]:
    """A robot run as the control API shows it. ``document`` is the three-part document id the robot call
    carried (``["crm", "CCrmDocumentDeal", "DEAL_123"]``); ``document_id`` keeps its last part
    (``"DEAL_123"``) for older readers."""
    doc_type = jload(r["document_type"], []) or []
    return {
        "id": int(r["id"]), "rule_id": r["rule_id"], "code": r["code"], "client_id": r["client_id"],
        "entity": r["entity"], "item_id": r["item_id"], "document_id": r["document_id"],
        "document": [*doc_type[:2], r["document_id"]], "document_type": doc_type, "state": r["state"],
        "workflow_id": r["workflow_id"],
        "use_subscription": r["use_subscription"], "timeout_duration": r["timeout_duration"],
        "properties": jload(r["properties"], {}), "return_values": jload(r["return_values"], {}),
        "log": jload(r["log"], []), "user_id": r["user_id"], "created": r["created"], "closed_at": r["closed_at"],
    }


def runs(portal: Portal) -> list[dict[str, Any]]:
    expire_runs(portal)
    with portal.lock:
        return [run_view(dict(r)) for r in portal.db["sb_robot_runs"].rows_where(order_by="id")]


def _find_run(portal: Portal, workflow_id: str, activity_name: str) -> dict[str, Any] | None:
    with portal.lock:
        row = next(portal.db["sb_robot_runs"].rows_where(
            "workflow_id = ? AND activity_name = ?", [workflow_id, activity_name]), None)
    return dict(row) if row else None


@rest_method("bizproc.event.send", "bizproc")
def event_send(call: Call) -> bool:
    portal: Portal = call.portal  # type: ignore[assignment]
    q = {str(k).upper(): v for k, v in call.params.items()}
    parts = extract_token(portal, q.get("EVENT_TOKEN"))
    if parts is None:
        raise errors.access_denied()
    expire_runs(portal)
    workflow_id, activity_name, event_id = parts
    run = _find_run(portal, workflow_id, activity_name)
    if run is None or run["state"] != "waiting" or run["event_id"] != event_id:
        return True  # delivered to the workflow in the background; a stale send is dropped there
    robot = _find(portal, run["client_id"], run["code"])
    declared = jload(robot["return_properties"], {}) if robot else {}
    declared_ids = {str(k).lower(): str(k) for k in (declared or {})} if isinstance(declared, dict) else {}
    values: dict[str, Any] = {}
    raw = q.get("RETURN_VALUES")
    if isinstance(raw, dict):
        for k, v in raw.items():
            pid = declared_ids.get(str(k).lower())
            if pid is not None:
                values[pid] = v
    values["IsTimeout"] = 0
    message = q.get("LOG_MESSAGE")
    if message in (None, ""):
        message = DEFAULT_LOG.get(portal.lang, DEFAULT_LOG["en"])
    log = jload(run["log"], []) or []
    now = portal.time()
    log.append({"ts": now, "message": str(message)})
    with portal.lock:
        portal.db["sb_robot_runs"].update(run["id"], {
            "state": "done", "return_values": jdump(values), "log": jdump(log), "closed_at": now})
    return True


@rest_method("bizproc.activity.log", "bizproc")
def activity_log(call: Call) -> bool:
    portal: Portal = call.portal  # type: ignore[assignment]
    q = {str(k).upper(): v for k, v in call.params.items()}
    parts = extract_token(portal, q.get("EVENT_TOKEN"))
    if parts is None:
        raise errors.access_denied()
    message = q.get("LOG_MESSAGE")
    if message in (None, ""):
        raise RestError("ERROR_EMPTY_LOG_MESSAGE", "Empty log message!", 400)
    run = _find_run(portal, parts[0], parts[1])
    if run is not None and run["event_id"] == parts[2]:
        log = jload(run["log"], []) or []
        log.append({"ts": portal.time(), "message": str(message)})
        with portal.lock:
            portal.db["sb_robot_runs"].update(run["id"], {"log": jdump(log)})
    return True
