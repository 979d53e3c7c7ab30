"""The per-portal client against a small fake portal + OAuth server over real HTTP: refresh on
expired_token (once, persisted, single-flight), invalid_grant, kept error bodies, retry policy."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask, jsonify, request

from b24app.errors import Action, BitrixError, ReinstallRequired, TransportError
from b24app.portal.client import PortalClient
from b24app.store import installations


class FakePortal:
    def __init__(self) -> None:
        self.valid_access = {"tok0"}
        self.refresh_tokens = {"ref0"}
        self.refreshes = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: list[tuple[int, dict[str, Any]]] = []
        self.reject_delays: list[float] = []  # answer these many 401s late (a request overtaken by a refresh)
        self.lock = threading.Lock()
        self.app = Flask("fake")
        self.app.add_url_rule("/oauth/token/", view_func=self.token, methods=["GET", "POST"])
        self.app.add_url_rule("/p/rest/<method>", view_func=self.rest, methods=["POST"])

    def token(self) -> Any:
        with self.lock:
            rt = request.args.get("refresh_token", "")
            if rt not in self.refresh_tokens:
                return jsonify({"error": "invalid_grant", "error_description": "Invalid grant"}), 400
            self.refresh_tokens.discard(rt)
            self.refreshes += 1
            n = self.refreshes
            self.valid_access = {f"tok{n}"}
            self.refresh_tokens.add(f"ref{n}")
            return jsonify({"access_token": f"tok{n}", "refresh_token": f"ref{n}", "expires_in": 3600,
                            "expires": 1_900_000_000, "member_id": "m1", "user_id": 1, "domain": "oauth.local",
                            "client_endpoint": "", "server_endpoint": "", "scope": "crm", "status": "L"})

    def rest(self, method: str) -> Any:
        body = request.get_json(force=True)
        delay = 0.0
        with self.lock:
            if body.get("auth") not in self.valid_access and self.reject_delays:
                delay = self.reject_delays.pop(0)
        if delay:
            import time

            time.sleep(delay)
        with self.lock:
            self.calls.append((method, body))
            if body.get("auth") not in self.valid_access:
                return jsonify({"error": "expired_token", "error_description": "The access token provided has expired"}), 401
            if self.fail_next:
                status, payload = self.fail_next.pop(0)
                if status == 599:  # commit, then answer 500
                    return jsonify({"error": "INTERNAL_SERVER_ERROR", "error_description": "x"}), 500
                return jsonify(payload), status
        if method == "crm.deal.get":
            if str(body.get("id")) != "5":
                return jsonify({"error": "", "error_description": "Not found"}), 400
            return jsonify({"result": {"ID": "5", "TITLE": "Deal"}, "time": {}})
        if method == "echo":
            return jsonify({"result": body, "time": {}})
        if method == "batch":
            out: dict[str, Any] = {}
            errors: dict[str, Any] = {}
            for key, cmd in body["cmd"].items():
                if cmd.startswith("bad"):
                    errors[key] = {"error": "ERROR_CORE", "error_description": "bad command"}
                else:
                    out[key] = cmd
            return jsonify({"result": {"result": out, "result_error": errors or [], "result_total": [],
                                       "result_next": [], "result_time": []}, "time": {}})
        return jsonify({"result": True, "time": {}})


@pytest.fixture
def portal(local_server, services):
    fake = FakePortal()
    srv = local_server(fake.app)
    services.config.oauth_url = srv.url + "/"
    installations.save_verified(
        services.db, member_id="m1", domain="d.bitrix24.ru", client_endpoint=srv.url + "/p/rest/",
        server_endpoint=srv.url + "/rest/", access_token="tok0", refresh_token="ref0", expires_at=0,
        application_token="app", scopes="crm", user_id=1)
    installations.set_limits(services.db, "m1", drain=1000, burst=1000)
    return fake


_OPEN: list[PortalClient] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _OPEN:
        _OPEN.pop().close()


def client(services, member_id: str = "m1") -> PortalClient:
    c = PortalClient(services.config, services.db, member_id)
    _OPEN.append(c)
    return c


def test_call_returns_result_and_sends_booleans_as_y_n(services, portal) -> None:
    got = client(services).call("echo", {"fields": {"OPENED": True, "CLOSED": False, "N": 1}})
    assert got["fields"] == {"OPENED": "Y", "CLOSED": "N", "N": 1}


def test_expired_token_is_refreshed_once_and_persisted(services, portal) -> None:
    portal.valid_access = {"other"}  # the portal expired tok0
    portal.refresh_tokens = {"ref0"}
    c = client(services)
    assert c.call("crm.deal.get", {"id": 5})["TITLE"] == "Deal"
    assert portal.refreshes == 1
    inst = installations.get(services.db, "m1")
    assert inst.access_token == "tok1" and inst.refresh_token == "ref1"  # rotated pair stored


def test_four_clients_hitting_401_together_refresh_once(services, portal) -> None:
    portal.valid_access = {"other"}
    clients = [client(services) for _ in range(4)]  # separate objects, like separate processes
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def go(c: PortalClient) -> None:
        barrier.wait()
        results.append(c.call("crm.deal.get", {"id": 5})["ID"])

    threads = [threading.Thread(target=go, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["5"] * 4
    assert portal.refreshes == 1


def test_invalid_grant_marks_the_portal_for_reinstall(services, portal) -> None:
    portal.valid_access = {"other"}
    portal.refresh_tokens = set()
    with pytest.raises(ReinstallRequired):
        client(services).call("crm.deal.get", {"id": 5})
    assert installations.get(services.db, "m1").status == installations.REINSTALL_REQUIRED
    with pytest.raises(ReinstallRequired):  # no loop: the next call does not even try
        client(services).call("crm.deal.get", {"id": 5})
    assert portal.refreshes == 0


def test_4xx_error_bodies_reach_the_error_table(services, portal) -> None:
    with pytest.raises(BitrixError) as err:
        client(services).call("crm.deal.get", {"id": 6})
    assert err.value.code == "" and err.value.description == "Not found" and err.value.status == 400
    assert err.value.action == Action.FAIL_DATA
    portal.fail_next = [(403, {"error": "insufficient_scope", "error_description": "no scope"})]
    with pytest.raises(BitrixError) as err:
        client(services).call("echo", {})
    assert err.value.code == "insufficient_scope" and err.value.action == Action.FAIL_CONFIG


def test_idempotent_calls_are_retried_on_503_but_adds_are_not(services, portal) -> None:
    portal.fail_next = [(503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"})]
    assert client(services).call("echo", {"a": 1})["a"] == 1
    # the refusal is remembered for every process: the bucket is shared, keep a wider headroom
    row = services.db.one("SELECT refused_until FROM rate_budget WHERE member_id = ?", ("m1",))
    assert row["refused_until"] > time.time() + 3000
    portal.fail_next = [(599, {})]  # the portal did the work, then answered 500
    before = len(portal.calls)
    with pytest.raises(BitrixError) as err:
        client(services).call("crm.timeline.comment.add", {"fields": {"COMMENT": "x"}})
    assert err.value.status == 500 and err.value.action == Action.RETRY
    assert len(portal.calls) - before == 1  # exactly one attempt: the job decides, with its effect key


def test_batch_keeps_per_command_errors(services, portal) -> None:
    res = client(services).batch({"a": ("crm.deal.get", {"id": 5}), "b": ("badmethod", {})})
    assert res.results["a"].startswith("crm.deal.get?id=5")
    assert res.errors["b"].code == "ERROR_CORE"
    with pytest.raises(BitrixError):
        res.get("b")
    sent = portal.calls[-1][1]
    assert sent["halt"] == 0 and set(sent["cmd"]) == {"a", "b"}


def test_unreachable_portal_is_a_transport_error(services) -> None:
    installations.save_verified(
        services.db, member_id="m2", domain="x", client_endpoint="http://127.0.0.1:9/rest/", server_endpoint="",
        access_token="t", refresh_token="r", expires_at=0, application_token="a", scopes="", user_id=1)
    c = client(services, "m2")
    with pytest.raises(TransportError):
        c.call("crm.timeline.comment.add", {"fields": {}})


def test_threads_sharing_one_client_refresh_once(services, portal) -> None:
    portal.valid_access = {"other"}
    portal.reject_delays = [0.0, 0.6, 0.6, 0.6]  # three requests sent with the old token answer late
    shared = client(services)  # one client per process, used by every worker thread
    barrier = threading.Barrier(6)
    results: list[Any] = []

    def go() -> None:
        barrier.wait()
        for _ in range(3):
            results.append(shared.call("crm.deal.get", {"id": 5})["ID"])

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == ["5"] * 18
    assert portal.refreshes == 1
