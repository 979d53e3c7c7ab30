"""Hostile bodies at the inbound endpoints: never a 5xx, never a job for an unverified call."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from b24app import create_app
from b24app.store import installations, jobs

MEMBER = "a" * 32
TOKEN = "t0ken-of-the-app"
ENDPOINTS = ["/events", "/robots/b24app_timeline_comment", "/install", "/", "/placement/deal_tab"]


@pytest.fixture(scope="module")
def oauth_server():
    """An OAuth server that knows no token at all (every proof fails with 401)."""
    import threading

    from flask import Flask, jsonify
    from werkzeug.serving import make_server

    fake = Flask("oauth")

    @fake.route("/rest/app.info")
    @fake.route("/oauth/token/")
    def nope():
        return jsonify({"error": "invalid_token", "error_description": "The access token provided is invalid"}), 401

    srv = make_server("127.0.0.1", 0, fake, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}/"
    srv.shutdown()


@pytest.fixture(scope="module")
def client(tmp_path_factory, oauth_server):
    from b24app.config import Config

    cfg = Config.from_env({}, instance_path=str(tmp_path_factory.mktemp("fuzz")), client_id="local.fuzz.app",
                          client_secret="s", secret_key="k", oauth_url=oauth_server, http_timeout=2.0)
    app = create_app(cfg)
    svc = app.extensions["b24app"]
    installations.save_verified(svc.db, member_id=MEMBER, domain="fuzz.bitrix24.ru",
                                client_endpoint="http://127.0.0.1:9/rest/", server_endpoint="", access_token="a",
                                refresh_token="r", expires_at=0, application_token=TOKEN, scopes="crm", user_id=1)
    installations.save_verified(svc.db, member_id="b" * 32, domain="other.bitrix24.ru",
                                client_endpoint="http://127.0.0.1:9/rest/", server_endpoint="", access_token="a",
                                refresh_token="r", expires_at=0, application_token="other-token", scopes="crm",
                                user_id=1)
    return app.test_client(), svc


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
keys = st.one_of(text, st.sampled_from([
    "event", "data[FIELDS][ID]", "ts", "auth[member_id]", "auth[application_token]", "auth[access_token]",
    "auth[", "auth]]", "a[b][c][d][e][f][g][h][i][j][k][l]", "document_id[0]", "document_id[]", "event_token",
    "workflow_id", "code", "properties[text]", "properties[text][x]", "AUTH_ID", "member_id", "DOMAIN",
    "PLACEMENT_OPTIONS", "use_subscription", "document_type[2]", "auth[member_id][0]",
]))
values = st.one_of(text, st.sampled_from([MEMBER, "b" * 32, TOKEN, "other-token", "ONCRMLEADADD", "ONAPPUNINSTALL",
                                          "DEAL_1", "1", "-1", "99999999999999999999999", "{", "x" * 5000]))
bodies = st.lists(st.tuples(keys, values), max_size=25)


def valid_event(**over: Any) -> dict[str, str]:
    body = {"event": "ONCRMLEADADD", "data[FIELDS][ID]": "5", "ts": "1", "auth[member_id]": MEMBER,
            "auth[application_token]": TOKEN}
    body.update(over)
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=bodies, endpoint=st.sampled_from(ENDPOINTS))
def test_random_bodies_never_500_and_never_queue_unverified(client, pairs, endpoint) -> None:
    c, svc = client
    installations.set_status(svc.db, MEMBER, installations.ACTIVE)  # a valid ONAPPUNINSTALL may have run
    before = jobs.counts(svc.db)["queued"]
    resp = c.post(endpoint, data=urlencode(pairs), content_type="application/x-www-form-urlencoded")
    assert resp.status_code < 500, (endpoint, pairs, resp.data[:300])
    form = {}
    for k, v in pairs:
        form[k] = v
    verified = form.get("auth[member_id]") == MEMBER and form.get("auth[application_token]") == TOKEN
    if jobs.counts(svc.db)["queued"] > before:
        assert verified, (endpoint, pairs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["auth[member_id]", "auth[application_token]", "event", "ts"]), value=values)
def test_tampered_events_are_refused(client, field, value) -> None:
    c, svc = client
    installations.set_status(svc.db, MEMBER, installations.ACTIVE)
    body = valid_event(**{field: value})
    resp = c.post("/events", data=body)
    if body["auth[member_id]"] == MEMBER and body["auth[application_token]"] == TOKEN:
        assert resp.status_code in (200, 400)
    else:
        assert resp.status_code in (400, 401)


def test_other_portals_token_cannot_speak_for_this_portal(client) -> None:
    c, svc = client
    installations.set_status(svc.db, MEMBER, installations.ACTIVE)
    resp = c.post("/events", data=valid_event(**{"auth[application_token]": "other-token"}))
    assert resp.status_code == 401


def test_huge_body_is_413_not_500(client) -> None:
    c, _ = client
    resp = c.post("/events", data={"event": "x" * (3 * 1024 * 1024)})
    assert resp.status_code == 413


def test_replayed_robot_token_makes_no_second_job(client) -> None:
    c, svc = client
    installations.set_status(svc.db, MEMBER, installations.ACTIVE)
    body = {"workflow_id": "w1", "code": "b24app_timeline_comment", "document_id[0]": "crm",
            "document_id[1]": "CCrmDocumentDeal", "document_id[2]": "DEAL_7", "document_type[0]": "crm",
            "document_type[1]": "CCrmDocumentDeal", "document_type[2]": "DEAL", "event_token": "w1|A|replay",
            "properties[text]": "x", "auth[member_id]": MEMBER, "auth[application_token]": TOKEN}
    assert c.post("/robots/b24app_timeline_comment", data=body).status_code == 200
    n = len(jobs.list_jobs(svc.db, kind="robot", limit=1000))
    for _ in range(3):
        assert c.post("/robots/b24app_timeline_comment", data=body).status_code == 200
    assert len(jobs.list_jobs(svc.db, kind="robot", limit=1000)) == n


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(auth_id=text, member=values, endpoint=st.sampled_from(["/install", "/", "/placement/deal_tab"]))
def test_pages_with_made_up_tokens_are_refused(client, auth_id, member, endpoint) -> None:
    c, svc = client
    before = jobs.counts(svc.db)["queued"]
    resp = c.post(endpoint + "?DOMAIN=x.bitrix24.ru", data={"AUTH_ID": auth_id or "x", "member_id": member or "m",
                                                           "REFRESH_ID": "r", "APPLICATION_TOKEN": "evil"})
    assert resp.status_code in (400, 401)
    assert jobs.counts(svc.db)["queued"] == before
