"""Events over real HTTP: binding rules, the three auth shapes, delivery log, offline queue."""

from __future__ import annotations

from urllib.parse import parse_qs

import requests
from b24pysdk.credentials import OAuthEventData

from b24sandbox.portal.phpform import parse_str

from . import testmethods  # noqa: F401
from .conftest import InstalledApp, Portal, Receiver, fixture_json
from .shape import TIME_EXTRA, assert_same_shape


def flat(raw: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def bind(portal: Portal, tok: str, event: str, handler: str, **extra) -> requests.Response:  # type: ignore[no-untyped-def]
    return portal.call("event.bind", {"event": event, "handler": handler, **extra}, token=tok)


def test_bind_validation(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    tok = installed_app.access_token
    r = bind(portal, tok, "ONCRMLEADADD", receiver.at("/h"))
    assert_same_shape(fixture_json("event_bind_response.json"), r.json(), extra_ok=TIME_EXTRA)
    r = bind(portal, tok, "ONNOSUCHEVENT", receiver.at("/h"))
    assert (r.status_code, r.json()) == (400, fixture_json("event_bind_error_event_not_found.json"))
    r = bind(portal, tok, "oncrmleadadd", receiver.at("/h"))
    assert r.json() == {"error": "ERROR_CORE", "error_description": "Unable to set event handler: Handler already binded"}
    r = bind(portal, tok, "ONCRMLEADADD", "http://localhost:8000/h")
    assert r.json()["error"] == "ERROR_WRONG_HANDLER_URL"
    r = bind(portal, tok, "ONCRMLEADADD", "ftp://example.ru/h")
    assert r.json()["error"] == "ERROR_UNSUPPORTED_PROTOCOL"
    r = portal.call("event.bind", {"event": "ONCRMLEADADD"}, token=tok)
    assert r.json()["error"] == "ERROR_ARGUMENT"
    r = portal.call("event.bind", {"event": "ONCRMLEADADD", "handler": receiver.at("/w")}, hook=portal.webhook(1))
    assert (r.status_code, r.json()["error"]) == (403, "WRONG_AUTH_TYPE")
    r = bind(portal, tok, "ONCRMLEADUPDATE", receiver.at("/h2"), auth_type=15)
    assert r.json()["result"] is True
    got = portal.call("event.get", token=tok).json()
    assert_same_shape(fixture_json("event_get_response.json"), got, extra_ok=TIME_EXTRA)
    assert got["result"] == [
        {"event": "ONCRMLEADADD", "handler": receiver.at("/h"), "auth_type": "0", "offline": 0},
        {"event": "ONCRMLEADUPDATE", "handler": receiver.at("/h2"), "auth_type": "15", "offline": 0},
    ]
    r = portal.call("event.unbind", {"event": "ONCRMLEADADD", "handler": receiver.at("/h")}, token=tok)
    assert_same_shape(fixture_json("event_unbind_response.json"), r.json(), extra_ok=TIME_EXTRA)
    assert r.json()["result"] == {"count": 1}
    assert "ONCRMDEALADD" in portal.call("events", token=tok).json()["result"]


def test_event_of_a_scope_not_granted_is_not_found(portal: Portal, receiver: Receiver) -> None:
    portal.register_app("local.crm.x", receiver.at("/i"), scopes=["crm"])
    portal.install("local.crm.x")
    tok = receiver.received("/i")[0].form["AUTH_ID"]
    assert bind(portal, tok, "ONTASKADD", receiver.at("/t")).json()["error"] == "ERROR_EVENT_NOT_FOUND"
    assert bind(portal, tok, "ONCRMDYNAMICITEMADD_31", receiver.at("/t")).json()["result"] is True


def test_user_change_carries_the_users_token(portal: Portal, installed_app: InstalledApp,
                                              receiver: Receiver) -> None:
    bind(portal, installed_app.access_token, "ONCRMLEADADD", receiver.at("/lead"))
    portal.call("sbtest.change", {"id": 41}, hook=portal.webhook(1))
    cap = receiver.wait_for("/lead")[0]
    assert cap.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "data%5BFIELDS%5D%5BID%5D=41" in cap.raw and "auth%5Bapplication_token%5D=" in cap.raw
    data = parse_str(cap.raw)
    assert data["data"] == {"FIELDS": {"ID": "41"}}
    assert_same_shape(fixture_json("event_oncrmdealadd_to_app.json"), data, form=True,
                      extra_ok=frozenset({"expires", "user_id"}))
    assert "refresh_token" not in data["auth"] and data["auth"]["user_id"] == "1"
    assert data["auth"]["application_token"] == installed_app.application_token
    parsed = OAuthEventData.from_dict(flat(cap.raw))
    assert not parsed.is_system and parsed.event == "ONCRMLEADADD"
    # the token is a real one of this app
    r = portal.call("sbtest.echo", token=data["auth"]["access_token"])
    assert r.json()["result"]["client_id"] == installed_app.client_id


def test_the_apps_own_change_carries_no_token(portal: Portal, installed_app: InstalledApp,
                                               receiver: Receiver) -> None:
    tok = installed_app.access_token
    bind(portal, tok, "ONCRMLEADADD", receiver.at("/lead"))
    portal.call("sbtest.change", {"id": 42}, token=tok)
    data = parse_str(receiver.wait_for("/lead")[0].raw)
    assert set(data["auth"]) == set(fixture_json("event_oncrmdealadd_to_outgoing_webhook.json")["auth"])
    assert OAuthEventData.from_dict(flat(receiver.received("/lead")[0].raw)).is_system


def test_change_by_another_app_carries_a_token_for_the_receiver(portal: Portal, installed_app: InstalledApp,
                                                                 receiver: Receiver) -> None:
    bind(portal, installed_app.access_token, "ONCRMLEADADD", receiver.at("/lead"))
    portal.register_app("local.other", receiver.at("/i-other"), scopes=["crm"])
    portal.install("local.other")
    other_tok = receiver.received("/i-other")[0].form["AUTH_ID"]
    portal.call("sbtest.change", {"id": 43}, token=other_tok)
    data = parse_str(receiver.wait_for("/lead")[0].raw)
    assert data["auth"]["access_token"] and data["auth"]["access_token"] != other_tok
    r = portal.call("sbtest.echo", token=data["auth"]["access_token"])
    assert r.json()["result"]["client_id"] == installed_app.client_id


def test_portal_change_and_auth_type_binding(portal: Portal, installed_app: InstalledApp,
                                              receiver: Receiver) -> None:
    tok = installed_app.access_token
    bind(portal, tok, "ONCRMDEALADD", receiver.at("/plain"))
    bind(portal, tok, "ONCRMDEALADD", receiver.at("/as1"), auth_type=1)
    portal.ctl("POST", "/fire-event", {"event": "ONCRMDEALADD", "data": {"FIELDS": {"ID": "9"}}})
    assert "access_token" not in parse_str(receiver.wait_for("/plain")[0].raw)["auth"]
    assert parse_str(receiver.wait_for("/as1")[0].raw)["auth"]["user_id"] == "1"


def test_no_retries_and_the_delivery_log(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    receiver.statuses["/down"] = 500
    bind(portal, installed_app.access_token, "ONCRMLEADADD", receiver.at("/down"))
    portal.call("sbtest.change", {"id": 44}, hook=portal.webhook(1))
    rows = portal.deliveries(kind="event")
    assert [(r["event"], r["status"], r["ok"]) for r in rows] == [("ONCRMLEADADD", 500, False)]
    assert rows[0]["body"]["data"] == {"FIELDS": {"ID": "44"}}
    assert len(receiver.received("/down")) == 1


def test_identical_events_of_one_call_are_sent_once(portal: Portal, installed_app: InstalledApp,
                                                     receiver: Receiver) -> None:
    bind(portal, installed_app.access_token, "ONCRMLEADADD", receiver.at("/lead"))
    portal.call("batch", {"cmd": {"a": "sbtest.change?id=7", "b": "sbtest.change?id=7", "c": "sbtest.change?id=8"}},
                hook=portal.webhook(1))
    portal.wait_idle()
    ids = sorted(parse_str(c.raw)["data"]["FIELDS"]["ID"] for c in receiver.received("/lead"))
    assert ids == ["7", "8"]


def test_event_test_method(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    bind(portal, installed_app.access_token, "ONAPPTEST", receiver.at("/test"))
    portal.call("event.test", {"any": "thing"}, token=installed_app.access_token)
    raw = receiver.wait_for("/test")[0].raw
    data = parse_str(raw)
    assert data["data"] == {"QUERY": {"any": "thing"}} and data["auth"]["refresh_token"]
    assert OAuthEventData.from_dict(flat(raw)).event == "ONAPPTEST"


# -- offline --------------------------------------------------------------------------------------------------


def test_offline_queue(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    tok = installed_app.access_token
    hook = portal.webhook(1)
    assert portal.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"}, token=tok).json()["result"]
    assert portal.call("event.get", token=tok).json()["result"] == [
        {"event": "ONCRMLEADADD", "connector_id": "", "offline": 1}]
    portal.call("sbtest.change", {"id": 1}, hook=hook)
    portal.call("sbtest.change", {"id": 1}, hook=hook)  # the same object again: coalesced
    portal.call("sbtest.change", {"id": 2}, hook=hook)
    portal.call("sbtest.change", {"id": 3}, token=tok)  # the app's own change: not queued
    portal.call("sbtest.change", {"id": 4, "auth_connector": "crm-sync"}, token=tok)  # other connector: queued
    listed = portal.call("event.offline.list", token=tok).json()
    assert_same_shape(fixture_json("event_offline_list_response.json"), listed, extra_ok=TIME_EXTRA,
                      loose=frozenset({"EVENT_DATA", "EVENT_ADDITIONAL"}))  # the docs example shows false
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in listed["result"]] == ["1", "2", "4"]
    assert listed["total"] == 3 and listed["result"][0]["PROCESS_ID"] == "" and listed["result"][0]["ERROR"] == "0"
    assert listed["result"][0]["EVENT_ADDITIONAL"] == {"user_id": 1}

    got = portal.call("event.offline.get", {"limit": 2}, token=tok).json()
    assert got["result"]["process_id"] is None
    assert set(got["result"]["events"][0]) == set(fixture_json("event_offline_get_response.json")["result"]["events"][0])
    assert [e["EVENT_DATA"]["FIELDS"]["ID"] for e in got["result"]["events"]] == ["1", "2"]
    assert portal.call("event.offline.list", token=tok).json()["total"] == 1  # clear=1 deleted them

    portal.call("sbtest.change", {"id": 5}, hook=hook)
    reserved = portal.call("event.offline.get", {"clear": 0}, token=tok).json()["result"]
    pid = reserved["process_id"]
    assert pid and [e["EVENT_DATA"]["FIELDS"]["ID"] for e in reserved["events"]] == ["4", "5"]
    assert portal.call("event.offline.get", {"clear": 0}, token=tok).json()["result"]["events"] == []
    again = portal.call("event.offline.get", {"clear": 0, "process_id": pid}, token=tok).json()["result"]
    assert [e["ID"] for e in again["events"]] == [e["ID"] for e in reserved["events"]]
    mid5 = reserved["events"][1]["MESSAGE_ID"]
    assert portal.call("event.offline.error", {"process_id": pid, "message_id": [mid5]}, token=tok).json()["result"]
    assert portal.call("event.offline.clear", {"process_id": pid}, token=tok).json()["result"] is True
    errs = portal.call("event.offline.get", {"error": 1}, token=tok).json()["result"]["events"]
    assert [e["MESSAGE_ID"] for e in errs] == [mid5]
    assert portal.call("event.offline.list", token=tok).json()["total"] == 0


def test_offline_rules(portal: Portal, installed_app: InstalledApp, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tok = installed_app.access_token
    r = portal.call("event.bind", {"event": "ONOFFLINEEVENT", "event_type": "offline"}, token=tok)
    assert r.status_code == 400
    r = portal.call("event.offline.get", hook=portal.webhook(1))
    assert r.status_code == 403 and r.json()["error"] == "WRONG_AUTH_TYPE"


def test_onofflineevent_notification(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    tok = installed_app.access_token
    portal.call("event.bind", {"event": "ONCRMLEADADD", "event_type": "offline"}, token=tok)
    portal.call("event.bind", {"event": "ONOFFLINEEVENT", "handler": receiver.at("/off")}, token=tok)
    hook = portal.webhook(1)
    portal.call("sbtest.change", {"id": 1}, hook=hook)
    portal.call("sbtest.change", {"id": 2}, hook=hook)  # within minTimeout (1 s): no second notification
    portal.wait_idle()
    caps = receiver.received("/off")
    assert len(caps) == 1
    data = parse_str(caps[0].raw)
    expected = fixture_json("event_onofflineevent.json")
    del expected["data"]  # an empty array is not written into a form body at all
    assert_same_shape(expected, data, form=True, extra_ok=frozenset({"event_handler_id", "expires", "user_id"}))
    assert data["auth"]["refresh_token"]
    assert OAuthEventData.from_dict(flat(caps[0].raw)).event == "ONOFFLINEEVENT"
