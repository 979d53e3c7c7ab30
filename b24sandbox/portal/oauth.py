"""The OAuth server (like ``oauth.bitrix.info``), served at the sandbox server's root.

- ``GET|POST /oauth/token/`` with ``grant_type=authorization_code`` (``code``) or
  ``grant_type=refresh_token`` (``refresh_token``), plus ``client_id`` and ``client_secret``.
  Answer: ``access_token, expires, expires_in (3600), scope, domain (this server's host),
  server_endpoint, status, client_endpoint, member_id, user_id, refresh_token``. A refresh token
  works once (rotation); a second use answers ``invalid_grant``. Errors use the OAuth shape
  ``{"error", "error_description"}`` with HTTP 400 (401 for ``invalid_token`` on ``app.info``).
- ``GET /rest/app.info`` (also ``/rest/app.info/``) with ``auth=<access_token>``: the trusted
  app/installation check in the shape b24pysdk models (reference §1.5).
- ``GET /oauth/authorize/?client_id=...&state=...[&domain=...|&member_id=...][&user_id=...]``
  (and ``/p/<domain>/oauth/authorize/``, where the real flow starts): redirects to the app's
  ``redirect_uri`` with ``code, state, domain, member_id, scope, server_domain``; the code lives 30 s.
  ``user_id`` stands for "the user who is logged in" (default: the portal's admin).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, redirect, request

from .phpform import parse_str
from .phpjson import dumps
from .tokens import TokenPair

if TYPE_CHECKING:
    from .portal import Portal
    from .runtime import Sandbox


def _sandbox() -> Sandbox:
    return current_app.extensions["b24sandbox"]  # type: ignore[no-any-return]


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status=status, content_type="application/json; charset=utf-8")


def oauth_error(code: str, description: str, status: int = 400) -> Response:
    return _json({"error": code, "error_description": description}, status)


def token_response(sandbox: Sandbox, portal: Portal, app: dict[str, Any], pair: TokenPair) -> dict[str, Any]:
    """The token answer in the key order the real server uses."""
    return {
        "access_token": pair.access_token,
        "expires": pair.expires,
        "expires_in": pair.expires_in,
        "scope": pair.scope,
        "domain": sandbox.oauth_domain,
        "server_endpoint": sandbox.server_endpoint,
        "status": app.get("status") or "L",
        "client_endpoint": portal.client_endpoint,
        "member_id": portal.member_id,
        "user_id": pair.user_id,
        "refresh_token": pair.refresh_token,
    }


def _params() -> dict[str, Any]:
    params: dict[str, Any] = parse_str(request.query_string) if request.query_string else {}
    if request.method == "POST":
        if (request.mimetype or "") == "application/json":
            body = request.get_json(silent=True)
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update(parse_str(request.get_data(cache=True)))
    return params


bp = Blueprint("b24sandbox_oauth", __name__)


@bp.route("/oauth/token/", methods=["GET", "POST"])
@bp.route("/oauth/token", methods=["GET", "POST"])
def token() -> Response:
    sb = _sandbox()
    p = _params()
    grant = str(p.get("grant_type") or "")
    client_id = str(p.get("client_id") or "")
    secret = str(p.get("client_secret") or "")
    if not grant:
        return oauth_error("invalid_request", "The grant type was not specified in the request")
    if not client_id:
        return oauth_error("invalid_request", "No client id supplied")
    if grant == "refresh_token":
        rt = str(p.get("refresh_token") or "")
        if not rt:
            return oauth_error("invalid_request", "No \"refresh_token\" parameter found")
        rec = sb.tokens.get_refresh(rt)
        if rec is None:
            return oauth_error("invalid_grant", "Invalid refresh token")
        portal = sb.get_portal(rec.member_id)
        app = portal.app(rec.client_id) if portal else None
        if portal is None or app is None or rec.client_id != client_id or app["client_secret"] != secret:
            if portal is not None:
                sb.tokens.count(rec.member_id, client_id, "refresh_token", "invalid_client")
            return oauth_error("invalid_client", "The client credentials are invalid")
        if rec.used_at is not None or rec.expires <= sb.clock.time():
            sb.tokens.count(rec.member_id, client_id, "refresh_token", "invalid_grant")
            return oauth_error("invalid_grant", "Refresh token has expired" if rec.used_at is None
                               else "Invalid refresh token")
        pair = sb.tokens.rotate(rt)
        if pair is None:  # spent by a concurrent refresh a moment ago
            sb.tokens.count(rec.member_id, client_id, "refresh_token", "invalid_grant")
            return oauth_error("invalid_grant", "Invalid refresh token")
        sb.tokens.count(rec.member_id, client_id, "refresh_token", "ok")
        return _json(token_response(sb, portal, app, pair))
    if grant == "authorization_code":
        code = str(p.get("code") or "")
        if not code:
            return oauth_error("invalid_request", "No \"code\" parameter found")
        row = sb.tokens.take_code(code)
        if row is None:
            return oauth_error("invalid_grant", "Authorization code doesn't exist or is invalid for the client")
        portal = sb.get_portal(row["member_id"])
        app = portal.app(row["client_id"]) if portal else None
        if portal is None or app is None or row["client_id"] != client_id or app["client_secret"] != secret:
            return oauth_error("invalid_client", "The client credentials are invalid")
        pair = sb.tokens.issue(portal.member_id, client_id, int(row["user_id"]), row["scope"])
        sb.tokens.count(portal.member_id, client_id, "authorization_code", "ok")
        return _json(token_response(sb, portal, app, pair))
    return oauth_error("unsupported_grant_type", "The grant type is unsupported")


@bp.route("/rest/app.info", methods=["GET", "POST"])
@bp.route("/rest/app.info/", methods=["GET", "POST"])
@bp.route("/rest/app.info.json", methods=["GET", "POST"])
def app_info() -> Response:
    sb = _sandbox()
    p = _params()
    tok = p.get("auth") or p.get("access_token")
    header = request.headers.get("Authorization") or ""
    if not tok and header[:7].lower() == "bearer ":
        tok = header[7:].strip()
    if not tok:
        return oauth_error("NO_AUTH_FOUND", "Wrong authorization data", 401)
    rec = sb.tokens.lookup(str(tok))
    if rec is None:
        return oauth_error("invalid_token", "The access token provided is invalid", 401)
    if rec.expires <= sb.clock.time():
        return oauth_error("expired_token", "The access token provided has expired", 401)
    portal = sb.get_portal(rec.member_id)
    app = portal.app(rec.client_id) if portal else None
    if portal is None or app is None:
        return oauth_error("invalid_token", "The access token provided is invalid", 401)
    start = sb.clock.time()
    result = {
        "client_id": rec.client_id,
        "scope": rec.scope,
        "expires": dt.datetime.fromtimestamp(rec.expires, tz=portal.tz).isoformat(),
        "install": {
            "installed": bool(app["installed"]),
            "version": int(app["version"] or 1),
            "status": app["status"] or "L",
            "scope": ",".join(_app_scopes(app)),
            "domain": portal.domain,
            "uri": portal.portal_url,
            "client_endpoint": portal.client_endpoint,
            "member_id": portal.member_id,
            "member_type": "PORTAL",
        },
        "user_id": rec.user_id,
    }
    finish = sb.clock.time()
    return _json({"result": result, "time": {
        "start": start, "finish": finish, "duration": finish - start, "processing": finish - start,
        "date_start": dt.datetime.fromtimestamp(start, tz=portal.tz).replace(microsecond=0).isoformat(),
        "date_finish": dt.datetime.fromtimestamp(finish, tz=portal.tz).replace(microsecond=0).isoformat(),
    }})


def _app_scopes(app: dict[str, Any]) -> list[str]:
    from .storage import jload

    return list(jload(app.get("scopes"), []) or [])


def _authorize(portal: Portal | None) -> Response:
    sb = _sandbox()
    p = _params()
    if portal is None:
        dom = p.get("domain")
        mid = p.get("member_id")
        portal = sb.portal_by_domain(str(dom)) if dom else (sb.get_portal(str(mid)) if mid else None)
    if portal is None:
        return oauth_error("invalid_request", "Portal is not specified or not found", 400)
    client_id = str(p.get("client_id") or "")
    app = portal.app(client_id)
    if app is None:
        return oauth_error("invalid_client", "Application not found", 400)
    if not app["installed"]:
        return oauth_error("NOT_INSTALLED", "Application is not installed", 400)
    user_id = int(p.get("user_id") or portal.admin_user_id)
    scope = ",".join(_app_scopes(app))
    code = sb.tokens.make_code(portal.member_id, client_id, user_id, scope)
    target = app["redirect_uri"] or app["install_url"]
    query = urlencode({
        "code": code, "state": p.get("state") or "", "domain": portal.domain, "member_id": portal.member_id,
        "scope": scope, "server_domain": sb.oauth_domain,
    })
    return redirect(target + ("&" if "?" in target else "?") + query, code=302)


@bp.route("/oauth/authorize/", methods=["GET"])
@bp.route("/oauth/authorize", methods=["GET"])
def authorize_root() -> Response:
    return _authorize(None)


@bp.route("/p/<domain>/oauth/authorize/", methods=["GET"])
@bp.route("/p/<domain>/oauth/authorize", methods=["GET"])
def authorize_portal(domain: str) -> Response:
    portal = _sandbox().portal_by_domain(domain)
    if portal is None:
        return oauth_error("invalid_request", "Portal not found", 404)
    return _authorize(portal)
