"""Fixtures of the analytics scenarios: the app installed with its page URL registered (the app
page ``POST /`` is what the portal opens), portals opened as a given user through the sandbox."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from b24app.store import installations
from tests.scenarios.conftest import SCOPES
from tests.scenarios.harness import AppUnderTest, Sandbox, wait_for

SESSION_META = re.compile(r'name="b24app-session" content="([^"]+)"')
CSRF_META = re.compile(r'name="b24app-csrf" content="([^"]+)"')


def install_app(sandbox: Sandbox, app: AppUnderTest, member_id: str) -> dict[str, Any]:
    """Register the app (install URL and app page URL) on the portal and install it."""
    sandbox.control("POST", f"/portals/{member_id}/apps", {
        "client_id": app.config.client_id, "client_secret": app.config.client_secret,
        "install_url": app.url + "/install", "app_url": app.url + "/", "scopes": SCOPES, "ui": True,
    })
    res = sandbox.control("POST", f"/portals/{member_id}/apps/{app.config.client_id}/install")
    assert res["installed"], res
    sandbox.wait_deliveries()
    wait_for(lambda: installations.get(app.db, member_id), what="installation stored")
    app.drain()
    return sandbox.control("GET", f"/portals/{member_id}/apps/{app.config.client_id}")


def open_app(sandbox: Sandbox, app: AppUnderTest, member_id: str, user_id: int, *,
             placement: str = "DEFAULT", options: Any = None) -> dict[str, Any]:
    """The portal opens the app page for ``user_id`` (the iframe POST); the app's answer."""
    body: dict[str, Any] = {"placement": placement, "user_id": user_id}
    if options is not None:
        body["options"] = options
    return sandbox.control("POST", f"/portals/{member_id}/apps/{app.config.client_id}/open", body)


def session_of(page_html: str) -> tuple[str, str]:
    """(session token, CSRF token) of a rendered page."""
    tok = SESSION_META.search(page_html)
    csrf = CSRF_META.search(page_html)
    assert tok and csrf, page_html[:500]
    return tok.group(1), csrf.group(1)


def user_token(sb: Sandbox, app: AppUnderTest, portal: dict[str, Any], user_id: int) -> dict[str, Any]:
    """A real token of ``user_id`` for the app: the portal's OAuth authorization-code flow."""
    auth = requests.get(sb.url + f"/p/{portal['domain']}/oauth/authorize/",
                        params={"client_id": app.config.client_id, "state": secrets.token_hex(4),
                                "user_id": user_id}, allow_redirects=False, timeout=10)
    assert auth.status_code == 302, auth.text[:300]
    code = parse_qs(urlparse(auth.headers["Location"]).query)["code"][0]
    tok = requests.get(sb.url + "/oauth/token/", params={
        "grant_type": "authorization_code", "client_id": app.config.client_id,
        "client_secret": app.config.client_secret, "code": code}, timeout=10)
    assert tok.status_code == 200, tok.text[:300]
    return tok.json()


def portal_post(sb: Sandbox, app: AppUnderTest, portal: dict[str, Any], user_id: int, *,
                placement: str = "DEFAULT", options: Any = None, lang: str = "ru", path: str = "/",
                **override: str) -> tuple[str, dict[str, str]]:
    """(URL with the query part, form fields) of the portal's iframe POST for ``user_id``, as
    b24sandbox/portal/apps.py ``page_post`` builds it; ``override`` replaces any field."""
    view = sb.control("GET", f"/portals/{portal['member_id']}/apps/{app.config.client_id}")
    token = user_token(sb, app, portal, user_id)
    query = {"DOMAIN": portal["domain"], "PROTOCOL": "0", "LANG": lang, "APP_SID": secrets.token_hex(16)}
    form = {
        "AUTH_ID": token["access_token"], "AUTH_EXPIRES": str(token.get("expires_in", 3600)),
        "REFRESH_ID": token["refresh_token"], "SERVER_ENDPOINT": portal["server_endpoint"],
        "member_id": portal["member_id"], "status": "L", "PLACEMENT": placement,
        "PLACEMENT_OPTIONS": json.dumps(options if options is not None else []),
        "APPLICATION_TOKEN": view["application_token"], "APPLICATION_SCOPE": ",".join(SCOPES),
    }
    for key, value in override.items():
        (query if key in query else form)[key] = value
    return app.url + path + "?" + urlencode(query), form
