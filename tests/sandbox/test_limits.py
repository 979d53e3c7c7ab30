"""The request-rate leaky bucket and the per-method operating budget, measured over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

import requests

from . import testmethods  # noqa: F401
from .conftest import Portal


def _fire(session: requests.Session, url: str) -> int:
    return session.post(url, json={}, timeout=10).status_code


def test_plan_defaults(make_portal: Callable[..., Portal]) -> None:
    std = make_portal("std.bitrix24.ru").ctl("GET", "/limits").json()
    ent = make_portal("ent.bitrix24.ru", plan="enterprise").ctl("GET", "/limits").json()
    assert (std["drain_per_s"], std["burst"], std["operating_budget_s"]) == (2.0, 50, 480.0)
    assert (ent["drain_per_s"], ent["burst"]) == (5.0, 250)


def test_burst_then_503_query_limit_exceeded(portal: Portal) -> None:
    url = portal.webhook(1) + "sbtest.echo"
    portal.ctl("PUT", "/limits", {"burst": 50, "drain_per_s": 2, "time_scale": 1, "reset": True})
    s = requests.Session()
    t0 = time.monotonic()
    codes = [_fire(s, url) for _ in range(80)]
    elapsed = time.monotonic() - t0
    accepted = codes.count(200)
    # 50 at once plus what drained meanwhile (2/s)
    assert 50 <= accepted <= 50 + int(2 * elapsed) + 1, (accepted, elapsed)
    assert codes[:50] == [200] * 50
    assert codes.count(503) == 80 - accepted
    r = s.post(url, json={}, timeout=10)
    assert r.status_code == 503
    assert r.json() == {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


def test_drain_rate_holds_within_ten_percent(portal: Portal) -> None:
    url = portal.webhook(1) + "sbtest.echo"
    drain, scale, burst = 2.0, 10.0, 50
    portal.ctl("PUT", "/limits", {"burst": burst, "drain_per_s": drain, "time_scale": scale, "reset": True})
    s = requests.Session()
    # saturate: N requests at full speed give the burst plus what drains meanwhile
    t0 = time.monotonic()
    codes = [_fire(s, url) for _ in range(150)]
    t_sat = time.monotonic() - t0
    expected = burst + drain * scale * t_sat
    assert abs(codes.count(200) - expected) <= max(2.0, 0.1 * expected), (codes.count(200), expected)
    assert codes.count(503) == 150 - codes.count(200)
    # keep hammering for a while: the accepted rate is the drain rate (20/s here)
    t1 = time.monotonic()
    accepted = 0
    while time.monotonic() - t1 < 2.0:
        accepted += _fire(s, url) == 200
    rate = accepted / (time.monotonic() - t1)
    assert abs(rate - drain * scale) <= 0.1 * drain * scale, rate


def test_operating_budget_429(portal: Portal) -> None:
    hook = portal.webhook(1)
    portal.ctl("PUT", "/limits", {"method_costs": {"sbtest.echo": 100}, "operating_budget_s": 480,
                                  "time_scale": 1, "reset": True})
    seen = []
    for _ in range(5):
        r = requests.post(hook + "sbtest.echo", json={}, timeout=10)
        assert r.status_code == 200
        seen.append(r.json()["time"]["operating"])
        reset_at = r.json()["time"]["operating_reset_at"]
        assert 590 <= reset_at - time.time() <= 610
    assert seen == [100, 200, 300, 400, 500]
    r = requests.post(hook + "sbtest.echo", json={}, timeout=10)
    assert r.status_code == 429
    assert r.json() == {"error": "OPERATION_TIME_LIMIT", "error_description": "Method is blocked due to operation time limit."}
    # per method and per app/webhook
    assert requests.post(hook + "sbtest.list", json={}, timeout=10).status_code == 200
    assert requests.post(portal.webhook(1) + "sbtest.echo", json={}, timeout=10).status_code == 200


def test_operating_window_follows_time_scale(portal: Portal) -> None:
    hook = portal.webhook(1)
    # 600 simulated seconds pass in 0.5 real seconds
    portal.ctl("PUT", "/limits", {"method_costs": {"sbtest.echo": 300}, "operating_budget_s": 480,
                                  "time_scale": 1200, "reset": True})
    assert requests.post(hook + "sbtest.echo", json={}, timeout=10).status_code == 200
    assert requests.post(hook + "sbtest.echo", json={}, timeout=10).status_code == 200
    assert requests.post(hook + "sbtest.echo", json={}, timeout=10).status_code == 429
    time.sleep(0.6)
    assert requests.post(hook + "sbtest.echo", json={}, timeout=10).status_code == 200


def test_limits_can_be_disabled(portal: Portal) -> None:
    url = portal.webhook(1) + "sbtest.echo"
    portal.ctl("PUT", "/limits", {"burst": 2, "enabled": False, "reset": True})
    s = requests.Session()
    assert [_fire(s, url) for _ in range(10)] == [200] * 10
