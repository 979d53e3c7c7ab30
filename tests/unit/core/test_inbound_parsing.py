"""Every event, robot call and widget-open fixture of the reference parses into our typed objects
(after travelling as a PHP form, as the portal sends them)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from b24app.errors import InboundRejected
from b24app.portal.inbound import parse_event, parse_placement, parse_robot_call
from b24app.portal.phpform import flatten, unflatten

B24 = Path("/work/shared/reference/fixtures/bitrix24")
EVENT_FIXTURES = sorted(p for p in B24.glob("event_on*.json") if json.loads(p.read_text()).get("event"))


def as_form(data: dict) -> dict:
    """JSON view of a body -> the form the portal really posts -> what Flask gives us."""
    return unflatten(flatten(data))


@pytest.mark.parametrize("path", EVENT_FIXTURES, ids=lambda p: p.name)
def test_every_event_fixture_parses(path: Path) -> None:
    data = json.loads(path.read_text())
    ev = parse_event(as_form(data))
    assert ev.event == data["event"].upper()
    assert ev.auth.member_id == data["auth"]["member_id"]
    assert ev.ts == int(data["ts"])
    if isinstance(data.get("data"), dict) and isinstance(data["data"].get("FIELDS"), dict):
        assert ev.entity_id == str(data["data"]["FIELDS"]["ID"])
    assert ev.auth.has_token == bool(data["auth"].get("access_token"))


def test_event_form_text_fixture_parses() -> None:
    text = (B24 / "DERIVED_event_oncrmdealadd_to_app.form.txt").read_text().strip()
    ev = parse_event(unflatten(parse_qsl(text, keep_blank_values=True)))
    assert ev.event == "ONCRMDEALADD" and ev.entity_id == "7405" and ev.handler_id == 185
    assert ev.auth.client_endpoint.endswith("/rest/")


def test_task_event_id_comes_from_fields_after() -> None:
    ev = parse_event(as_form(json.loads((B24 / "event_ontaskupdate.json").read_text())))
    assert ev.entity_id == "123"


def test_robot_call_fixtures_parse() -> None:
    text = (B24 / "DERIVED_robot_handler_request.form.txt").read_text().strip()
    call = parse_robot_call(unflatten(parse_qsl(text, keep_blank_values=True)))
    assert call.code == "test_robot" and call.entity_type == "deal" and call.entity_id == 123
    assert call.properties == {"text": "Hello", "user": "user_1"}
    assert call.use_subscription and call.auth.refresh_token and call.auth.user_id == 1
    as_json = json.loads((B24 / "DERIVED_robot_handler_request.json").read_text())
    call2 = parse_robot_call(as_form(as_json))
    assert call2.event_token == call.event_token


def test_placement_fixture_parses() -> None:
    text = (B24 / "placement_handler_request_crm_deal_detail_tab.txt").read_text()
    pairs = dict(re.findall(r"\[(\w+)\] => (.*)", text))
    query_keys = ("DOMAIN", "PROTOCOL", "LANG", "APP_SID")
    page = parse_placement({k: v for k, v in pairs.items() if k not in query_keys},
                           {k: pairs[k] for k in query_keys})
    assert page.placement == "CRM_DEAL_DETAIL_TAB" and page.options["ID"] == "8061"
    assert page.member_id == "d897063e1ce7c5eb9f04b9751eef5915" and page.lang == "en"


@pytest.mark.parametrize("form, message", [
    ({}, "required field 'event'"),
    ({"event": "ONCRMLEADADD", "ts": "1"}, "'auth' group"),
    ({"event": "ONCRMLEADADD", "ts": "x", "auth": {"member_id": "m"}}, "must be an integer"),
    ({"event": "ONCRMLEADADD", "ts": "1", "auth": {"member_id": ["a"]}}, "must be a string"),
    ({"event": "ONCRMLEADADD", "ts": "1", "data": "zzz", "auth": {"member_id": "m"}}, "'data'"),
])
def test_bad_events_are_400_with_a_reason(form: dict, message: str) -> None:
    with pytest.raises(InboundRejected) as err:
        parse_event(form)
    assert err.value.status == 400 and message in err.value.message


def test_bad_robot_calls_are_400() -> None:
    base = {"workflow_id": "w", "code": "c", "event_token": "t", "auth": {"member_id": "m"},
            "document_type": ["crm", "CCrmDocumentDeal", "DEAL"]}
    with pytest.raises(InboundRejected, match="document_id"):
        parse_robot_call({**base, "document_id": ["crm", "CCrmDocumentDeal"]})
    call = parse_robot_call({**base, "document_id": ["crm", "CCrmDocumentDeal", "DEAL_x"]})
    with pytest.raises(InboundRejected, match="no numeric id"):
        _ = call.entity_id
