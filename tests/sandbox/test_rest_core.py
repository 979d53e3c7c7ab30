"""The REST endpoint over real HTTP: URL forms, bodies, auth, envelope, errors, headers, logs."""

from __future__ import annotations

import json
import time

import requests

from b24sandbox.server import serve_in_thread

from . import testmethods  # noqa: F401  (registers sbtest.* methods)
from .conftest import InstalledApp, Portal, fixture_json
from .shape import TIME_EXTRA, assert_same_shape


def test_unknown_method_is_404(portal: Portal, installed_app: InstalledApp) -> None:
    r = portal.call("no.such.method", token=installed_app.access_token)
    assert r.status_code == 404
    assert r.json() == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    # method lookup comes before authentication, as in CRestServer::process()
    r = requests.post(portal.rest_url + "no.such.method", timeout=10)
    assert r.status_code == 404


def test_method_name_case_and_json_suffix(portal: Portal, installed_app: InstalledApp) -> None:
    for name in ("sbtest.echo", "SBTest.Echo", "sbtest.echo.json"):
        r = portal.call(name, {"a": 1}, token=installed_app.access_token)
        assert r.status_code == 200, r.text
        assert r.json()["result"]["params"] == {"a": 1}


def test_token_from_auth_access_token_and_bearer(portal: Portal, installed_app: InstalledApp) -> None:
    tok = installed_app.access_token
    url = portal.rest_url + "sbtest.echo"
    assert requests.get(url, params={"auth": tok}, timeout=10).status_code == 200
    assert requests.post(url, data={"access_token": tok}, timeout=10).status_code == 200
    r = requests.post(url, json={"x": "y"}, headers={"Authorization": f"Bearer {tok}"}, timeout=10)
    assert r.status_code == 200
    assert r.json()["result"]["client_id"] == installed_app.client_id
    assert r.json()["result"]["params"] == {"x": "y"}  # auth keys are stripped from the parameters


def test_bodies_form_brackets_multipart_query_and_json(portal: Portal, installed_app: InstalledApp) -> None:
    tok = installed_app.access_token
    url = portal.rest_url + "sbtest.echo.json"
    form = "auth=" + tok + "&fields[TITLE]=%D0%A2%D0%B5%D1%81%D1%82&fields[PHONE][0][VALUE]=123&select[]=ID&select[]=TITLE"
    r = requests.post(url, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert r.json()["result"]["params"] == {"fields": {"TITLE": "Тест", "PHONE": [{"VALUE": "123"}]},
                                            "select": ["ID", "TITLE"]}
    r = requests.get(url + "?auth=" + tok + "&filter[%3EID]=5&order[ID]=DESC", timeout=10)
    assert r.json()["result"]["params"] == {"filter": {">ID": "5"}, "order": {"ID": "DESC"}}
    r = requests.post(url, data={"auth": tok, "id": "7", "data[NAME]": "a.txt"},
                      files={"fileContent": ("a.txt", b"hello")}, timeout=10)
    params = r.json()["result"]["params"]
    assert params["id"] == "7" and params["data"] == {"NAME": "a.txt"}
    assert params["fileContent"] == ["a.txt", "aGVsbG8="]
    r = requests.post(url + "?auth=" + tok, json={"fields": {"N": None, "B": True, "L": [1, 2]}}, timeout=10)
    assert r.json()["result"]["params"] == {"fields": {"N": None, "B": True, "L": [1, 2]}}


def test_auth_connector_is_taken_out_of_parameters(portal: Portal, installed_app: InstalledApp) -> None:
    r = portal.call("sbtest.echo", {"auth_connector": "sync1", "x": 1}, token=installed_app.access_token)
    assert r.json()["result"]["auth_connector"] == "sync1"
    assert r.json()["result"]["params"] == {"x": 1}


def test_auth_errors(portal: Portal, installed_app: InstalledApp, sandbox) -> None:  # type: ignore[no-untyped-def]
    r = portal.call("sbtest.echo")
    assert (r.status_code, r.json()) == (401, {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"})
    r = portal.call("sbtest.echo", token="0" * 64)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    r = portal.ctl("POST", "/expire-tokens")
    assert r.json()["expired"] >= 1
    r = portal.call("sbtest.echo", token=installed_app.access_token)
    assert r.status_code == 401
    assert r.json() == {"error": "expired_token", "error_description": "The access token provided has expired"}


def test_token_of_another_portal_is_invalid(make_portal, portal: Portal, installed_app: InstalledApp) -> None:  # type: ignore[no-untyped-def]
    other = make_portal("other.bitrix24.ru")
    r = other.call("sbtest.echo", token=installed_app.access_token)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_insufficient_scope(portal: Portal, installed_app: InstalledApp) -> None:
    r = portal.call("sbtest.disk", token=installed_app.access_token)  # the app has no "disk" scope
    assert r.status_code == 401
    assert r.json() == {"error": "insufficient_scope",
                        "error_description": "The request requires higher privileges than provided by the access token"}
    hook = portal.webhook(1, scopes=["crm"])
    assert portal.call("sbtest.disk", hook=hook).json() == {
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the webhook token"}
    assert portal.call("sbtest.echo", hook=hook).status_code == 200


def test_wrong_auth_type_for_app_only_methods(portal: Portal, installed_app: InstalledApp) -> None:
    hook = portal.webhook(1)
    r = portal.call("sbtest.apponly", hook=hook)
    assert r.status_code == 403
    assert r.json() == {"error": "WRONG_AUTH_TYPE",
                        "error_description": "Current authorization type is denied for this method"}
    assert portal.call("sbtest.apponly", token=installed_app.access_token).json()["result"] is True


def test_access_denied_for_admin_only_methods_by_non_admins(portal: Portal, installed_app: InstalledApp,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from b24sandbox.portal import api

    real = api.HOOKS.user_lookup

    def lookup(p, uid):  # type: ignore[no-untyped-def]
        if uid == 7:
            return {"ID": "7", "ACTIVE": True, "IS_ADMIN": False}
        return real(p, uid) if real else ({"ID": "1", "IS_ADMIN": True} if uid == 1 else None)

    monkeypatch.setattr(api.HOOKS, "user_lookup", lookup)
    hook7 = portal.webhook(7)
    r = portal.call("sbtest.admin", hook=hook7)
    assert r.status_code == 403
    assert r.json() == {"error": "ACCESS_DENIED", "error_description": "Access denied!"}
    assert portal.call("sbtest.admin", hook=portal.webhook(1)).json()["result"] is True


def test_webhook_credentials(portal: Portal) -> None:
    hook = portal.webhook(1)
    assert hook.startswith(portal.rest_url + "1/") and hook.endswith("/")
    assert portal.call("sbtest.echo", hook=hook).json()["result"]["auth_kind"] == "webhook"
    bad = hook.replace("/rest/1/", "/rest/2/")
    r = portal.call("sbtest.echo", hook=bad)
    assert (r.status_code, r.json()["error"]) == (401, "INVALID_CREDENTIALS")
    r = portal.call("sbtest.echo", hook=hook[:-5] + "zzzz/")
    assert r.status_code == 401


def test_envelope_time_and_headers(portal: Portal, installed_app: InstalledApp) -> None:
    r = portal.call("app.info", token=installed_app.access_token)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json; charset=utf-8"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["X-Bitrix-Rest-Application"] == installed_app.client_id
    for h in ("X-Bitrix-Rest-Time", "X-Bitrix-Rest-User-Time", "X-Bitrix-Rest-System-Time"):
        float(r.headers[h])
    body = r.json()
    assert_same_shape(fixture_json("app_info_response.json"), body, extra_ok=TIME_EXTRA)
    t = body["time"]
    assert t["finish"] >= t["start"] and t["duration"] >= 0 and t["operating"] >= 0
    assert t["date_start"].endswith("+03:00")  # the portal's time zone (Europe/Moscow)
    assert body["result"]["INSTALLED"] is True and body["result"]["CODE"] == installed_app.client_id


def test_list_envelope_next_total_and_start_minus_one(portal: Portal, installed_app: InstalledApp) -> None:
    tok = installed_app.access_token
    b = portal.call("sbtest.list", {"start": 50}, token=tok).json()
    assert len(b["result"]) == 50 and b["next"] == 100 and b["total"] == 120
    assert list(b)[:3] == ["result", "next", "total"]
    b = portal.call("sbtest.list", {"start": 100}, token=tok).json()
    assert len(b["result"]) == 20 and "next" not in b and b["total"] == 120
    b = portal.call("sbtest.list", {"start": -1, "filter": {">ID": 110}}, token=tok).json()
    assert [r["ID"] for r in b["result"]] == list(range(111, 121)) and "total" not in b and "next" not in b


def test_error_envelopes(portal: Portal, installed_app: InstalledApp) -> None:
    tok = installed_app.access_token
    r = portal.call("sbtest.legacy_error", token=tok)
    assert (r.status_code, r.json()) == (400, {"error": "", "error_description": "Not found"})
    r = portal.call("sbtest.argerror", token=tok)
    assert r.json() == {"error": "ERROR_ARGUMENT", "error_description": "Argument 'X' is null or empty",
                        "argument": "X"}
    r = portal.call("sbtest.boom", token=tok)
    assert (r.status_code, r.json()["error"]) == (500, "INTERNAL_SERVER_ERROR")


def test_php_json_on_the_wire(portal: Portal, installed_app: InstalledApp) -> None:
    r = portal.call("sbtest.echo", {"t": "<b>a&b</b> / 'q'", "e": {}}, token=installed_app.access_token)
    assert '"t":"\\u003Cb\\u003Ea\\u0026b\\u003C\\/b\\u003E \\/ \\u0027q\\u0027"' in r.text
    assert '"e":[]' in r.text


def test_request_log(portal: Portal, installed_app: InstalledApp) -> None:
    log0 = portal.ctl("GET", "/requests").json()
    since = log0[-1]["id"] if log0 else 0
    portal.call("sbtest.echo", token=installed_app.access_token)
    portal.call("no.such", token=installed_app.access_token)
    rows = requests.get(portal.control + "/requests", params={"since": since}, timeout=10).json()
    assert [(r["method"], r["status"], r["auth_kind"], r["client_id"]) for r in rows] == [
        ("sbtest.echo", 200, "oauth", installed_app.client_id),
        ("no.such", 404, "webhook" if False else "none", None),
    ]
    assert all("time" in r and "duration_ms" in r for r in rows)


def test_everything_survives_a_restart(tmp_path, receiver) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "persist"
    with serve_in_thread(data) as sb:
        info = requests.post(sb.url + "/_sandbox/portals", json={"domain": "keep.bitrix24.ru"}, timeout=30).json()
        p = Portal(sb, info)
        hook = p.webhook(1)
        p.register_app("local.keep.1", receiver.at("/install"))
        p.install("local.keep.1")
        page = receiver.received("/install")[0]
        tok, refresh = page.form["AUTH_ID"], page.form["REFRESH_ID"]
        assert p.call("event.bind", {"event": "ONCRMLEADADD", "handler": receiver.at("/ev")}, token=tok).status_code == 200
        p.ctl("PUT", "/limits", {"burst": 77})
        requests.put(sb.url + "/_sandbox/clock", json={"offset_s": 120}, timeout=10)
        hook_path = hook.split("/p/", 1)[1]
    with serve_in_thread(data) as sb2:
        p2 = Portal(sb2, dict(info, rest_url=f"{sb2.url}/p/keep.bitrix24.ru/rest/"))
        assert p2.call("sbtest.echo", token=tok).status_code == 200  # tokens survive
        assert p2.call("sbtest.echo", hook=f"{sb2.url}/p/{hook_path}").status_code == 200  # webhooks survive
        events = p2.ctl("GET", "/apps/local.keep.1").json()["events"]
        assert [e["event"] for e in events] == ["ONCRMLEADADD"]
        assert p2.ctl("GET", "/limits").json()["burst"] == 77
        assert abs(requests.get(sb2.url + "/_sandbox/clock", timeout=10).json()["offset_s"] - 120) < 1
        assert len(p2.ctl("GET", "/requests").json()) >= 2  # the request log survives
        r = requests.get(sb2.url + "/oauth/token/", params={
            "grant_type": "refresh_token", "client_id": "local.keep.1", "client_secret": "secret-1",
            "refresh_token": refresh}, timeout=10)
        assert r.status_code == 200, r.text


def test_portal_listing_and_unknown_portal(sandbox, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    listed = requests.get(sandbox.url + "/_sandbox/portals", timeout=10).json()
    assert [p["domain"] for p in listed] == ["metalprom.bitrix24.ru"]
    assert listed[0]["rest_url"] == portal.rest_url
    r = requests.post(sandbox.url + "/p/nope.bitrix24.ru/rest/app.info", timeout=10)
    assert r.status_code == 404
    dup = requests.post(sandbox.url + "/_sandbox/portals", json={"domain": "metalprom.bitrix24.ru"}, timeout=10)
    assert dup.status_code == 409
    assert json.loads(portal.ctl("GET", "").text)["plan"] == "standard"
    time.sleep(0)


def test_concurrent_calls_on_one_portal(portal: Portal, installed_app: InstalledApp, receiver) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    portal.ctl("PUT", "/limits", {"enabled": False})
    portal.call("event.bind", {"event": "ONCRMLEADADD", "handler": receiver.at("/c")}, token=installed_app.access_token)
    hook = portal.webhook(1)

    def work(i: int) -> list[int]:
        s = requests.Session()
        codes = []
        for j in range(15):
            if j % 3 == 0:
                r = s.post(hook + "batch", json={"cmd": {"a": f"sbtest.change?id={i * 100 + j}", "b": "sbtest.list"}},
                           timeout=30)
            elif j % 3 == 1:
                r = s.post(portal.rest_url + "sbtest.list", json={"auth": installed_app.access_token, "start": 50},
                           timeout=30)
            else:
                r = s.post(hook + "sbtest.change", json={"id": i * 100 + j}, timeout=30)
            codes.append(r.status_code)
        return codes

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert all(c == 200 for codes in results for c in codes)
    portal.wait_idle()
    assert len(receiver.received("/c")) == 8 * 10
