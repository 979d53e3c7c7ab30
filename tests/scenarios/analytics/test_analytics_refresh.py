"""The analytics data pulled from a sandbox portal over real HTTP: the МеталПром lead-funnel table
from generated leads loaded into the portal, the CLI contract in a separate process, incremental
refresh after changes (counted at the sandbox's request log), deletions, the demo settings."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from typing import Any

import requests

from b24app.analytics import pull, reports
from b24app.analytics.filters import Filters
from b24app.analytics.plugin import enqueue_refresh
from b24app.analytics.settings_section import SCHEMA, demo
from b24app.settings.schema import Issues
from b24sandbox.seed import generator as gen
from tests.scenarios.analytics.conftest import install_app

MANAGERS = (("Иванов", "Иван"), ("Петров", "Иван"), ("Зуева", "Софья"))


def webhook_batch(hook: str, commands: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """Run commands through the portal's inbound webhook (JSON batch of up to 50)."""
    from b24app.portal.phpform import build_query

    out: dict[str, Any] = {}
    for start in range(0, len(commands), 50):
        chunk = commands[start:start + 50]
        body = {"halt": 1, "cmd": {k: f"{m}?{build_query(p)}" for k, m, p in chunk}}
        resp = requests.post(hook + "batch.json", json=body, timeout=30).json()
        assert not resp["result"].get("result_error"), resp["result"]["result_error"]
        out.update(resp["result"]["result"])
    return out


def refresh(app, member_id: str) -> dict[str, Any]:
    enqueue_refresh(app.services, member_id, reason="test")
    app.drain()
    return pull.last_summary(app.db, member_id)


def requests_since(sandbox, member_id: str, since: int, client_id: str) -> list[dict[str, Any]]:
    return sandbox.control("GET", f"/portals/{member_id}/requests?since={since}&client_id={client_id}")


def last_request_id(sandbox, member_id: str) -> int:
    rows = sandbox.control("GET", f"/portals/{member_id}/requests")
    return max([r["id"] for r in rows] or [0])


def test_metalprom_funnel_from_generated_leads_in_a_sandbox_portal(sandbox, app_factory) -> None:
    portal = sandbox.new_portal("empty")
    m = portal["member_id"]
    ids = [sandbox.control("POST", f"/portals/{m}/users", {"NAME": first, "LAST_NAME": last,
                                                           "EMAIL": f"{last}@metalprom.test"})["ID"]
           for last, first in MANAGERS]
    ids = [int(i) for i in ids]
    leads = gen.metalprom_lead_funnel(1, assigned_ids=ids)
    hook = sandbox.webhook(m)
    fields = ("TITLE", "STATUS_ID", "SOURCE_ID", "ASSIGNED_BY_ID", "OPPORTUNITY", "CURRENCY_ID", "COMMENTS")
    webhook_batch(hook, [(f"l{i}", "crm.lead.add", {"fields": {k: lead[k] for k in fields}})
                         for i, lead in enumerate(leads)])
    app = app_factory()
    install_app(sandbox, app, m)
    summary = refresh(app, m)
    assert summary["rows"]["leads"] == 188

    rep = reports.build("funnel", app.db, m, Filters())
    assert rep.summary == {"leads": 188, "active": 99, "converted": 31, "junk": 58,
                           "loss_pct": 30.85, "conversion_pct": 31.31}
    managers = {r["manager_id"]: r for r in reports.build("managers", app.db, m, Filters()).tables[0].rows}
    for uid, expected in zip(ids, gen.METALPROM_FUNNEL_BY_MANAGER, strict=True):
        assert {k: managers[uid][k] for k in expected} == expected

    # the CLI contract, in its own process against the same store
    out = subprocess.run([sys.executable, "-m", "b24app", "report", "funnel", "--portal", m, "--json"],
                         env=app.env(), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {k: data[k] for k in ("leads", "active", "converted", "junk", "loss_pct", "conversion_pct")} == \
        rep.summary


def test_incremental_refresh_takes_only_what_changed(sandbox, app_factory) -> None:
    portal = sandbox.new_portal("empty")
    m = portal["member_id"]
    try:  # the data was written an hour ago (the generator stamps deals with the portal's "now")
        sandbox.control("PUT", "/clock", {"offset_s": -3600})
        sandbox.control("POST", f"/portals/{m}/generate", {"leads": 600, "deals": 400, "companies": 20,
                                                            "rng_seed": 5})
    finally:
        sandbox.control("PUT", "/clock", {"offset_s": 0})
    # this test counts requests, not waits: the test's own webhook traffic must not fill the portal's
    # leaky bucket (a 503 makes the client repeat a request the sandbox then logs twice)
    sandbox.control("PUT", f"/portals/{m}/limits", {"drain_per_s": 1000, "burst": 10000})
    app = app_factory()
    install_app(sandbox, app, m)
    first = refresh(app, m)
    assert first["rows"]["leads"] == 600 and first["rows"]["deals"] == 400
    before = reports.build("funnel", app.db, m, Filters())
    hook = sandbox.webhook(m)
    active = [r["id"] for r in app.db.query(
        "SELECT id FROM analytics_leads WHERE member_id = ? AND semantic = 'P' ORDER BY id LIMIT 30", (m,))]
    open_deals = [r["id"] for r in app.db.query(
        "SELECT id FROM analytics_deals WHERE member_id = ? AND semantic = 'P' ORDER BY id LIMIT 20", (m,))]
    cmds = [(f"u{i}", "crm.lead.update", {"id": i, "fields": {"STATUS_ID": "JUNK"}}) for i in active]
    cmds += [(f"d{i}", "crm.deal.update", {"id": i, "fields": {"STAGE_ID": "WON"}}) for i in open_deals]
    cmds += [(f"n{i}", "crm.deal.add", {"fields": {"TITLE": f"Новая {i}", "OPPORTUNITY": 1000,
                                                   "ASSIGNED_BY_ID": 1}}) for i in range(5)]
    webhook_batch(hook, cmds)
    sandbox.wait_deliveries()
    app.drain()  # whatever other features do with the change events
    mark = last_request_id(sandbox, m)
    second = refresh(app, m)
    log = requests_since(sandbox, m, mark, app.config.client_id)
    assert second["rows"]["leads"] == 30 and second["rows"]["deals"] == 25
    assert second["rows"]["history_lead"] == 30 and second["rows"]["history_deal"] == 25
    assert len(log) == second["requests"]
    assert second["requests"] <= 12, [r["method"] for r in log]
    after = reports.build("funnel", app.db, m, Filters()).summary
    assert after["junk"] == before.summary["junk"] + 30 and after["active"] == before.summary["active"] - 30
    won = app.db.scalar("SELECT COUNT(*) FROM analytics_deals WHERE member_id = ? AND stage_id = 'WON'", (m,))
    assert won >= 20
    # ten minutes later: the next run reads the last lookback window again (the same rows, the same
    # numbers), the one after it reads nothing
    try:
        sandbox.control("PUT", "/clock", {"offset_s": 600})
        third = refresh(app, m)
        assert third["rows"]["leads"] == 30 and reports.build("funnel", app.db, m, Filters()).summary == after
        fourth = refresh(app, m)
    finally:
        sandbox.control("PUT", "/clock", {"offset_s": 0})
    assert fourth["rows"].get("leads", 0) == 0 and fourth["rows"].get("deals", 0) == 0
    assert fourth["rows"].get("history_deal", 0) == 0


def test_a_deal_deleted_in_the_portal_leaves_the_reports(sandbox, app_factory) -> None:
    portal = sandbox.new_portal("empty")
    m = portal["member_id"]
    sandbox.control("POST", f"/portals/{m}/generate", {"deals": 10, "rng_seed": 2})
    app = app_factory()
    install_app(sandbox, app, m)
    refresh(app, m)
    assert app.db.scalar("SELECT COUNT(*) FROM analytics_deals WHERE member_id = ?", (m,)) == 10
    hook = sandbox.webhook(m)
    requests.post(hook + "crm.deal.delete.json", json={"id": 3}, timeout=10).raise_for_status()
    sandbox.wait_deliveries()
    app.drain()
    ids = {r["id"] for r in app.db.query("SELECT id FROM analytics_deals WHERE member_id = ?", (m,))}
    assert 3 not in ids and len(ids) == 9
    assert app.db.scalar("SELECT COUNT(*) FROM analytics_history WHERE member_id = ? AND entity_type = 2 "
                         "AND owner_id = 3", (m,)) == 0


def test_metalprom_portal_refresh_and_demo_settings(sandbox, app_factory) -> None:
    portal = sandbox.new_portal("metalprom")
    m = portal["member_id"]
    app = app_factory()
    install_app(sandbox, app, m)
    summary = refresh(app, m)
    assert summary["rows"]["leads"] == 120 and summary["rows"]["deals"] == 71
    assert summary["payments_available"] is False  # no 1C base in the settings yet
    from b24app.settings.demo import portal_facts

    section = demo(portal_facts(app.services, m))
    assert section["viewers"] == [2] and section["contract_stages"] == ["UC_CONTRACT"]
    issues = Issues()
    SCHEMA.check(section, "analytics", issues)
    assert not issues
    f = Filters(date_from=dt.date.today() - dt.timedelta(days=200), date_to=dt.date.today())
    stages = reports.build("stages", app.db, m, f, section)
    assert stages.table("stage_times").rows and all(r["stays"] >= 0 for r in stages.table("stage_times").rows)
    assert reports.build("funnel", app.db, m, Filters()).summary["leads"] == 120


def test_the_big_lists_are_read_at_once_when_the_portal_is_slow_to_answer(sandbox, app_factory) -> None:
    portal = sandbox.new_portal("empty")
    m = portal["member_id"]
    sandbox.control("POST", f"/portals/{m}/generate", {"leads": 300, "rng_seed": 3})
    sandbox.control("POST", f"/portals/{m}/generate", {"deals": 200, "rng_seed": 4})
    app = app_factory()
    install_app(sandbox, app, m)
    client_id = app.config.client_id
    sandbox.control("PUT", f"/portals/{m}/faults", {"latency_ms": 300})  # every answer takes 0.3 s
    since = last_request_id(sandbox, m)
    summary = refresh(app, m)
    assert summary["rows"]["leads"] == 300 and summary["rows"]["deals"] == 200
    assert summary["rows"]["history_lead"] >= 300 and summary["rows"]["history_deal"] >= 200

    spans: dict[str, list[tuple[float, float]]] = {}
    for r in requests_since(sandbox, m, since, client_id):
        methods = {c["method"] if isinstance(c, dict) else str(c) for c in r.get("sub_calls") or []}
        if len(methods) == 1:
            start = float(r["ts"])
            spans.setdefault(methods.pop(), []).append((start, start + float(r["duration_ms"]) / 1000))
    lead_end = max(end for _, end in spans["crm.lead.list"])
    # the deal list and the stage histories did not wait for the leads' last answer
    assert min(s for s, _ in spans["crm.deal.list"]) < lead_end
    assert min(s for s, _ in spans["crm.stagehistory.list"]) < lead_end
