"""The portal's REST endpoint: request parsing, the call pipeline, the envelope, ``batch``.

Pipeline of one call, in the real server's order (``CRestServer::process``): faults on the wire ->
leaky bucket (503) -> method lookup (404 ``ERROR_METHOD_NOT_FOUND``) -> authentication (401) ->
scope (401 ``insufficient_scope``) -> auth type (403 ``WRONG_AUTH_TYPE``) -> admin (403
``ACCESS_DENIED``) -> operating budget (429 ``OPERATION_TIME_LIMIT``) -> the handler, under the
portal's lock, inside one "hit" whose events and robot calls are sent when the call ends.

Success: ``{"result", ["next"], ["total"], "time": {start, finish, duration, processing,
date_start, date_finish, operating_reset_at?, operating}}``; error: ``{"error", "error_description",
...}`` with the error's status. JSON is written the PHP way (:mod:`phpjson`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import time
import traceback
from typing import TYPE_CHECKING, Any

from flask import Request, Response, request

from . import errors
from .api import METHODS, Call, ListResult, RestError
from .auth import Principal, resolve_token, resolve_webhook, token_from_request
from .outbound import hit_scope
from .phpform import parse_pairs, parse_str
from .phpjson import dumps
from .storage import jdump

if TYPE_CHECKING:
    from .portal import Portal
    from .runtime import Sandbox

log = logging.getLogger("b24sandbox.rest")

BATCH_MAX_LENGTH = 50
NOT_IN_BATCH = ("batch", "download", "upload")
AUTH_PARAMS = ("auth", "access_token")

_NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
              "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
_NGINX_504 = ("<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway "
              "Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


# ---------------------------------------------------------------------------------------------------
# request parsing


def php_truthy(v: Any) -> bool:
    """PHP's truthiness (``"0"`` and ``""`` are false, ``"false"`` is true)."""
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str):
        return v not in ("", "0")
    if isinstance(v, (list, dict)):
        return len(v) > 0
    return bool(v)


def request_params(req: Request) -> dict[str, Any]:
    """Query string merged with the body (JSON, form with PHP bracket keys, or multipart)."""
    params: dict[str, Any] = parse_str(req.query_string) if req.query_string else {}
    mimetype = (req.mimetype or "").lower()
    body: Any = {}
    if mimetype == "application/json" or mimetype.endswith("+json"):
        raw = req.get_data(cache=True)
        if raw.strip():
            try:
                body = json.loads(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                body = {}
    elif mimetype == "multipart/form-data":
        pairs: list[tuple[str, Any]] = list(req.form.items(multi=True))
        for name, f in req.files.items(multi=True):
            pairs.append((name, [f.filename or "", base64.b64encode(f.read()).decode("ascii")]))
        body = parse_pairs(pairs)
    else:
        raw = req.get_data(cache=True)
        if raw:
            body = parse_str(raw)
    if isinstance(body, dict):
        params.update(body)
    return params


def split_rest_path(path: str) -> tuple[tuple[str, str] | None, str]:
    """``"1/abc/crm.deal.list.json"`` -> ``(("1", "abc"), "crm.deal.list")``; ``"profile"`` ->
    ``(None, "profile")``. The method name is lower-cased, its ``.json``/``.xml`` suffix dropped."""
    parts = [p for p in path.split("/") if p != ""]
    webhook = None
    if len(parts) >= 3 and parts[0].isdigit():
        webhook = (parts[0], parts[1])
        parts = parts[2:]
    method = "/".join(parts).strip().lower()
    for suffix in (".json", ".xml"):
        if method.endswith(suffix):
            method = method[: -len(suffix)]
    return webhook, method


# ---------------------------------------------------------------------------------------------------
# envelope


def iso(portal: Portal, t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=portal.tz).replace(microsecond=0).isoformat()


def time_block(portal: Portal, start: float, finish: float, processing: float,
               operating: float | None, reset_at: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": start,
        "finish": finish,
        "duration": finish - start,
        "processing": processing,
        "date_start": iso(portal, start),
        "date_finish": iso(portal, finish),
    }
    if reset_at is not None:
        out["operating_reset_at"] = reset_at
    if operating is not None:
        out["operating"] = operating
    return out


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(dumps(body), status=status, content_type="application/json; charset=utf-8")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


# ---------------------------------------------------------------------------------------------------
# one call


def run_method(portal: Portal, principal: Principal, method: str, params: dict[str, Any], *,
               in_batch: bool, auth_connector: str | None) -> dict[str, Any]:
    """Run one method (a direct call or a batch sub-call); the success envelope or a RestError."""
    start = portal.time()
    spec = METHODS.get(method)
    if spec is None:
        raise errors.method_not_found()
    if in_batch and (method in NOT_IN_BATCH or not spec.batchable):
        raise errors.batch_method_not_allowed()
    if not principal.has_scope(spec.scope):
        raise errors.insufficient_scope(in_batch, webhook=principal.kind == "webhook")
    if spec.app_only and principal.kind != "oauth":
        raise errors.wrong_auth_type()
    if spec.admin_only and not principal.is_admin:
        raise errors.access_denied()
    limits = portal.limits
    if portal.budget.blocked(principal.key, method, limits):
        raise errors.operation_time_limit()
    call = Call(
        method=method, params=params, portal=portal, user_id=principal.user_id,
        auth_kind=principal.kind, client_id=principal.client_id, scopes=principal.scopes,
        auth_connector=auth_connector, is_admin=principal.is_admin,
        extra={"principal": principal, "in_batch": in_batch},
    )
    p0 = time.perf_counter()
    cost = limits.method_costs.get(method, spec.cost_s)
    try:
        result = spec.handler(call)
    finally:
        portal.budget.add(principal.key, method, cost, limits)
    processing = time.perf_counter() - p0
    operating, reset_at = portal.budget.report(principal.key, method, limits, portal.time())
    out: dict[str, Any] = {}
    if isinstance(result, ListResult):
        out["result"] = result.items
        if result.next is not None:
            out["next"] = int(result.next)
        if result.total is not None:
            out["total"] = int(result.total)
    else:
        out["result"] = result
    out["time"] = time_block(portal, start, portal.time(), processing, operating, reset_at)
    return out


# ---------------------------------------------------------------------------------------------------
# batch

_REF = re.compile(r"\$(result|next|total|time|error)([^\s]*)", re.IGNORECASE)
_PATH = re.compile(r"\[([^\]]+)\]")
_MISSING = object()


def _index(node: Any, key: str) -> Any:
    if isinstance(node, ListResult):
        node = node.items
    if isinstance(node, dict):
        if key in node and node[key] is not None:
            return node[key]
        if key.lstrip("-").isdigit() and int(key) in node and node[int(key)] is not None:
            return node[int(key)]
        return _MISSING
    if isinstance(node, (list, tuple)) and key.isdigit():
        i = int(key)
        if i < len(node) and node[i] is not None:
            return node[i]
    return _MISSING


def _scalar_text(v: Any) -> str | None:
    if v is None:
        return ""
    if v is True:
        return "1"
    if v is False:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (int, float, str)):
        return str(v)
    return None


def substitute(value: Any, results: dict[str, dict[Any, Any]]) -> Any:
    """``CRestUtil::processBatchElement``: ``$result[key][FIELD]`` references. A value that is
    exactly one reference becomes the referenced value (arrays too); inside a longer string only
    scalars are substituted. A missing path stops at the deepest existing node."""
    if not isinstance(value, str) or "$" not in value:
        return value
    out: Any = value
    for m in _REF.finditer(value):
        path = _PATH.findall(m.group(2))
        if not path:
            continue
        node: Any = results.get(m.group(1))
        for k in path:
            nxt = _index(node, k)
            if nxt is _MISSING:
                break
            node = nxt
        if isinstance(node, ListResult):
            node = node.items
        if m.group(0) == value:
            return node
        text = _scalar_text(node)
        if text is not None and isinstance(out, str):
            out = out.replace(m.group(0), text)
    return out


def substitute_all(params: Any, results: dict[str, dict[Any, Any]]) -> Any:
    if isinstance(params, dict):
        return {k: substitute_all(v, results) for k, v in params.items()}
    if isinstance(params, list):
        return [substitute_all(v, results) for v in params]
    return substitute(params, results)


def run_batch(portal: Portal, principal: Principal, params: dict[str, Any], *,
              auth_connector: str | None) -> tuple[dict[str, Any], list[str]]:
    """``CRestProvider::methodsBatch``: returns the batch payload and the sub-call methods."""
    q = {str(k).upper(): v for k, v in params.items()}
    halt = php_truthy(q.get("HALT"))
    results: dict[str, dict[Any, Any]] = {"result": {}, "next": {}, "total": {}, "time": {}, "error": {}}
    cmd = q.get("CMD")
    items: list[tuple[Any, Any]]
    if isinstance(cmd, list):
        items = list(enumerate(cmd))
    elif isinstance(cmd, dict):
        items = list(cmd.items())
    else:
        items = []
    methods: list[str] = []
    for cnt, (key, call) in enumerate(items):
        err: RestError | None = None
        res: dict[str, Any] | None = None
        if cnt < BATCH_MAX_LENGTH:
            if not isinstance(call, str):
                continue
            path, _, query = call.partition("?")
            query = query.split("#", 1)[0]
            method = path.strip()
            sub_params = substitute_all(parse_str(query), results) if query else {}
            if not isinstance(sub_params, dict):
                sub_params = {}
            for k in AUTH_PARAMS:
                sub_params.pop(k, None)
            methods.append(method.lower())
            if method.lower() in NOT_IN_BATCH:
                err = errors.batch_method_not_allowed()
            else:
                try:
                    res = run_method(portal, principal, method.lower(), sub_params, in_batch=True,
                                     auth_connector=auth_connector)
                except RestError as exc:
                    err = exc
                except Exception:  # a bug in a handler: report it like the server's core error
                    log.error("batch sub-call %s failed:\n%s", method, traceback.format_exc())
                    err = errors.internal_error()
        else:
            err = errors.batch_length_exceeded()
        if err is not None:
            results["error"][key] = err.envelope()
            if halt:
                break
            continue
        assert res is not None
        for part in ("result", "next", "total", "time"):
            if part in res:
                results[part][key] = res[part]
    payload = {
        "result": results["result"],
        "result_error": results["error"],
        "result_total": results["total"],
        "result_next": results["next"],
        "result_time": results["time"],
    }
    return payload, methods


# ---------------------------------------------------------------------------------------------------
# the HTTP view


def _error_response(err: RestError, headers: dict[str, str] | None = None) -> Response:
    return json_response(err.envelope(), err.status, headers)


def handle_rest(sandbox: Sandbox, domain: str, path: str) -> Response:
    """Serve ``/p/<domain>/rest/<path>``."""
    portal = sandbox.portal_by_domain(domain)
    if portal is None:
        return json_response({"error": "PORTAL_NOT_FOUND", "error_description": f"Portal {domain} not found"},
                             404)
    perf0 = time.perf_counter()
    webhook, method = split_rest_path(path)
    entry: dict[str, Any] = {
        "ts": portal.time(), "method": method, "status": 200, "error": None,
        "auth_kind": "webhook" if webhook else "none", "client_id": None, "user_id": None,
        "duration_ms": 0.0, "sub_calls": None, "fault": None, "http_method": request.method,
    }

    def finish(resp: Response) -> Response:
        entry["status"] = resp.status_code
        entry["duration_ms"] = round((time.perf_counter() - perf0) * 1000, 3)
        portal.record_request(entry)
        return resp

    # -- faults on the wire
    faults = portal.faults
    if faults.latency_ms and portal.injector.applies(method):
        sandbox.stop_event.wait(faults.latency_ms / 1000.0)
    fault = portal.injector.draw(method)
    entry["fault"] = fault
    if fault == "burst_503":
        err = errors.query_limit_exceeded()
        entry["error"] = err.code
        return finish(_error_response(err))
    if fault == "5xx":
        entry["error"] = "INTERNAL_SERVER_ERROR"
        if faults.html_5xx:
            return finish(Response(_NGINX_502, status=502, content_type="text/html"))
        return finish(_error_response(errors.internal_error()))
    if fault == "timeout":
        sandbox.stop_event.wait(faults.timeout_hold_s)
        entry["error"] = "TIMEOUT"
        return finish(Response(_NGINX_504, status=504, content_type="text/html"))

    # -- the leaky bucket (infrastructure level: every request counts, even a bad one)
    if not portal.bucket.take(portal.limits):
        err = errors.query_limit_exceeded()
        entry["error"] = err.code
        return finish(_error_response(err))

    params = request_params(request)
    token = token_from_request(params, request.headers)
    for k in AUTH_PARAMS:
        params.pop(k, None)
    auth_connector = params.pop("auth_connector", None)
    if auth_connector is not None:
        auth_connector = str(auth_connector)

    headers: dict[str, str] = {}
    try:
        if method != "batch" and method not in METHODS:
            raise errors.method_not_found()
        principal = resolve_webhook(portal, *webhook) if webhook else resolve_token(portal, token)
        entry.update(auth_kind=principal.kind, client_id=principal.client_id, user_id=principal.user_id)
        if principal.client_id:
            headers["X-Bitrix-Rest-Application"] = principal.client_id
        start = portal.time()
        p0 = time.perf_counter()
        with hit_scope(portal):
            with portal.lock:
                if method == "batch":
                    payload, subs = run_batch(portal, principal, params, auth_connector=auth_connector)
                    entry["sub_calls"] = jdump(subs)
                    operating, reset_at = portal.budget.report(principal.key, "batch", portal.limits,
                                                               portal.time())
                    body = {"result": payload,
                            "time": time_block(portal, start, portal.time(), time.perf_counter() - p0,
                                               operating, reset_at)}
                else:
                    body = run_method(portal, principal, method, params, in_batch=False,
                                      auth_connector=auth_connector)
    except RestError as err:
        entry["error"] = err.code or "(empty)"
        return finish(_error_response(err, headers))
    except Exception:
        log.error("REST %s failed:\n%s", method, traceback.format_exc())
        err = errors.internal_error()
        entry["error"] = err.code
        return finish(_error_response(err, headers))

    processing = body["time"]["processing"]
    headers["X-Bitrix-Rest-Time"] = f"{processing:.10f}"
    headers["X-Bitrix-Rest-User-Time"] = f"{processing:.10f}"
    headers["X-Bitrix-Rest-System-Time"] = f"{0.0:.10f}"
    if fault == "commit_then_500":
        entry["error"] = "INTERNAL_SERVER_ERROR"
        return finish(_error_response(errors.internal_error(), headers))
    return finish(json_response(body, 200, headers))
