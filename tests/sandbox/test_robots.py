"""Robots and automation over real HTTP: registration rules, the robot call, event.send, timeouts."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

import requests
from b24pysdk.credentials import OAuthWorkflowData

from b24sandbox.portal.phpform import parse_str

from . import testmethods  # noqa: F401
from .conftest import InstalledApp, Portal, Receiver, fixture_json
from .shape import TIME_EXTRA, assert_same_shape

TOKEN_RE = re.compile(r"^[0-9a-f]{14}\.\d{8}\|A\d{5}_\d{5}_\d{5}_\d{5}\|[A-Za-z0-9]{32}\.[0-9a-f]{64}$")


def robot_body(handler: str, **over: Any) -> dict[str, Any]:
    body = fixture_json("bizproc_robot_add_request.json")
    body["HANDLER"] = handler
    body["PROPERTIES"].update({
        "flag": {"Name": "Flag", "Type": "bool"},
        "day": {"Name": "Day", "Type": "date"},
        "amount": {"Name": "Amount", "Type": "double"},
    })
    body["RETURN_PROPERTIES"] = {"outputString": {"Name": "Out", "Type": "string"},
                                 "count": {"Name": "Count", "Type": "int"}}
    body.update(over)
    return body


def add(portal: Portal, tok: str, body: dict[str, Any], method: str = "bizproc.robot.add") -> requests.Response:
    return portal.call(method, body, token=tok)


def test_robot_registration_rules(portal: Portal, installed_app: InstalledApp, receiver: Receiver,
                                  monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tok = installed_app.access_token
    r = add(portal, tok, robot_body(receiver.at("/robot")))
    assert_same_shape(fixture_json("bizproc_robot_add_response.json"), r.json(), extra_ok=TIME_EXTRA)
    assert r.json()["result"] is True
    r = add(portal, tok, robot_body(receiver.at("/robot"), CODE=""))
    assert (r.status_code, r.json()) == (400, fixture_json("bizproc_robot_add_error.json"))
    cases = [
        ({"CODE": "bad code!"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity code!"),
        ({"HANDLER": "http://localhost/r"}, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
        ({"HANDLER": "https://your_domain/robot.php"}, "ERROR_WRONG_HANDLER_URL", "Wrong handler URL"),
        ({"HANDLER": "ftp://a.b.ru/r"}, "ERROR_UNSUPPORTED_PROTOCOL", "Unsupported event handler protocol"),
        ({"NAME": ""}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Empty activity NAME!"),
        ({"PROPERTIES": {"1x": {"Name": "A"}}}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong property key (1x)!"),
        ({"PROPERTIES": {"text": {"Type": "string"}}}, "ERROR_ACTIVITY_VALIDATION_FAILURE",
         "Empty property NAME (text)!"),
        ({"DOCUMENT_TYPE": ["crm"]}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity DOCUMENT_TYPE!"),
        ({"FILTER": "b24"}, "ERROR_ACTIVITY_VALIDATION_FAILURE", "Wrong activity FILTER!"),
        ({}, "ERROR_ACTIVITY_ALREADY_INSTALLED", "Activity or Robot already installed!"),
    ]
    for over, code, text in cases:
        r = add(portal, tok, robot_body(receiver.at("/robot"), **over))
        assert (r.status_code, r.json()) == (400, {"error": code, "error_description": text}), over
    # one code space for robots and activities of an app
    r = add(portal, tok, robot_body(receiver.at("/robot")), method="bizproc.activity.add")
    assert r.json()["error"] == "ERROR_ACTIVITY_ALREADY_INSTALLED"
    r = portal.call("bizproc.robot.add", robot_body(receiver.at("/robot"), CODE="x1"), hook=portal.webhook(1))
    assert (r.status_code, r.json()) == (403, {"error": "ACCESS_DENIED",
                                               "error_description": "Access denied! Application context required"})
    lst = portal.call("bizproc.robot.list", token=tok).json()
    assert_same_shape(fixture_json("bizproc_robot_list_response.json"), lst, extra_ok=TIME_EXTRA)
    assert lst["result"] == ["test_robot"]
    assert add(portal, tok, robot_body(receiver.at("/a"), CODE="act1"), "bizproc.activity.add").json()["result"]
    assert portal.call("bizproc.activity.list", token=tok).json()["result"] == ["act1"]
    r = portal.call("bizproc.robot.update", {"CODE": "test_robot", "FIELDS": {"NAME": "Новое имя"}}, token=tok)
    assert r.json()["result"] is True
    r = portal.call("bizproc.robot.update", {"CODE": "test_robot", "FIELDS": {}}, token=tok)
    assert r.json() == {"error": "ERROR_ACTIVITY_VALIDATION_FAILURE", "error_description": "No fields to update"}
    r = portal.call("bizproc.robot.delete", {"CODE": "nope"}, token=tok)
    assert r.json() == {"error": "ERROR_ACTIVITY_NOT_FOUND", "error_description": "Activity or Robot not found!"}
    assert portal.call("bizproc.robot.delete", {"CODE": "test_robot"}, token=tok).json()["result"] is True
    assert portal.call("bizproc.robot.list", token=tok).json()["result"] == []

    from b24sandbox.portal import api

    monkeypatch.setattr(api.HOOKS, "user_lookup", lambda p, uid: {"ID": str(uid), "IS_ADMIN": uid == 1})
    portal.register_app("local.second", receiver.at("/i2"))
    portal.ctl("POST", "/apps/local.second/install", {"user_id": 5})
    tok5 = receiver.received("/i2")[0].form["AUTH_ID"]
    r = add(portal, tok5, robot_body(receiver.at("/robot")))
    assert (r.status_code, r.json()) == (403, {"error": "ACCESS_DENIED", "error_description": "Access denied!"})


def _setup_robot(portal: Portal, tok: str, receiver: Receiver, **rule: Any) -> None:
    assert add(portal, tok, robot_body(receiver.at("/robot"))).json()["result"] is True
    body = {"entity": "deal", "category_id": 0, "stage_id": "PREPARATION", "robot_code": "test_robot",
            "properties": {"text": "Счёт <b>№1</b>", "user": 1, "datetime": "2026-10-05T11:20:00+03:00",
                           "flag": True, "day": "2026-10-05", "amount": 1500.5}}
    body.update(rule)
    r = portal.ctl("POST", "/automation", body)
    assert r.status_code == 201, r.text


def _enter(portal: Portal, item_id: int = 123, stage: str = "PREPARATION", category: int = 0) -> list[int]:
    r = portal.ctl("POST", "/stage-entered", {"entity": "deal", "id": item_id, "category_id": category,
                                              "stage_id": stage})
    return list(r.json()["run_ids"])


def _flat(raw: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def test_robot_call_and_event_send(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    tok = installed_app.access_token
    _setup_robot(portal, tok, receiver)
    assert _enter(portal, stage="NEW") == []  # only the rules of the entered stage run
    (run_id,) = _enter(portal)
    cap = receiver.wait_for("/robot")[0]
    assert cap.headers["Content-Type"] == "application/x-www-form-urlencoded"
    data = parse_str(cap.raw)
    # the fixture's robot has two properties, ours has more
    assert_same_shape(fixture_json("DERIVED_robot_handler_request.json"), data, form=True,
                      extra_ok=frozenset({"datetime", "flag", "day", "amount"}))
    assert data["code"] == "test_robot" and data["use_subscription"] == "Y" and data["timeout_duration"] == "0"
    assert data["document_id"] == ["crm", "CCrmDocumentDeal", "DEAL_123"]
    assert data["document_type"] == ["crm", "CCrmDocumentDeal", "DEAL"]
    assert TOKEN_RE.match(data["event_token"]), data["event_token"]
    assert data["properties"] == {"datetime": "05.10.2026 11:20:00", "text": "Счёт <b>№1</b>", "user": "user_1",
                                  "flag": "Y", "day": "05.10.2026", "amount": "1500.5"}
    assert data["auth"]["refresh_token"] and data["auth"]["application_token"] == installed_app.application_token
    wf = OAuthWorkflowData.from_dict(_flat(cap.raw))
    assert wf.use_subscription is True and wf.auth.user_id == 1
    runs = portal.ctl("GET", "/robot-runs").json()
    assert [(r["id"], r["state"], r["document_id"]) for r in runs] == [(run_id, "waiting", "DEAL_123")]
    assert runs[0]["document"] == data["document_id"] == ["crm", "CCrmDocumentDeal", "DEAL_123"]
    assert runs[0]["document_type"] == data["document_type"]

    r = portal.call("bizproc.event.send", {"event_token": data["event_token"][:-1] + "0"}, token=tok)
    assert (r.status_code, r.json()) == (403, fixture_json("bizproc_event_send_error.json"))
    r = portal.call("bizproc.activity.log", {"EVENT_TOKEN": data["event_token"], "LOG_MESSAGE": "работаю"},
                    token=tok)
    assert r.json()["result"] is True
    r = portal.call("bizproc.activity.log", {"EVENT_TOKEN": data["event_token"]}, token=tok)
    assert r.json()["error"] == "ERROR_EMPTY_LOG_MESSAGE"
    assert portal.ctl("GET", f"/robot-runs/{run_id}").json()["state"] == "waiting"
    req = fixture_json("bizproc_event_send_request.json")
    req["event_token"] = data["event_token"]
    req["return_values"] = {"OUTPUTSTRING": "846c55d1", "unknown": "x", "Count": 3}
    req["log_message"] = "Готово"
    r = portal.call("bizproc.event.send", req, hook=portal.webhook(1))  # any auth may answer
    assert_same_shape(fixture_json("bizproc_event_send_response.json"), r.json(), extra_ok=TIME_EXTRA)
    assert r.json()["result"] is True
    run = portal.ctl("GET", f"/robot-runs/{run_id}").json()
    assert run["state"] == "done"
    assert run["return_values"] == {"outputString": "846c55d1", "count": 3, "IsTimeout": 0}
    assert [e["message"] for e in run["log"]] == ["работаю", "Готово"]
    # a second answer is ignored but still answered true
    req["return_values"] = {"outputString": "later"}
    assert portal.call("bizproc.event.send", req, token=tok).json()["result"] is True
    assert portal.ctl("GET", f"/robot-runs/{run_id}").json()["return_values"]["outputString"] == "846c55d1"
    deliveries = portal.deliveries(kind="robot")
    assert deliveries[0]["ref_id"] == run_id and deliveries[0]["status"] == 200


def test_timeout_closes_a_waiting_run(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    _setup_robot(portal, installed_app.access_token, receiver, timeout_duration=60)
    (run_id,) = _enter(portal)
    data = parse_str(receiver.wait_for("/robot")[0].raw)
    assert data["timeout_duration"] == "60"
    requests.put(portal.sb.url + "/_sandbox/clock", json={"offset_s": 61}, timeout=10)
    try:
        run = portal.ctl("GET", f"/robot-runs/{run_id}").json()
        assert run["state"] == "timeout" and run["return_values"] == {"IsTimeout": 1}
        r = portal.call("bizproc.event.send", {"event_token": data["event_token"]}, hook=portal.webhook(1))
        assert r.json()["result"] is True
        assert portal.ctl("GET", f"/robot-runs/{run_id}").json()["state"] == "timeout"
    finally:
        requests.put(portal.sb.url + "/_sandbox/clock", json={"offset_s": 0}, timeout=10)


def test_without_subscription_the_run_is_done_at_once(portal: Portal, installed_app: InstalledApp,
                                                      receiver: Receiver) -> None:
    tok = installed_app.access_token
    assert add(portal, tok, robot_body(receiver.at("/robot"), USE_SUBSCRIPTION="N", CODE="fire")).json()["result"]
    portal.ctl("POST", "/automation", {"entity": "lead", "stage_id": "NEW", "robot_code": "fire"})
    portal.call("sbtest.change", {"id": 77, "stage": "NEW"}, hook=portal.webhook(1))
    data = parse_str(receiver.wait_for("/robot")[0].raw)
    assert data["use_subscription"] == "N" and data["document_id"][2] == "LEAD_77"
    (run,) = portal.ctl("GET", "/robot-runs").json()
    assert run["state"] == "done" and run["document"] == data["document_id"] == ["crm", "CCrmDocumentLead", "LEAD_77"]


def test_funnel_rules_match_the_category(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    _setup_robot(portal, installed_app.access_token, receiver, category_id=1, stage_id="C1:NEW")
    assert _enter(portal, stage="C1:NEW", category=0) == []
    assert len(_enter(portal, stage="C1:NEW", category=1)) == 1


def test_robot_of_an_uninstalled_app_does_not_run(portal: Portal, installed_app: InstalledApp,
                                                   receiver: Receiver) -> None:
    _setup_robot(portal, installed_app.access_token, receiver)
    portal.ctl("POST", f"/apps/{installed_app.client_id}/uninstall", {})
    _enter(portal)
    portal.wait_idle()
    assert receiver.received("/robot") == []
    (run,) = portal.ctl("GET", "/robot-runs").json()
    assert run["state"] == "error" and run["document"] == ["crm", "CCrmDocumentDeal", "DEAL_123"]


def test_deal_stage_moves_through_crm_methods(portal: Portal, installed_app: InstalledApp,
                                              receiver: Receiver) -> None:
    tok = installed_app.access_token
    _setup_robot(portal, tok, receiver, properties={"user": "{=Document:ASSIGNED_BY_ID}", "text": "x"})
    hook = portal.webhook(1)
    deal = portal.call("crm.deal.add", {"fields": {"TITLE": "Поставка", "STAGE_ID": "NEW"}}, hook=hook).json()
    assert isinstance(deal["result"], int), deal
    portal.wait_idle()
    assert receiver.received("/robot") == []
    r = portal.call("crm.deal.update", {"id": deal["result"], "fields": {"STAGE_ID": "PREPARATION"}}, hook=hook)
    assert r.json()["result"] is True
    data = parse_str(receiver.wait_for("/robot")[0].raw)
    assert data["document_id"][2] == f"DEAL_{deal['result']}"
    assert data["properties"]["user"] == "user_1"
