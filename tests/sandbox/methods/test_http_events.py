"""Events of the business methods as an installed app receives them over real HTTP.

The app is registered and installed through the control API with a tiny receiving HTTP server as its
install page and event handlers (fixtures of tests/sandbox/conftest.py); handlers are bound with the
app's own token; the changes are made through a webhook of user 1 (a user's change: the POST carries
a token of that user for the app) or with the app's token (the app's own change: no token)."""

from __future__ import annotations

from typing import Any

import requests
from b24pysdk.credentials import OAuthEventData

from b24sandbox.portal.phpform import parse_str

from ..conftest import InstalledApp, Portal, Receiver, fixture_json
from ..shape import assert_same_shape
from ..test_events import flat

EVENTS = {"ONCRMLEADADD": "/lead-add", "ONCRMDEALUPDATE": "/deal-update", "ONCRMDEALMOVETOCATEGORY": "/deal-move",
          "ONCRMDYNAMICITEMADD_31": "/invoice-add", "ONTASKADD": "/task-add"}
AUTH_EXTRA = frozenset({"expires", "user_id"})


def _page_example(name: str) -> dict[str, Any]:
    """A docs page example of an event without ``auth.refresh_token``, which the platform does not send
    with events by default (see the fixtures' INDEX)."""
    body = fixture_json(name)
    body["auth"].pop("refresh_token", None)
    return dict(body)


def _bind_all(portal: Portal, app: InstalledApp, receiver: Receiver) -> None:
    for event, path in EVENTS.items():
        r = portal.call("event.bind", {"event": event, "handler": receiver.at(path)}, token=app.access_token)
        assert r.json().get("result") is True, (event, r.text)


def _ok(resp: requests.Response) -> Any:
    body = resp.json()
    assert resp.status_code == 200 and "error" not in body, resp.text
    return body["result"]


def _received(receiver: Receiver, path: str, count: int = 1) -> list[dict[str, Any]]:
    caps = receiver.wait_for(path, count)
    for cap in caps:
        assert cap.method == "POST" and cap.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return [parse_str(cap.raw) for cap in caps]


def test_installed_app_receives_crm_and_task_events(portal: Portal, installed_app: InstalledApp,
                                                    receiver: Receiver) -> None:
    _bind_all(portal, installed_app, receiver)
    hook = portal.webhook(1)

    lead_id = _ok(portal.call("crm.lead.add", {"fields": {"TITLE": "Заявка с сайта"}}, hook=hook))
    deal_id = _ok(portal.call("crm.deal.add", {"fields": {"TITLE": "Поставка арматуры"}}, hook=hook))
    assert _ok(portal.call("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": "PREPARATION"}}, hook=hook))
    cat = _ok(portal.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Претензии"}}, hook=hook))
    cat_id = cat["category"]["id"]
    moved = _ok(portal.call("crm.item.update", {"entityTypeId": 2, "id": deal_id, "fields": {"categoryId": cat_id}},
                            hook=hook))["item"]
    assert moved["stageId"] == f"C{cat_id}:NEW"
    inv = _ok(portal.call("crm.item.add", {"entityTypeId": 31, "fields": {"title": "Счёт", "parentId2": deal_id}},
                          hook=hook))["item"]
    task = _ok(portal.call("tasks.task.add", {"fields": {"TITLE": "Позвонить клиенту", "RESPONSIBLE_ID": 1,
                                                         "UF_CRM_TASK": [f"D_{deal_id}"]}}, hook=hook))["task"]

    lead = _received(receiver, "/lead-add")[0]
    assert lead["event"] == "ONCRMLEADADD" and lead["data"] == {"FIELDS": {"ID": str(lead_id)}}
    assert_same_shape(fixture_json("event_oncrmdealadd_to_app.json"), lead, form=True, extra_ok=AUTH_EXTRA)
    assert lead["auth"]["application_token"] == installed_app.application_token
    assert lead["auth"]["user_id"] == "1" and lead["auth"]["member_id"] == portal.member_id
    assert lead["auth"]["domain"] == portal.domain and "refresh_token" not in lead["auth"]
    parsed = OAuthEventData.from_dict(flat(receiver.received("/lead-add")[0].raw))
    assert parsed.event == "ONCRMLEADADD" and not parsed.is_system
    # the token in the event is a working token of this app for the changing user
    got = portal.call("crm.lead.get", {"id": lead_id}, token=lead["auth"]["access_token"])
    assert got.status_code == 200 and got.json()["result"]["TITLE"] == "Заявка с сайта"

    # crm.deal.update and the funnel move through crm.item.update: two updates, one move
    updates = _received(receiver, "/deal-update", 2)
    assert [u["data"] for u in updates] == [{"FIELDS": {"ID": str(deal_id)}}] * 2
    assert_same_shape(fixture_json("event_oncrmdealadd_to_app.json"), updates[0], form=True, extra_ok=AUTH_EXTRA)
    move = _received(receiver, "/deal-move")[0]
    assert move["event"] == "ONCRMDEALMOVETOCATEGORY"
    assert move["data"] == {"FIELDS": {"ID": str(deal_id), "CATEGORY_ID": str(cat_id), "STAGE_ID": f"C{cat_id}:NEW"}}
    assert_same_shape(_page_example("event_oncrmdealmovetocategory.json"), move, form=True, extra_ok=AUTH_EXTRA)

    invoice = _received(receiver, "/invoice-add")[0]
    assert invoice["event"] == "ONCRMDYNAMICITEMADD_31"
    assert invoice["data"] == {"FIELDS": {"ID": str(inv["id"]), "ENTITY_TYPE_ID": "31"}}
    assert_same_shape(_page_example("event_oncrmdynamicitemadd.json"), invoice, form=True, extra_ok=AUTH_EXTRA)

    task_ev = _received(receiver, "/task-add")[0]
    assert task_ev["event"] == "ONTASKADD"
    assert task_ev["data"] == {"FIELDS_BEFORE": "undefined", "FIELDS_AFTER": {"ID": str(task["id"])},
                               "IS_ACCESSIBLE_BEFORE": "N", "IS_ACCESSIBLE_AFTER": "undefined"}
    assert_same_shape(_page_example("event_ontaskadd.json"), task_ev, form=True,
                      extra_ok=AUTH_EXTRA | {"event_handler_id"})
    assert task_ev["auth"]["scope"] == "crm,bizproc,placement,user,task"

    # the delivery log has each POST once, answered 200, with the body the app got
    rows = portal.deliveries(kind="event")
    assert sorted((r["event"], r["status"], r["ok"]) for r in rows) == sorted(
        [("ONCRMLEADADD", 200, True), ("ONCRMDEALUPDATE", 200, True), ("ONCRMDEALUPDATE", 200, True),
         ("ONCRMDEALMOVETOCATEGORY", 200, True), ("ONCRMDYNAMICITEMADD_31", 200, True), ("ONTASKADD", 200, True)])
    by_event = {r["event"]: r for r in rows}
    assert by_event["ONCRMDEALMOVETOCATEGORY"]["body"]["data"] == move["data"]
    assert by_event["ONTASKADD"]["url"] == receiver.at("/task-add")
    assert {r["client_id"] for r in rows} == {installed_app.client_id}


def test_events_not_bound_are_not_sent_and_own_changes_carry_no_token(portal: Portal, installed_app: InstalledApp,
                                                                       receiver: Receiver) -> None:
    _bind_all(portal, installed_app, receiver)
    tok = installed_app.access_token
    # the app's own changes: events still come, but without a token (the app knows what it did)
    _ok(portal.call("crm.deal.add", {"fields": {"TITLE": "Своя сделка"}}, token=tok))
    inv = _ok(portal.call("crm.item.add", {"entityTypeId": 31, "fields": {"title": "Свой счёт"}}, token=tok))["item"]
    data = _received(receiver, "/invoice-add")[0]
    assert data["data"]["FIELDS"]["ID"] == str(inv["id"])
    assert "access_token" not in data["auth"] and data["auth"]["application_token"] == installed_app.application_token
    assert OAuthEventData.from_dict(flat(receiver.received("/invoice-add")[0].raw)).is_system
    portal.wait_idle()
    # ONCRMDEALADD is not bound and a plain add is no update
    assert receiver.received("/deal-update") == [] and receiver.received("/deal-move") == []
    assert [r["event"] for r in portal.deliveries(kind="event")] == ["ONCRMDYNAMICITEMADD_31"]
