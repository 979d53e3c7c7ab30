"""Fault injection on the wire and the control API's clock, deliveries and request logs."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest
import requests

from b24sandbox.portal.storage import LogWriter, create_log_schema, open_db

from . import testmethods
from .conftest import InstalledApp, Portal, Receiver


def test_5xx_without_running_the_method(portal: Portal) -> None:
    hook = portal.webhook(1)
    before = testmethods.COUNTER["changes"]
    portal.ctl("PUT", "/faults", {"error_5xx_rate": 1.0})
    r = portal.call("sbtest.change", hook=hook)
    assert (r.status_code, r.json()["error"]) == (500, "INTERNAL_SERVER_ERROR")
    portal.ctl("PUT", "/faults", {"html_5xx": True})
    r = portal.call("sbtest.change", hook=hook)
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html") and "nginx" in r.text
    assert testmethods.COUNTER["changes"] == before
    portal.ctl("PUT", "/faults", {"error_5xx_rate": 0, "html_5xx": False})
    assert portal.call("sbtest.change", hook=hook).status_code == 200


def test_commit_then_500(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    portal.call("event.bind", {"event": "ONCRMLEADADD", "handler": receiver.at("/ev")},
                token=installed_app.access_token)
    before = testmethods.COUNTER["changes"]
    portal.ctl("PUT", "/faults", {"commit_then_500_rate": 1.0})
    r = portal.call("sbtest.change", {"id": 61}, hook=portal.webhook(1))
    assert r.status_code == 500
    assert testmethods.COUNTER["changes"] == before + 1  # the change was made
    assert len(receiver.wait_for("/ev")) == 1  # and its event was sent
    log = portal.ctl("GET", "/requests").json()
    assert log[-1]["fault"] == "commit_then_500" and log[-1]["status"] == 500


def test_timeouts_hold_the_request(portal: Portal) -> None:
    hook = portal.webhook(1)
    before = testmethods.COUNTER["changes"]
    portal.ctl("PUT", "/faults", {"timeout_rate": 1.0, "timeout_hold_s": 0.8})
    with pytest.raises(requests.ReadTimeout):
        requests.post(hook + "sbtest.change", json={}, timeout=0.3)
    t0 = time.monotonic()
    r = requests.post(hook + "sbtest.change", json={}, timeout=5)
    assert r.status_code == 504 and time.monotonic() - t0 >= 0.75
    assert testmethods.COUNTER["changes"] == before


def test_503_burst_window_latency_and_method_filter(portal: Portal) -> None:
    hook = portal.webhook(1)
    portal.ctl("PUT", "/faults", {"burst_503_s": 0.5, "methods": ["sbtest.echo"]})
    r = portal.call("sbtest.echo", hook=hook)
    assert (r.status_code, r.json()["error"]) == (503, "QUERY_LIMIT_EXCEEDED")
    assert portal.call("sbtest.list", hook=hook).status_code == 200  # not a faulty method
    time.sleep(0.55)
    assert portal.call("sbtest.echo", hook=hook).status_code == 200
    portal.ctl("PUT", "/faults", {"latency_ms": 200, "methods": []})
    t0 = time.monotonic()
    assert portal.call("sbtest.list", hook=hook).status_code == 200
    assert time.monotonic() - t0 >= 0.2


def test_seeded_rates(portal: Portal) -> None:
    hook = portal.webhook(1)
    portal.ctl("PUT", "/limits", {"enabled": False})
    portal.ctl("PUT", "/faults", {"error_5xx_rate": 0.3, "seed": 7})
    s = requests.Session()
    codes = [s.post(hook + "sbtest.echo", json={}, timeout=5).status_code for _ in range(200)]
    assert 40 <= codes.count(500) <= 80
    portal.ctl("PUT", "/faults", {"seed": 7})
    again = [s.post(hook + "sbtest.echo", json={}, timeout=5).status_code for _ in range(200)]
    assert again == codes  # same seed, same draw


def test_clock_offset_now_and_frozen(sandbox) -> None:  # type: ignore[no-untyped-def]
    url = sandbox.url + "/_sandbox/clock"
    st = requests.put(url, json={"offset_s": 3600}, timeout=5).json()
    assert abs(st["unix"] - (time.time() + 3600)) < 2
    st = requests.put(url, json={"now": "2026-10-05T11:20:00+03:00", "frozen": True}, timeout=5).json()
    assert st["frozen"] is True and st["now"] == "2026-10-05T08:20:00+00:00"
    time.sleep(0.05)
    assert requests.get(url, timeout=5).json()["unix"] == st["unix"]
    st = requests.put(url, json={"frozen": False}, timeout=5).json()
    assert st["frozen"] is False
    requests.put(url, json={"offset_s": 0}, timeout=5)


def test_frozen_clock_drives_rest_time_and_tokens(portal: Portal, installed_app: InstalledApp) -> None:
    url = portal.sb.url + "/_sandbox/clock"
    requests.put(url, json={"now": "2030-01-02T03:04:05+03:00", "frozen": True}, timeout=5)
    try:
        r = portal.call("server.time", token=installed_app.access_token)
        assert r.status_code == 401  # the app's token was issued years "ago"
        hook = portal.webhook(1)
        assert portal.call("server.time", hook=hook).json()["result"] == "2030-01-02T03:04:05+03:00"
        assert portal.call("sbtest.echo", hook=hook).json()["time"]["date_start"] == "2030-01-02T03:04:05+03:00"
    finally:
        requests.put(url, json={"frozen": False, "offset_s": 0}, timeout=5)


def test_deliveries_log_filters(portal: Portal, installed_app: InstalledApp, receiver: Receiver) -> None:
    portal.call("event.bind", {"event": "ONCRMLEADADD", "handler": receiver.at("/ev")},
                token=installed_app.access_token)
    portal.call("sbtest.change", {"id": 5}, hook=portal.webhook(1))
    every = portal.deliveries()
    assert {d["kind"] for d in every} >= {"install_page", "event"}
    events = portal.deliveries(kind="event")
    assert [(d["event"], d["client_id"], d["url"], d["ok"]) for d in events] == [
        ("ONCRMLEADADD", installed_app.client_id, receiver.at("/ev"), True)]
    since = events[-1]["id"]
    assert requests.get(portal.control + "/deliveries", params={"since": since}, timeout=5).json() == []


def test_portal_creation_seeds_and_creates_1c_bases(sandbox) -> None:  # type: ignore[no-untyped-def]
    r = requests.post(sandbox.url + "/_sandbox/portals", json={"domain": "metalprom.bitrix24.ru", "seed": "metalprom"},
                      timeout=120)
    assert r.status_code == 201
    info = r.json()
    assert set(info) >= {"member_id", "domain", "rest_url", "oauth_url", "admin_user_id"}
    bases = requests.get(f"{sandbox.url}/_sandbox/portals/{info['member_id']}/onec", timeout=10).json()
    assert len(bases) >= 1 and all(b["member_id"] == info["member_id"] for b in bases)
    hook = requests.post(f"{sandbox.url}/_sandbox/portals/{info['member_id']}/webhooks", json={"user_id": 1},
                         timeout=10).json()["url"]
    assert requests.post(hook + "crm.lead.list", json={"start": -1}, timeout=10).json()["result"]


def test_a_failing_seed_leaves_no_portal(sandbox) -> None:  # type: ignore[no-untyped-def]
    r = requests.post(sandbox.url + "/_sandbox/portals", json={"domain": "bad.bitrix24.ru", "seed": "no-such-seed"},
                      timeout=30)
    assert r.status_code == 400 and "no-such-seed" in r.json()["error_description"]
    assert requests.get(sandbox.url + "/_sandbox/portals", timeout=10).json() == []


def test_logs_live_in_their_own_file_and_go_with_the_portal(sandbox, portal: Portal) -> None:  # type: ignore[no-untyped-def]
    hook = portal.webhook(1)
    requests.post(hook + "crm.lead.list", json={"select": ["ID"], "start": -1}, timeout=10)
    requests.post(hook + "no.such.method", json={}, timeout=10)
    log = requests.get(portal.control + "/requests", timeout=10).json()
    assert [(r["method"], r["status"], r["auth_kind"]) for r in log[-2:]] == [
        ("crm.lead.list", 200, "webhook"), ("no.such.method", 404, "webhook")]
    files = sandbox.sandbox.data_dir / "portals"
    main, logs = files / f"{portal.member_id}.sqlite", files / f"{portal.member_id}.log.sqlite"
    assert main.exists() and logs.exists()
    with sqlite3.connect(main) as conn:  # the portal's own file holds no log table any more
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "sb_requests" not in tables and "sb_deliveries" not in tables
    assert requests.delete(portal.control, timeout=30).json() == {"deleted": True}
    assert not main.exists() and not logs.exists()


def test_log_writer_encodes_structures_and_refuses_unknown_columns(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = open_db(tmp_path / "log.sqlite")
    create_log_schema(db)
    writer = LogWriter(db, "sb_requests")
    first = writer.append({"ts": 1.0, "method": "batch", "status": 200, "sub_calls": [{"method": "a"}]})
    assert writer.append({"ts": 2.0, "method": "x"}) == first + 1
    assert json.loads(db["sb_requests"].get(first)["sub_calls"]) == [{"method": "a"}]
    with pytest.raises(ValueError, match="unknown log columns"):
        writer.append({"ts": 3.0, "nonsense": 1})
