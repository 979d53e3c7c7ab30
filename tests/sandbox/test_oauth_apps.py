"""OAuth server and app lifecycle over real HTTP, checked with b24pysdk's parsers."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import requests
from b24pysdk.api.responses import B24AppInfoResult
from b24pysdk.credentials import OAuthEventData, OAuthPlacementData

from b24sandbox.portal.phpform import parse_str

from . import testmethods  # noqa: F401
from .conftest import InstalledApp, Portal, Receiver, fixture_json
from .shape import TIME_EXTRA, assert_same_shape


def _refresh(sb_url: str, client_id: str, secret: str, refresh: str, post: bool = False) -> requests.Response:
    params = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": secret,
              "refresh_token": refresh}
    if post:
        return requests.post(sb_url + "/oauth/token/", data=params, timeout=10)
    return requests.get(sb_url + "/oauth/token/", params=params, timeout=10)


def test_ui_install_flow(portal: Portal, receiver: Receiver) -> None:
    seen: dict[str, object] = {}

    def install_page(cap) -> None:  # type: ignore[no-untyped-def]
        tok = cap.form["AUTH_ID"]
        seen["info"] = portal.call("app.info", token=tok).json()["result"]
        seen["bind"] = portal.call("event.bind", {"event": "ONAPPINSTALL", "handler": receiver.at("/onappinstall")},
                                   token=tok).json()
        portal.call("event.bind", {"event": "ONCRMLEADADD", "handler": receiver.at("/lead")}, token=tok)
        # a change while the app is not installed yet: no event may reach it
        portal.call("sbtest.change", hook=portal.webhook(1))

    receiver.hooks["/install"] = install_page
    portal.register_app("local.ui.1", receiver.at("/install"), scopes=["crm", "placement"])
    res = portal.install("local.ui.1")
    assert res["installed"] is True and res["page_status"] == 200
    assert seen["info"]["INSTALLED"] is False  # type: ignore[index]
    assert seen["bind"] == {"result": True, "time": seen["bind"]["time"]}  # type: ignore[index]

    page = receiver.received("/install")[0]
    assert set(page.query) == {"DOMAIN", "PROTOCOL", "LANG", "APP_SID"}
    assert page.query["DOMAIN"] == portal.domain and page.query["PROTOCOL"] == "0"
    assert set(page.form) == {"AUTH_ID", "AUTH_EXPIRES", "REFRESH_ID", "SERVER_ENDPOINT", "member_id", "status",
                              "PLACEMENT", "PLACEMENT_OPTIONS", "APPLICATION_TOKEN", "APPLICATION_SCOPE"}
    assert page.form["PLACEMENT"] == "DEFAULT" and page.form["APPLICATION_SCOPE"] == "crm,placement"
    assert page.form["SERVER_ENDPOINT"] == portal.sb.url + "/rest/" and page.form["status"] == "L"
    assert page.headers["Content-Type"] == "application/x-www-form-urlencoded"
    parsed = OAuthPlacementData.from_dict(page.all)
    assert parsed.member_id == portal.member_id and parsed.placement == "DEFAULT"

    ev = receiver.wait_for("/onappinstall")[0]
    data = parse_str(ev.raw)
    assert data["event"] == "ONAPPINSTALL"
    assert data["data"] == {"VERSION": "1", "ACTIVE": "Y", "INSTALLED": "Y", "LANGUAGE_ID": "ru"}
    assert data["auth"]["refresh_token"] and data["auth"]["application_token"] == page.form["APPLICATION_TOKEN"]
    assert_same_shape(fixture_json("event_onappinstall.json"), data,
                      extra_ok=frozenset({"event_handler_id", "expires", "user_id"}), form=True)
    parsed_ev = OAuthEventData.from_dict(dict(parse_qs_flat(ev.raw)))
    assert not parsed_ev.is_system and parsed_ev.auth.member_id == portal.member_id

    portal.wait_idle()
    assert receiver.received("/lead") == []  # the change during installation was not sent
    assert portal.call("app.info", token=page.form["AUTH_ID"]).json()["result"]["INSTALLED"] is True
    view = portal.ctl("GET", "/apps/local.ui.1").json()
    assert view["installed"] is True and view["application_token"] == page.form["APPLICATION_TOKEN"]
    assert {e["event"] for e in view["events"]} == {"ONAPPINSTALL", "ONCRMLEADADD"}


def parse_qs_flat(raw: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def test_install_page_failure_leaves_app_not_installed(portal: Portal, receiver: Receiver) -> None:
    receiver.statuses["/install"] = 500
    portal.register_app("local.fail.1", receiver.at("/install"))
    r = portal.ctl("POST", "/apps/local.fail.1/install", {})
    assert r.status_code == 502 and r.json()["installed"] is False
    assert portal.ctl("GET", "/apps/local.fail.1").json()["installed"] is False


def test_install_without_ui_posts_onappinstall_to_install_url(portal: Portal, receiver: Receiver) -> None:
    portal.register_app("app.noui.1", receiver.at("/handler"), ui=False, scopes=["crm"])
    res = portal.install("app.noui.1")
    assert res["installed"] is True and res["onappinstall"][0]["status"] == 200
    ev = receiver.received("/handler")[0]
    data = parse_str(ev.raw)
    assert data["event"] == "ONAPPINSTALL" and data["auth"]["status"] == "F"
    assert int(data["auth"]["expires"]) - int(data["ts"]) == 3600
    tok = data["auth"]["access_token"]
    events = portal.call("event.get", token=tok).json()["result"]
    assert events == [{"event": "ONAPPINSTALL", "handler": receiver.at("/handler"), "auth_type": "0", "offline": 0}]
    OAuthEventData.from_dict(parse_qs_flat(ev.raw))


def test_refresh_rotation_and_errors(portal: Portal, installed_app: InstalledApp) -> None:
    sb = portal.sb
    r = _refresh(sb.url, installed_app.client_id, installed_app.secret, installed_app.refresh_token)
    assert r.status_code == 200, r.text
    body = r.json()
    assert_same_shape(fixture_json("oauth_token_refresh_response.json"), body)
    assert body["domain"] == sb.url.split("://")[1] and body["server_endpoint"] == sb.url + "/rest/"
    assert body["client_endpoint"] == portal.rest_url and body["member_id"] == portal.member_id
    assert body["expires_in"] == 3600 and abs(body["expires"] - (time.time() + 3600)) < 5
    assert body["user_id"] == 1 and body["scope"] == "crm,bizproc,placement,user,task"
    assert body["refresh_token"] != installed_app.refresh_token
    # the used refresh token is dead
    r = _refresh(sb.url, installed_app.client_id, installed_app.secret, installed_app.refresh_token)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # POST works too, with the rotated one
    r2 = _refresh(sb.url, installed_app.client_id, installed_app.secret, body["refresh_token"], post=True)
    assert r2.status_code == 200
    r = _refresh(sb.url, installed_app.client_id, "wrong", r2.json()["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = requests.get(sb.url + "/oauth/token/", params={"client_id": "x"}, timeout=10)
    assert r.json()["error"] == "invalid_request"
    stats = portal.ctl("GET", "/oauth-stats").json()[installed_app.client_id]
    assert stats["refresh"] == 2 and stats["refresh_failed"] == 2
    # the new access token works, the old one still does until it expires
    assert portal.call("sbtest.echo", token=body["access_token"]).status_code == 200


def test_access_tokens_expire_after_an_hour_of_portal_time(portal: Portal, installed_app: InstalledApp) -> None:
    sb = portal.sb
    assert portal.call("sbtest.echo", token=installed_app.access_token).status_code == 200
    requests.put(sb.url + "/_sandbox/clock", json={"offset_s": 3601}, timeout=10)
    try:
        r = portal.call("sbtest.echo", token=installed_app.access_token)
        assert r.status_code == 401 and r.json()["error"] == "expired_token"
        fresh = _refresh(sb.url, installed_app.client_id, installed_app.secret, installed_app.refresh_token).json()
        assert portal.call("sbtest.echo", token=fresh["access_token"]).status_code == 200
    finally:
        requests.put(sb.url + "/_sandbox/clock", json={"offset_s": 0}, timeout=10)


def test_authorization_code_flow(portal: Portal, installed_app: InstalledApp) -> None:
    sb = portal.sb
    r = requests.get(portal.rest_url.replace("/rest/", "/oauth/authorize/"),
                     params={"client_id": installed_app.client_id, "state": "s1"}, allow_redirects=False, timeout=10)
    assert r.status_code == 302
    q = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
    assert set(q) == {"code", "state", "domain", "member_id", "scope", "server_domain"}
    assert q["state"] == "s1" and q["domain"] == portal.domain and q["server_domain"] == sb.url.split("://")[1]
    params = {"grant_type": "authorization_code", "client_id": installed_app.client_id,
              "client_secret": installed_app.secret, "code": q["code"]}
    r = requests.get(sb.url + "/oauth/token/", params=params, timeout=10)
    assert r.status_code == 200
    assert set(fixture_json("oauth_token_authorization_code_response.json")) <= set(r.json())
    assert requests.get(sb.url + "/oauth/token/", params=params, timeout=10).json()["error"] == "invalid_grant"
    # a code lives 30 seconds
    r = requests.get(sb.url + "/oauth/authorize/", params={"client_id": installed_app.client_id,
                                                           "domain": portal.domain}, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(r.headers["Location"]).query)["code"][0]
    requests.put(sb.url + "/_sandbox/clock", json={"offset_s": 31}, timeout=10)
    try:
        r = requests.get(sb.url + "/oauth/token/", params=dict(params, code=code), timeout=10)
        assert r.json()["error"] == "invalid_grant"
    finally:
        requests.put(sb.url + "/_sandbox/clock", json={"offset_s": 0}, timeout=10)


def test_app_info_at_the_oauth_server(portal: Portal, installed_app: InstalledApp) -> None:
    for path in ("/rest/app.info", "/rest/app.info/"):
        r = requests.get(portal.sb.url + path, params={"auth": installed_app.access_token}, timeout=10)
        assert r.status_code == 200, r.text
        info = B24AppInfoResult.from_dict(r.json()["result"])
        assert info.client_id == installed_app.client_id and info.user_id == 1
        assert info.install.installed is True and info.install.member_id == portal.member_id
        assert info.install.domain == portal.domain and info.install.client_endpoint == portal.rest_url
    placement = OAuthPlacementData.from_dict(installed_app.install_form)
    assert placement.validate_against_app_info(info) is True
    r = requests.get(portal.sb.url + "/rest/app.info", params={"auth": "bad"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_update_resends_tokens_and_deletes_robots(portal: Portal, installed_app: InstalledApp,
                                                   receiver: Receiver) -> None:
    tok = installed_app.access_token
    portal.call("event.bind", {"event": "ONAPPUPDATE", "handler": receiver.at("/upd")}, token=tok)
    r = portal.call("bizproc.robot.add", {"CODE": "r1", "HANDLER": receiver.at("/robot"), "NAME": "R"}, token=tok)
    assert r.json()["result"] is True
    res = portal.ctl("POST", f"/apps/{installed_app.client_id}/update", {}).json()
    assert res["version"] == 2 and res["page_status"] == 200
    assert portal.call("bizproc.robot.list", token=tok).json()["result"] == []
    assert not OAuthEventData.from_dict(parse_qs_flat(receiver.received("/upd")[0].raw)).is_system
    ev = parse_str(receiver.received("/upd")[0].raw)
    assert ev["event"] == "ONAPPUPDATE" and ev["data"]["VERSION"] == "2" and ev["data"]["PREVIOUS_VERSION"] == "1"
    assert ev["auth"]["refresh_token"]
    assert len(receiver.received("/install")) == 2  # the installer page ran again for the new version
    assert portal.call("app.info", token=tok).json()["result"]["VERSION"] == 2


def test_uninstall(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    tok = installed_app.access_token
    portal.call("event.bind", {"event": "ONAPPUNINSTALL", "handler": receiver.at("/bye")}, token=tok)
    portal.call("placement.bind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": receiver.at("/tab")}, token=tok)
    portal.call("app.option.set", {"options": {"k": "v"}}, token=tok)
    res = portal.ctl("POST", f"/apps/{installed_app.client_id}/uninstall", {"clean": True}).json()
    assert res["installed"] is False
    raw = receiver.received("/bye")[0].raw
    data = parse_str(raw)
    assert_same_shape(fixture_json("event_onappuninstall.json"), data, extra_ok=frozenset({"event_handler_id"}),
                      form=True)
    assert data["data"] == {"LANGUAGE_ID": "ru", "CLEAN": "1"}
    assert "access_token" not in data["auth"]
    assert OAuthEventData.from_dict(parse_qs_flat(raw)).is_system
    assert portal.call("sbtest.echo", token=tok).json()["error"] == "invalid_token"
    view = portal.ctl("GET", f"/apps/{installed_app.client_id}").json()
    assert view["events"] == [] and view["placements"] == [] and view["options"] == {}
    r = requests.get(portal.sb.url + "/oauth/token/", params={
        "grant_type": "refresh_token", "client_id": installed_app.client_id, "client_secret": "secret-1",
        "refresh_token": installed_app.refresh_token}, timeout=10)
    assert r.json()["error"] == "invalid_grant"
    # the application_token is constant for the (portal, app)
    portal.install(installed_app.client_id)
    assert portal.ctl("GET", f"/apps/{installed_app.client_id}").json()["application_token"] == \
        installed_app.application_token


def test_app_options(portal: Portal, installed_app: InstalledApp) -> None:
    tok = installed_app.access_token
    r = portal.call("app.option.set", {"options": {"data": "value", "data2": "value2", "n": 5}}, token=tok)
    assert_same_shape(fixture_json("app_option_set_response.json"), r.json(), extra_ok=TIME_EXTRA)
    r = portal.call("app.option.get", {"option": "data"}, token=tok)
    assert_same_shape(fixture_json("app_option_get_one_response.json"), r.json(), extra_ok=TIME_EXTRA)
    assert r.json()["result"] == "value"
    r = portal.call("app.option.get", token=tok)
    assert r.json()["result"] == {"data": "value", "data2": "value2", "n": 5}
    assert portal.call("app.option.get", {"option": "none"}, token=tok).json()["result"] is None
    r = portal.call("app.option.set", {"options": {}}, token=tok)
    assert r.status_code == 400 and r.json()["error"] == "ERROR_ARGUMENT"
    r = portal.call("app.option.set", {"options": {"a": 1}}, hook=portal.webhook(1))
    assert r.status_code == 403
    assert r.json()["error_description"] == "Access denied! Application context required"


def test_placements(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    tok = installed_app.access_token
    r = portal.call("placement.bind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": receiver.at("/tab"),
                                       "TITLE": "МеталПром"}, token=tok)
    assert_same_shape(fixture_json("placement_bind_response.json"), r.json(), extra_ok=TIME_EXTRA)
    r = portal.call("placement.bind", {"HANDLER": receiver.at("/tab")}, token=tok)
    assert r.status_code == 400 and r.json() == fixture_json("placement_bind_error.json")
    r = portal.call("placement.bind", {"PLACEMENT": "NO_SUCH", "HANDLER": receiver.at("/tab")}, token=tok)
    assert r.json()["error"] == "ERROR_PLACEMENT_NOT_FOUND"
    r = portal.call("placement.bind", {"PLACEMENT": "CRM_LEAD_DETAIL_TAB", "HANDLER": "http://localhost/x"},
                    token=tok)
    assert r.json()["error"] == "ERROR_WRONG_HANDLER_URL"
    r = portal.call("placement.bind", {"PLACEMENT": "CRM_LEAD_DETAIL_TAB", "HANDLER": "ftp://a.b.ru/x"}, token=tok)
    assert r.json()["error"] == "ERROR_UNSUPPORTED_PROTOCOL"
    r = portal.call("placement.bind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB", "HANDLER": receiver.at("/tab")},
                    hook=portal.webhook(1))
    assert r.status_code == 403 and r.json()["error"] == "WRONG_AUTH_TYPE"
    got = portal.call("placement.get", token=tok).json()["result"]
    assert [(g["placement"], g["handler"], g["title"]) for g in got] == [
        ("CRM_DEAL_DETAIL_TAB", receiver.at("/tab"), "МеталПром")]
    assert "CRM_DEAL_DETAIL_TAB" in portal.call("placement.list", token=tok).json()["result"]
    opened = portal.ctl("POST", f"/apps/{installed_app.client_id}/open",
                        {"placement": "CRM_DEAL_DETAIL_TAB", "options": {"ID": "8061"}}).json()
    assert opened["status"] == 200
    cap = receiver.received("/tab")[0]
    parsed = OAuthPlacementData.from_dict(cap.all)
    assert parsed.placement == "CRM_DEAL_DETAIL_TAB" and parsed.placement_options == {"ID": "8061"}
    r = portal.call("placement.unbind", {"PLACEMENT": "CRM_DEAL_DETAIL_TAB"}, token=tok)
    assert r.json()["result"] == {"count": 1}


def test_scope_and_methods(portal: Portal, installed_app: InstalledApp) -> None:
    r = portal.call("scope", token=installed_app.access_token)
    assert_same_shape(fixture_json("scope_response.json"), r.json(), extra_ok=TIME_EXTRA)
    assert r.json()["result"] == ["bizproc", "crm", "placement", "task", "user"]
    methods = portal.call("methods", token=installed_app.access_token).json()["result"]
    assert {"batch", "app.info", "event.bind", "bizproc.robot.add", "placement.bind", "sbtest.echo"} <= set(methods)
    assert "sbtest.disk" not in methods


def test_app_option_get_all_fixture_and_lang_all(portal: Portal, installed_app: InstalledApp,
                                                 receiver: Receiver) -> None:
    tok = installed_app.access_token
    portal.call("app.option.set", {"options": {"data": "value", "data2": "value2"}}, token=tok)
    r = portal.call("app.option.get", token=tok)
    assert_same_shape(fixture_json("app_option_get_all_response.json"), r.json(), extra_ok=TIME_EXTRA)
    lang_all = {"en": {"TITLE": "title", "DESCRIPTION": "description", "GROUP_NAME": "group"},
                "de": {"TITLE": "Titel", "DESCRIPTION": "Beschreibung", "GROUP_NAME": "Gruppe"}}
    r = portal.call("placement.bind", {"PLACEMENT": "CRM_LEAD_DETAIL_TAB", "HANDLER": receiver.at("/t"),
                                       "LANG_ALL": lang_all}, token=tok)
    assert r.json()["result"] is True
    got = portal.call("placement.get", token=tok).json()["result"]
    assert got[0]["langAll"] == lang_all and got[0]["title"] == "title"
