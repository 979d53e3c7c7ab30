"""Events fired by the business methods, as they arrive at an app, against the event fixtures."""

from __future__ import annotations

from urllib.parse import parse_qs

from b24pysdk.credentials import OAuthEventData

from b24sandbox.portal.phpform import parse_str

from .conftest import InstalledApp, Portal, Receiver, fixture_json
from .shape import assert_same_shape

AUTH_EXTRA = frozenset({"expires", "user_id"})


def _bind(portal: Portal, app: InstalledApp, receiver: Receiver, *events: str) -> None:
    for ev in events:
        r = portal.call("event.bind", {"event": ev, "handler": receiver.at("/" + ev.lower())},
                        token=app.access_token)
        assert r.json()["result"] is True, r.text


def _received(receiver: Receiver, event: str) -> dict:  # type: ignore[type-arg]
    cap = receiver.wait_for("/" + event.lower())[0]
    OAuthEventData.from_dict({k: v[0] for k, v in parse_qs(cap.raw, keep_blank_values=True).items()})
    return dict(parse_str(cap.raw))


def test_deal_add_and_move_to_category(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    _bind(portal, installed_app, receiver, "ONCRMDEALADD", "ONCRMDEALMOVETOCATEGORY")
    hook = portal.webhook(1)
    deal_id = portal.call("crm.deal.add", {"fields": {"TITLE": "Поставка арматуры"}}, hook=hook).json()["result"]
    data = _received(receiver, "ONCRMDEALADD")
    assert_same_shape(fixture_json("event_oncrmdealadd_to_app.json"), data, form=True, extra_ok=AUTH_EXTRA)
    assert data["data"] == {"FIELDS": {"ID": str(deal_id)}}
    cat = portal.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Тендеры"}}, hook=hook).json()
    cat_id = cat["result"]["category"]["id"]
    r = portal.call("crm.item.update", {"entityTypeId": 2, "id": deal_id, "fields": {"categoryId": cat_id}},
                    hook=hook)
    assert r.status_code == 200, r.text
    data = _received(receiver, "ONCRMDEALMOVETOCATEGORY")
    expected = fixture_json("event_oncrmdealmovetocategory.json")
    del expected["auth"]["refresh_token"]  # the docs example shows one; ordinary events carry none
    assert_same_shape(expected, data, form=True, extra_ok=AUTH_EXTRA)
    assert data["data"]["FIELDS"]["ID"] == str(deal_id) and data["data"]["FIELDS"]["CATEGORY_ID"] == str(cat_id)
    assert data["data"]["FIELDS"]["STAGE_ID"].startswith(f"C{cat_id}:")


def test_smart_invoice_and_task_events(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    _bind(portal, installed_app, receiver, "ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_31", "ONTASKADD")
    hook = portal.webhook(1)
    r = portal.call("crm.item.add", {"entityTypeId": 31, "fields": {"title": "Счёт 1"}}, hook=hook)
    assert r.status_code == 200, r.text
    for ev in ("ONCRMDYNAMICITEMADD", "ONCRMDYNAMICITEMADD_31"):
        data = _received(receiver, ev)
        expected = fixture_json("event_oncrmdynamicitemadd.json")
        expected["event"] = ev
        del expected["auth"]["refresh_token"]  # the docs example shows one; ordinary events carry none
        assert_same_shape(expected, data, form=True, extra_ok=AUTH_EXTRA)
        assert data["data"]["FIELDS"]["ENTITY_TYPE_ID"] == "31"
    r = portal.call("tasks.task.add", {"fields": {"TITLE": "Подготовить договор", "RESPONSIBLE_ID": 1}}, hook=hook)
    assert r.status_code == 200, r.text
    data = _received(receiver, "ONTASKADD")
    expected = fixture_json("event_ontaskadd.json")
    del expected["auth"]["refresh_token"]
    assert_same_shape(expected, data, form=True, extra_ok=AUTH_EXTRA | {"event_handler_id"})
    assert data["data"]["FIELDS_AFTER"]["ID"] == str(r.json()["result"]["task"]["id"])
