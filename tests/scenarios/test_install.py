"""Install, update and uninstall against the sandbox portal over real HTTP."""

from __future__ import annotations

import requests

from b24app.robots.registry import robots
from b24app.store import installations, jobs
from tests.scenarios.conftest import install, register_app


def portal_client(app, member_id):
    return app.services.client(member_id)


def test_install_with_ui_registers_robots_events_and_widgets(sandbox, app_factory) -> None:
    app = app_factory()
    portal = sandbox.new_portal("empty")
    view = install(sandbox, app, portal["member_id"], ui=True)
    client = portal_client(app, portal["member_id"])
    # checked through the portal's own methods, as the issue asks
    assert set(client.call("bizproc.robot.list")) == set(robots())
    bound = {(e["event"], e.get("handler")) for e in client.call("event.get")}
    assert ("ONAPPUNINSTALL", app.url + "/events") in bound and ("ONAPPUPDATE", app.url + "/events") in bound
    placements = {p["placement"] for p in client.call("placement.get")}
    assert "CRM_DEAL_DETAIL_TAB" in placements
    assert view["installed"] and view["application_token"]
    inst = installations.get(app.db, portal["member_id"])
    assert inst.application_token == view["application_token"]
    assert inst.client_endpoint == portal["rest_url"]


def test_install_without_ui_uses_onappinstall(sandbox, app_factory) -> None:
    app = app_factory()
    portal = sandbox.new_portal("empty")
    view = install(sandbox, app, portal["member_id"], ui=False)
    inst = installations.get(app.db, portal["member_id"])
    assert inst.refresh_token and inst.application_token == view["application_token"]
    assert {r["code"] for r in view["robots"]} == set(robots())


def test_update_re_registers_the_wiped_robots(sandbox, installed) -> None:
    app, portal, _ = installed
    m = portal["member_id"]
    sandbox.control("POST", f"/portals/{m}/apps/{app.config.client_id}/update")
    sandbox.wait_deliveries()
    app.drain()
    view = sandbox.control("GET", f"/portals/{m}/apps/{app.config.client_id}")
    assert {r["code"] for r in view["robots"]} == set(robots())
    assert len([e for e in view["events"] if e["event"] == "ONAPPUPDATE"]) == 1  # bound once, not twice


def test_uninstall_keeps_data_without_clean_and_deletes_it_with_clean(sandbox, app_factory) -> None:
    app = app_factory()
    for clean in (False, True):
        portal = sandbox.new_portal("empty")
        m = portal["member_id"]
        install(sandbox, app, m)
        jobs.enqueue(app.db, "portal.refresh", member_id=m, run_at=4_000_000_000)  # some data of the portal
        sandbox.control("POST", f"/portals/{m}/apps/{app.config.client_id}/uninstall", {"clean": clean})
        sandbox.wait_deliveries()
        app.drain()
        inst = installations.get(app.db, m)
        assert inst.status == installations.UNINSTALLED
        remaining = jobs.list_jobs(app.db, member_id=m, limit=1000)
        if clean:
            assert remaining == [] and inst.access_token == ""
        else:
            assert remaining, "without CLEAN the portal's data stays"


def test_forged_install_and_events_are_rejected(sandbox, app_factory) -> None:
    app = app_factory()
    a = sandbox.new_portal("empty")
    b = sandbox.new_portal("empty")
    install(sandbox, app, a["member_id"])
    register_app(sandbox, app, b["member_id"])
    inst_a = installations.get(app.db, a["member_id"])
    # a real token of portal A posted as portal B's install page
    forged = {"AUTH_ID": inst_a.access_token, "REFRESH_ID": "x", "AUTH_EXPIRES": "3600",
              "member_id": b["member_id"], "APPLICATION_TOKEN": "evil", "PLACEMENT": "DEFAULT"}
    r = requests.post(app.url + "/install", data=forged, params={"DOMAIN": b["domain"]}, timeout=10)
    assert r.status_code == 401 and "another portal" in r.json()["error"]
    r = requests.post(app.url + "/install", data=forged | {"AUTH_ID": "made-up", "member_id": a["member_id"]},
                      params={"DOMAIN": a["domain"]}, timeout=10)
    assert r.status_code == 401
    assert installations.get(app.db, b["member_id"]) is None
    assert installations.get(app.db, a["member_id"]).application_token == inst_a.application_token
    event = {"event": "ONCRMLEADADD", "data[FIELDS][ID]": "1", "ts": "1",
             "auth[member_id]": a["member_id"], "auth[application_token]": "wrong"}
    assert requests.post(app.url + "/events", data=event, timeout=10).status_code == 401
    event["auth[member_id]"] = "unknown-portal"
    assert requests.post(app.url + "/events", data=event, timeout=10).status_code == 401
    del event["auth[application_token]"]
    event["auth[member_id]"] = a["member_id"]
    assert requests.post(app.url + "/events", data=event, timeout=10).status_code == 401
    assert requests.post(app.url + "/events", data={"auth[member_id": "x"}, timeout=10).status_code == 400
    before = jobs.counts(app.db)
    assert before["queued"] == 0
