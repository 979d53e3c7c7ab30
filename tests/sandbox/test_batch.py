"""``batch`` over real HTTP against the reference fixtures and the server's quirks (reference §4)."""

from __future__ import annotations

import requests

from . import testmethods  # noqa: F401
from .conftest import InstalledApp, Portal, Receiver, fixture_json
from .shape import TIME_EXTRA, assert_same_shape


def _batch(portal: Portal, body: dict, **kw) -> dict:  # type: ignore[no-untyped-def, type-arg]
    r = portal.call("batch", body, **kw)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_linked_batch_matches_the_success_fixture(portal: Portal) -> None:
    body = _batch(portal, fixture_json("batch_request_linked.json"), hook=portal.webhook(1))
    expected = fixture_json("batch_response_success.json")
    res = body["result"]
    assert list(res) == ["result", "result_error", "result_total", "result_next", "result_time"]
    assert res["result_error"] == [] and res["result_next"] == []
    assert set(res["result"]) == {"get_user", "get_department"}
    assert isinstance(res["result"]["get_department"], list)
    assert set(res["result_total"]) == {"get_department"}
    for key in ("get_user", "get_department"):
        assert_same_shape(expected["result"]["result_time"][key], res["result_time"][key], extra_ok=TIME_EXTRA)
    assert_same_shape(expected["time"], body["time"], extra_ok=TIME_EXTRA)
    # the reference $result[get_user][UF_DEPARTMENT][0] was resolved before department.get ran
    dep = res["result"]["get_user"]["UF_DEPARTMENT"][0]
    assert [d["ID"] for d in res["result"]["get_department"]] == [str(dep)]


def _token_without_user_scope(portal: Portal, receiver: Receiver) -> str:
    portal.register_app("local.crm.only", receiver.at("/i2"), scopes=["crm"])
    portal.install("local.crm.only")
    return receiver.received("/i2")[0].form["AUTH_ID"]


def test_halt_0_and_halt_1_error_fixtures(portal: Portal, receiver: Receiver) -> None:
    tok = _token_without_user_scope(portal, receiver)
    req = fixture_json("batch_request_linked.json")
    body = _batch(portal, req, token=tok)
    want = fixture_json("batch_response_error_halt0.json")
    assert body["result"] == want["result"]
    body = _batch(portal, dict(req, halt=1), token=tok)
    assert body["result"] == fixture_json("batch_response_error_halt1.json")["result"]


def test_more_than_fifty_commands(portal: Portal) -> None:
    cmd = {f"c{i}": f"sbtest.echo?i={i}" for i in range(52)}
    res = _batch(portal, {"cmd": cmd}, hook=portal.webhook(1))["result"]
    assert len(res["result"]) == 50
    assert res["result_error"] == {
        "c50": {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"},
        "c51": {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"},
    }


def test_methods_not_allowed_in_batch_and_unknown_ones(portal: Portal) -> None:
    res = _batch(portal, {"cmd": {"a": "batch?cmd[x]=app.info", "b": "nope.nope", "c": "sbtest.echo"}},
                 hook=portal.webhook(1))["result"]
    assert res["result_error"]["a"] == {"error": "ERROR_BATCH_METHOD_NOT_ALLOWED",
                                        "error_description": "Method is not allowed for batch usage"}
    assert res["result_error"]["b"]["error"] == "ERROR_METHOD_NOT_FOUND"
    assert set(res["result"]) == {"c"}


def test_list_vs_object_quirk_for_integer_keys(portal: Portal) -> None:
    hook = portal.webhook(1)
    r = requests.post(hook + "batch", json={"cmd": ["sbtest.legacy_error", "sbtest.legacy_error", "sbtest.echo?x=1"]},
                      timeout=10)
    res = r.json()["result"]
    # keys 0 and 1 failed: a PHP sequential array -> a JSON list; "2" alone -> an object
    assert res["result_error"] == [{"error": "", "error_description": "Not found"}] * 2
    assert res["result"] == {"2": {"params": {"x": "1"}, "user_id": 1, "auth_kind": "webhook", "client_id": None,
                                   "auth_connector": None}}
    ok = requests.post(hook + "batch", json={"cmd": {"0": "sbtest.echo", "1": "sbtest.echo"}}, timeout=10).json()
    assert isinstance(ok["result"]["result"], list) and len(ok["result"]["result"]) == 2
    assert isinstance(ok["result"]["result_time"], list)


def test_references(portal: Portal) -> None:
    cmd = {
        "a": "sbtest.echo?x=5&y[]=1&y[]=2",
        "l": "sbtest.list?filter[%3EID]=100",
        "whole": "sbtest.echo?arr=$result[a][params][y]&obj=$result[a][params]",
        "scalar": "sbtest.echo?t=x is $result[a][params][x] here&n=$next[l]&tot=$total[l]",
        "deep": "sbtest.echo?v=$result[a][params][nope][deeper]",
        "err": "sbtest.legacy_error",
        "after": "sbtest.echo?e=$error[err][error_description]&s=$time[a][start]&arr=in $result[a][params][y] text",
    }
    res = _batch(portal, {"cmd": cmd}, hook=portal.webhook(1))["result"]
    assert res["result"]["whole"]["params"] == {"arr": ["1", "2"], "obj": {"x": "5", "y": ["1", "2"]}}
    # whole values keep their type; a missing $next[l] stops at the (empty) "next" map itself
    assert res["result"]["scalar"]["params"] == {"t": "x is 5 here", "n": [], "tot": 20}
    assert res["result"]["deep"]["params"] == {"v": {"x": "5", "y": ["1", "2"]}}  # stops at the deepest node
    after = res["result"]["after"]["params"]
    assert after["e"] == "Not found" and float(after["s"]) > 0
    assert after["arr"] == "in $result[a][params][y] text"  # arrays are not put into strings
    assert res["result_total"] == {"l": 20} and res["result_next"] == []


def test_form_encoded_batch_with_double_encoding(portal: Portal) -> None:
    hook = portal.webhook(1)
    r = requests.post(hook + "batch", data={"halt": "0", "cmd[a]": "sbtest.echo?x=1%26y&z=2",
                                            "cmd[b]": "sbtest.echo?w=$result[a][params][z]"}, timeout=10)
    res = r.json()["result"]["result"]
    assert res["a"]["params"] == {"x": "1&y", "z": "2"}
    assert res["b"]["params"] == {"w": "2"}


def test_sub_calls_count_against_operating_not_the_bucket(portal: Portal, installed_app: InstalledApp) -> None:
    before = portal.ctl("GET", "/limits").json()["bucket"]["accepted"]
    body = _batch(portal, {"cmd": {f"c{i}": f"sbtest.change?id={700 + i}" for i in range(3)}},
                  token=installed_app.access_token)
    times = body["result"]["result_time"]
    assert [times[f"c{i}"]["operating"] for i in range(3)] == [1.0, 2.0, 3.0]
    assert body["time"]["operating"] == 0  # batch itself is exempt
    assert portal.ctl("GET", "/limits").json()["bucket"]["accepted"] == before + 1
    portal.ctl("PUT", "/limits", {"operating_budget_s": 4})
    body = _batch(portal, {"cmd": {f"c{i}": f"sbtest.change?id={800 + i}" for i in range(3)}},
                  token=installed_app.access_token)
    assert set(body["result"]["result"]) == {"c0"}
    assert body["result"]["result_error"]["c1"] == {
        "error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."}


def test_batch_sub_calls_recheck_scope(portal: Portal, receiver: Receiver) -> None:
    tok = _token_without_user_scope(portal, receiver)
    res = _batch(portal, {"cmd": {"u": "user.current", "e": "sbtest.echo"}}, token=tok)["result"]
    assert res["result_error"] == {"u": {"error": "insufficient_scope", "error_description": ""}}
    assert set(res["result"]) == {"e"}


def test_independent_batch_request(portal: Portal) -> None:
    res = _batch(portal, fixture_json("batch_request_independent.json"), hook=portal.webhook(1))["result"]
    assert set(res["result"]) == {"get_user", "get_departments", "get_app"}
    assert res["result_error"] == [] and set(res["result_total"]) == {"get_departments"}
    assert "LICENSE" in res["result"]["get_app"]
