"""Forged calls at the inbound endpoints over real HTTP, against an app installed in a МеталПром
sandbox portal: a wrong ``application_token`` on events, robot calls and ONAPPUNINSTALL; another
portal's token; forged install payloads — made-up tokens, a token of another application, and the
insider case: a manager who opened the app (so holds their own real token of our application and the
APPLICATION_TOKEN the page form carries) posting an install payload or ONAPPUPDATE to take over the
installation. None may queue a job, change the stored installation or uninstall the app."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from b24app.store import inbound, installations
from b24app.store import jobs as jobs_repo
from tests.scenarios.analytics.conftest import install_app, portal_post, user_token

ADMIN, PETROV = 1, 4


@pytest.fixture
def two(sandbox, app_factory) -> dict[str, Any]:
    """The app installed in a МеталПром portal A and an empty portal B."""
    app = app_factory()
    a, b = sandbox.new_portal("metalprom"), sandbox.new_portal("empty")
    views = {p["member_id"]: install_app(sandbox, app, p["member_id"]) for p in (a, b)}
    return {"app": app, "a": a, "b": b, "token_a": views[a["member_id"]]["application_token"],
            "token_b": views[b["member_id"]]["application_token"]}


def snapshot(app: Any, member_id: str) -> dict[str, Any]:
    inst = installations.get(app.db, member_id)
    assert inst is not None
    return {"application_token": inst.application_token, "access_token": inst.access_token,
            "refresh_token": inst.refresh_token, "user_id": inst.user_id, "status": inst.status,
            "client_endpoint": inst.client_endpoint, "jobs": jobs_repo.counts(app.db, member_id),
            "inbound": inbound.count(app.db, member_id)}


def event(member: str, token: str, name: str = "ONCRMLEADADD", **extra: str) -> dict[str, str]:
    return {"event": name, "event_handler_id": "7", "data[FIELDS][ID]": "5", "ts": "1767000000",
            "auth[member_id]": member, "auth[application_token]": token, "auth[domain]": "x.bitrix24.ru", **extra}


def robot(member: str, token: str, n: int = 1) -> dict[str, str]:
    return {"workflow_id": f"wf{n}", "code": "b24app_timeline_comment", "document_id[0]": "crm",
            "document_id[1]": "CCrmDocumentDeal", "document_id[2]": "DEAL_5", "document_type[0]": "crm",
            "document_type[1]": "CCrmDocumentDeal", "document_type[2]": "DEAL", "event_token": f"wf{n}|A|x{n}",
            "properties[text]": "x", "use_subscription": "Y", "timeout_duration": "0", "ts": "1767000000",
            "auth[member_id]": member, "auth[application_token]": token, "auth[domain]": "x.bitrix24.ru"}


def test_events_and_robot_calls_need_the_portals_own_application_token(two) -> None:
    app, a, b = two["app"], two["a"]["member_id"], two["b"]["member_id"]
    before_a, before_b = snapshot(app, a), snapshot(app, b)
    refused = [
        ("/events", event(a, "0" * 32)),  # made up
        ("/events", event(a, two["token_b"])),  # portal B's genuine token speaking for A
        ("/events", event(b, two["token_a"])),
        ("/events", event(a, "")),
        ("/events", {k: v for k, v in event(a, two["token_a"]).items() if k != "auth[application_token]"}),
        ("/events", event("f" * 32, two["token_a"])),  # a portal that never installed the app
        ("/robots/b24app_timeline_comment", robot(a, "0" * 32)),
        ("/robots/b24app_timeline_comment", robot(a, two["token_b"], 2)),
        ("/robots/b24app_timeline_comment", robot(b, two["token_a"], 3)),
        ("/events", event(a, two["token_b"], "ONAPPUNINSTALL", **{"data[CLEAN]": "1"})),
        ("/events", event(a, "0" * 32, "ONAPPUNINSTALL", **{"data[CLEAN]": "1"})),
        ("/install", event(a, two["token_b"], "ONAPPUNINSTALL", **{"data[CLEAN]": "1"})),
    ]
    for path, body in refused:
        r = requests.post(app.url + path, data=body, timeout=15)
        assert r.status_code in (400, 401), (path, body, r.status_code, r.text[:200])
    assert snapshot(app, a) == before_a and snapshot(app, b) == before_b  # nothing queued, nothing changed
    # the same call with the right token is taken (the forged ones were refused for the token alone)
    assert requests.post(app.url + "/events", data=event(a, two["token_a"]), timeout=15).status_code == 200
    assert snapshot(app, a)["inbound"] == before_a["inbound"] + 1


def test_forged_install_payloads_change_nothing(sandbox, two, app_factory) -> None:
    app, portal, m = two["app"], two["a"], two["a"]["member_id"]
    before = snapshot(app, m)
    # made-up tokens, on the install page and as ONAPPINSTALL
    url, form = portal_post(sandbox, app, portal, ADMIN, path="/install", AUTH_ID="0" * 32, REFRESH_ID="r" * 32,
                            APPLICATION_TOKEN="evil-token")
    assert requests.post(url, data=form, timeout=15).status_code == 401
    forged = {"event": "ONAPPINSTALL", "data[VERSION]": "1", "data[LANGUAGE_ID]": "ru", "ts": "1",
              "auth[access_token]": "0" * 32, "auth[refresh_token]": "r" * 32, "auth[expires_in]": "3600",
              "auth[member_id]": m, "auth[domain]": portal["domain"], "auth[application_token]": "evil-token",
              "auth[client_endpoint]": "http://169.254.169.254/rest/", "auth[server_endpoint]": "http://evil/"}
    assert requests.post(app.url + "/install", data=forged, timeout=15).status_code == 401
    # a real token of another application installed on the same portal
    stranger = app_factory("stranger")
    install_app(sandbox, stranger, m)
    other = user_token(sandbox, stranger, portal, ADMIN)
    assert requests.post(app.url + "/install", data={**forged, "auth[access_token]": other["access_token"]},
                         timeout=15).status_code == 401
    # another portal's real token of our application, claiming this portal
    b_token = user_token(sandbox, app, two["b"], ADMIN)
    assert requests.post(app.url + "/install", data={**forged, "auth[access_token]": b_token["access_token"]},
                         timeout=15).status_code == 401
    assert snapshot(app, m) == before


def test_a_manager_cannot_take_over_the_installation(sandbox, two) -> None:
    """Петров (not an administrator) opened the app, so his browser holds a real token of our app for this
    portal and the APPLICATION_TOKEN. Posting them as an install payload (page or ONAPPINSTALL) or as
    ONAPPUPDATE must not replace the installation's tokens or its application_token."""
    app, portal, m = two["app"], two["a"], two["a"]["member_id"]
    before = snapshot(app, m)
    url, form = portal_post(sandbox, app, portal, PETROV, path="/install", APPLICATION_TOKEN="evil-token")
    r = requests.post(url, data=form, timeout=15)
    assert r.status_code in (401, 403), r.text[:300]
    url, form = portal_post(sandbox, app, portal, PETROV, path="/install")  # his genuine APPLICATION_TOKEN
    assert requests.post(url, data=form, timeout=15).status_code in (401, 403)
    tok = user_token(sandbox, app, portal, PETROV)
    body = {"data[VERSION]": "2", "data[LANGUAGE_ID]": "ru", "ts": "1", "auth[access_token]": tok["access_token"],
            "auth[refresh_token]": tok["refresh_token"], "auth[expires_in]": "3600", "auth[member_id]": m,
            "auth[domain]": portal["domain"]}
    for name, app_token in (("ONAPPINSTALL", "evil-token"), ("ONAPPINSTALL", two["token_a"]),
                            ("ONAPPUPDATE", two["token_a"])):
        r = requests.post(app.url + ("/install" if name == "ONAPPINSTALL" else "/events"),
                          data={"event": name, "auth[application_token]": app_token, **body}, timeout=15)
        assert r.status_code in (401, 403), (name, r.status_code, r.text[:300])
    after = snapshot(app, m)
    assert after == before, (before, after)
    # the portal's genuine events still pass
    assert requests.post(app.url + "/events", data=event(m, two["token_a"]), timeout=15).status_code == 200


def test_the_administrator_reopening_the_installer_keeps_working(sandbox, two) -> None:
    """The fix above must not lock out the administrator: the install page opened again by the admin
    (real token, the portal's application_token) is accepted and the installation stays the same one."""
    app, portal, m = two["app"], two["a"], two["a"]["member_id"]
    before = snapshot(app, m)
    url, form = portal_post(sandbox, app, portal, ADMIN, path="/install")
    assert requests.post(url, data=form, timeout=15).status_code == 200
    after = snapshot(app, m)
    assert after["application_token"] == before["application_token"] and after["status"] == "active"
    assert after["user_id"] == ADMIN
