"""Analytics: time to compute every report over 100,000 deals and ~1,000,000 stage-history rows, and
the number of REST requests of an incremental refresh after 500 changes in the portal.

1. Compute. Generated data (b24sandbox.seed.generator: 100,000 deals whose histories hold about
   1,000,000 rows, 50,000 leads, 2,000 client companies with requisites, some open activities) is
   written into the analytics tables through the same row mappers the refresh uses; then each
   report is built (the same ``reports.build`` the pages and the CLI call) without filters and
   with a 90-day period, and timed. ``--pg`` runs the same on the local PostgreSQL.
2. Refresh. A loopback stack (bench/stack.py: the sandbox in its own process, the app, a worker):
   a portal with generated leads (the sandbox's generator route) and deals (added through the
   portal's REST in batches) written an hour earlier (portal clock), the app
   installed, a first full pull (``b24app report refresh``), then 500 changes through the portal's
   webhook (200 lead status changes, 250 deal stage moves, 50 new deals) and a second pull. The
   requests are counted at the sandbox's request log (``GET /_sandbox/portals/<m>/requests``,
   filtered by the app's client_id), not by the app; the worker is stopped after the install so
   no other job of the app talks to the portal meanwhile. Rate limits are switched off on both
   sides for the measurement (they change the time, not the count).

``python -m bench --only reports [--quick]`` or
``python bench/bench_reports.py [--quick] [--pg] [--refresh-deals=N] [--refresh-only]``. The
refresh portal has 20,000 deals and 20,000 leads (``--quick``: 5,000 and 5,000): the request count
of an incremental refresh depends on the number of changes, not on the portal's size, while the
first full pull of a bigger portal mostly measures the sandbox (its ``crm.stagehistory.list``
rebuilds the whole list for every page, about 6 s per batch of 50 pages at 200,000 rows).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests

from b24app.analytics import reports, store
from b24app.analytics.filters import Filters
from b24app.config import Config
from b24app.context import Services
from b24app.portal.phpform import build_query
from b24sandbox.seed import generator as gen
from b24sandbox.seed.dictionaries import DEAL_CATEGORIES, DEAL_STAGES_0, statuses

MEMBER = "bench-portal"
TODAY = dt.date.today()
PG_ADMIN_URL = "postgresql://root@127.0.0.1:5432/test"


# --- 1. compute ------------------------------------------------------------------------------------
def _history_rows(member: str, entity_type: int, owner: int, steps: list[dict[str, Any]], key: str,
                  sems: dict[str, str], seq: list[int], category: int = 0) -> list[dict[str, Any]]:
    out = []
    for i, step in enumerate(steps):
        seq[0] += 1
        stage = step[key]
        type_id = 1 if i == 0 else (3 if sems.get(stage) in ("S", "F") else 2)
        row = {"ID": seq[0], "TYPE_ID": type_id, "OWNER_ID": owner, "CREATED_TIME": step["CREATED_TIME"], key: stage,
               "CATEGORY_ID": category}
        out.append(store.history_row(member, entity_type, row, sems))
    return out


def load(svc: Services, deals_n: int, leads_n: int, companies_n: int) -> dict[str, Any]:
    db = svc.db
    started = time.monotonic()
    with db.transaction():
        store.replace_all(db, "analytics_statuses", MEMBER, [store.status_row(MEMBER, s) for s in statuses()])
        store.replace_all(db, "analytics_categories", MEMBER, [store.category_row(MEMBER, c) for c in DEAL_CATEGORIES])
        store.replace_all(db, "analytics_users", MEMBER, [store.user_row(MEMBER, {"ID": u, "LAST_NAME": f"Менеджер {u}"})
                                                          for u in (3, 4, 5)])
        store.upsert(db, "analytics_companies", [store.company_row(MEMBER, {"ID": c, "TITLE": f"Клиент {c}",
                                                                            "ASSIGNED_BY_ID": 3 + c % 3,
                                                                            "HAS_PHONE": "Y" if c % 7 else "N"})
                                                 for c in range(1, companies_n + 1)])
        store.upsert(db, "analytics_requisites", [store.requisite_row(MEMBER, {"ID": c, "ENTITY_TYPE_ID": 4, "ENTITY_ID": c,
                                                                               "RQ_INN": "7448053174"})
                                                  for c in range(1, companies_n + 1) if c % 5])
    lead_sems = store.semantics_map(db, MEMBER, "STATUS")
    deal_sems = store.semantics_map(db, MEMBER, "DEAL_STAGE")
    seq = [0]
    leads = gen.generate_leads(leads_n, 1, 1, today=TODAY)
    history: list[dict[str, Any]] = []
    rows = []
    for lead in leads:
        steps = lead.get("history") or [{"STATUS_ID": lead["STATUS_ID"], "CREATED_TIME": lead["DATE_CREATE"]}]
        rows.append(store.lead_row(MEMBER, {**lead, "DATE_MODIFY": steps[-1]["CREATED_TIME"]}, lead_sems))
        history += _history_rows(MEMBER, 1, int(lead["ID"]), steps, "STATUS_ID", lead_sems, seq)
    with db.transaction():
        store.upsert(db, "analytics_leads", rows)
        store.upsert(db, "analytics_history", history)
    deal_history = 0
    stages = [s[0] for s in DEAL_STAGES_0]
    seq = [0]
    chunk = 20_000
    for start in range(0, deals_n, chunk):
        n = min(chunk, deals_n - start)
        deals = gen.generate_deals(n, start + 1, start + 1, stages, company_ids=list(range(1, companies_n + 1)),
                                   today=TODAY, with_product_rows=False, jump_p=0.0, returns_per_deal=2.6)
        rows, history = [], []
        for d in deals:
            steps = d["history"]
            rows.append(store.deal_row(MEMBER, {**d, "DATE_MODIFY": steps[-1]["CREATED_TIME"],
                                                "MOVED_TIME": steps[-1]["CREATED_TIME"]}, deal_sems))
            history += _history_rows(MEMBER, 2, int(d["ID"]), steps, "STAGE_ID", deal_sems, seq)
        deal_history += len(history)
        with db.transaction():
            store.upsert(db, "analytics_deals", rows)
            store.upsert(db, "analytics_history", history)
    now = time.time()
    with db.transaction():
        store.replace_all(db, "analytics_activities", MEMBER, [
            store.activity_row(MEMBER, {"ID": i, "OWNER_TYPE_ID": 2, "OWNER_ID": i * 13, "RESPONSIBLE_ID": 3 + i % 3,
                                        "DEADLINE": dt.datetime.fromtimestamp(now + (i % 9 - 4) * 86400,
                                                                              dt.UTC).isoformat()})
            for i in range(1, 2001)])
    store.refresh_statistics(db)  # as the refresh does after a big load
    return {"deals": deals_n, "deal_history_rows": deal_history, "leads": leads_n,
            "history_rows_total": db.scalar("SELECT COUNT(*) FROM analytics_history WHERE member_id = ?", (MEMBER,)),
            "load_seconds": round(time.monotonic() - started, 1)}


def time_reports(svc: Services) -> dict[str, Any]:
    options = {"stuck_days": 14, "contract_days": 5, "contract_stages": ["UC_CONTRACT"]}
    period = Filters(date_from=TODAY - dt.timedelta(days=90), date_to=TODAY)
    out: dict[str, Any] = {}
    for name in reports.REPORTS:
        for label, f in (("all", Filters()), ("90d", period)):
            started = time.monotonic()
            rep = reports.build(name, svc.db, MEMBER, f, options)
            out[f"{name}.{label}_s"] = round(time.monotonic() - started, 3)
            if name == "funnel" and label == "all":
                out["funnel.leads"] = rep.summary["leads"]
    out["all_reports_all_s"] = round(sum(v for k, v in out.items() if k.endswith(".all_s")), 3)
    return out


def compute(deals_n: int, leads_n: int, companies_n: int, engine: str = "sqlite") -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    config = Config.from_env({}, instance_path=str(root / "instance"), secret_key="bench")
    schema = None
    if engine == "postgres":
        import uuid

        import psycopg

        schema = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        config.database_url = f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    svc = Services.open(config)
    try:
        result = {"engine": engine, **load(svc, deals_n, leads_n, companies_n)}
        result.update(time_reports(svc))
        return result
    finally:
        svc.db.close()
        if schema:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


# --- 2. refresh ------------------------------------------------------------------------------------
def _webhook_batch(hook: str, commands: list[tuple[str, str, dict[str, Any]]]) -> None:
    for start in range(0, len(commands), 50):
        chunk = commands[start:start + 50]
        body = {"halt": 0, "cmd": {k: f"{m}?{build_query(p)}" for k, m, p in chunk}}
        answer = requests.post(hook + "batch.json", json=body, timeout=120).json()
        errors = answer.get("result", {}).get("result_error")
        if errors:
            raise RuntimeError(f"webhook batch failed: {str(errors)[:300]}")


def _requests_since(stack: Any, member_id: str, since: int) -> list[dict[str, Any]]:
    return stack.control("GET", f"/portals/{member_id}/requests?since={since}&client_id={stack.client_id}")


def _last_request(stack: Any, member_id: str) -> int:
    return max([r["id"] for r in stack.control("GET", f"/portals/{member_id}/requests")] or [0])


def refresh(deals_n: int, leads_n: int, changes: int = 500) -> dict[str, Any]:
    from bench.stack import Stack

    with Stack() as stack:
        stack.start_sandbox()
        stack.start_app(gunicorn=False)
        stack.start_worker()
        portal = stack.new_portal("empty", plan="enterprise")
        m = portal["member_id"]
        stack.control("PUT", f"/portals/{m}/limits", {"enabled": False})
        made = {"leads": 0, "deals": 0}
        hook = stack.control("POST", f"/portals/{m}/webhooks", {"user_id": 1})["url"]
        stages = [s[0] for s in DEAL_STAGES_0]
        try:  # the data was written an hour before the app arrives
            stack.control("PUT", "/clock", {"offset_s": -3600})
            stack.control("POST", f"/portals/{m}/generate", {"companies": 500, "leads": leads_n, "rng_seed": 11})
            made["leads"] = leads_n
            # deals through the portal's REST (the generator route also writes product rows, which
            # costs the sandbox more the more deals exist): realistic fields, created in their stage
            keep = ("TITLE", "STAGE_ID", "OPPORTUNITY", "CURRENCY_ID", "SOURCE_ID", "TYPE_ID", "COMPANY_ID")
            for start in range(0, deals_n, 5000):
                deals = gen.generate_deals(min(5000, deals_n - start), start + 1, 12 + start, stages,
                                           company_ids=list(range(1, 501)), assigned_ids=(1,), today=TODAY,
                                           with_product_rows=False, with_history=False)
                _webhook_batch(hook, [(f"d{d['ID']}", "crm.deal.add",
                                       {"fields": {k: d[k] for k in keep if d.get(k) is not None}}) for d in deals])
                made["deals"] += len(deals)
        finally:
            stack.control("PUT", "/clock", {"offset_s": 0})
        stack.install(m)
        stack.kill("worker")  # nothing else of the app talks to the portal while we count
        stack.b24app("portals", "set-limits", m, "--drain", "10000", "--burst", "10000")
        mark = _last_request(stack, m)
        started = time.monotonic()
        first = stack.b24app("report", "refresh", "--portal", m, "--json", timeout=3600)
        if first.returncode != 0:
            raise RuntimeError(first.stderr[-2000:])
        first_s = time.monotonic() - started
        first_log = _requests_since(stack, m, mark)
        first_summary = json.loads(first.stdout)

        n_leads, n_moves = changes * 2 // 5, changes // 2
        n_new = changes - n_leads - n_moves
        lead_ids = range(1, n_leads + 1)
        deal_ids = range(1, n_moves + 1)
        cmds = [(f"l{i}", "crm.lead.update", {"id": i, "fields": {"STATUS_ID": "JUNK"}}) for i in lead_ids]
        cmds += [(f"d{i}", "crm.deal.update", {"id": i, "fields": {"STAGE_ID": "WON"}}) for i in deal_ids]
        cmds += [(f"n{i}", "crm.deal.add", {"fields": {"TITLE": f"Новая {i}", "OPPORTUNITY": 1000}})
                 for i in range(n_new)]
        _webhook_batch(hook, cmds)
        stack.control("POST", "/wait-deliveries", {"timeout_s": 120})
        mark = _last_request(stack, m)
        started = time.monotonic()
        second = stack.b24app("report", "refresh", "--portal", m, "--json")
        if second.returncode != 0:
            raise RuntimeError(second.stderr[-2000:])
        second_s = time.monotonic() - started
        log = _requests_since(stack, m, mark)
        summary = json.loads(second.stdout)
        methods: dict[str, int] = {}
        for r in log:
            methods[r["method"]] = methods.get(r["method"], 0) + 1
        return {
            "portal": {"deals": made.get("deals"), "leads": made.get("leads")},
            "first_pull": {"requests": len(first_log), "seconds": round(first_s, 1),
                           "rows": first_summary.get("rows")},
            "changes": {"lead_status": n_leads, "deal_stage": n_moves, "new_deals": n_new},
            "incremental": {"requests": len(log), "requests_seen_by_app": summary.get("requests"),
                            "seconds": round(second_s, 2), "rows": summary.get("rows"), "methods": methods},
        }


def run(quick: bool = False, pg: bool = False, refresh_deals: int | None = None,
        printer: Any = None, refresh_only: bool = False) -> dict[str, Any]:
    """Both parts; ``printer(results so far)`` is called after each one."""
    out: dict[str, Any] = {}
    if not refresh_only:
        out["compute"] = compute(10_000, 5_000, 300) if quick else compute(100_000, 50_000, 2_000)
        if printer:
            printer(out)
    if pg:
        out["compute_pg"] = compute(10_000 if quick else 100_000, 5_000 if quick else 50_000, 2_000, "postgres")
        if printer:
            printer(out)
    deals = refresh_deals or (5_000 if quick else 20_000)
    out["refresh"] = refresh(deals, 5_000 if quick else 20_000)
    if printer:
        printer(out)
    return out


def summary(res: dict[str, Any]) -> list[tuple[str, Any]]:
    """Rows of the printed table: seconds per report, then the refresh's requests."""
    rows: list[tuple[str, Any]] = []
    for part in ("compute", "compute_pg"):
        c = res.get(part)
        if not c:
            continue
        rows.append((f"{part}: data", f"{c['deals']:,} deals, {c['deal_history_rows']:,} deal history rows, "
                                      f"{c['leads']:,} leads ({c['engine']})"))
        rows += [(f"{part}: {name} s (all time / 90 days)", f"{c[name + '.all_s']} / {c[name + '.90d_s']}")
                 for name in reports.REPORTS]
        rows.append((f"{part}: every report, all time, s", c["all_reports_all_s"]))
    r = res.get("refresh")
    if r:
        rows.append(("refresh: portal", f"{r['portal']['deals']:,} deals, {r['portal']['leads']:,} leads"))
        rows.append(("refresh: first full pull", f"{r['first_pull']['requests']} requests, {r['first_pull']['seconds']} s"))
        rows.append((f"refresh: incremental after {sum(r['changes'].values())} changes",
                     f"{r['incremental']['requests']} requests, {r['incremental']['seconds']} s"))
    return rows


def _print(result: dict[str, Any]) -> None:
    if "refresh" in result:
        return _print_refresh(result["refresh"])
    if "compute_pg" in result:
        p = result["compute_pg"]
        print(f"  PostgreSQL ({p['deals']:,} deals, {p['deal_history_rows']:,} history rows): every report, all time "
              f"{p['all_reports_all_s']:.3f} s; stages {p['stages.all_s']:.3f} s, funnel {p['funnel.all_s']:.3f} s",
              flush=True)
        return None
    c = result["compute"]
    print(f"reports over {c['deals']:,} deals, {c['deal_history_rows']:,} deal stage-history rows "
          f"({c['history_rows_total']:,} with leads), {c['leads']:,} leads on {c['engine']}:")
    for name in reports.REPORTS:
        print(f"  {name:9s} all time {c[name + '.all_s']:7.3f} s   last 90 days {c[name + '.90d_s']:7.3f} s")
    print(f"  every report, all time: {c['all_reports_all_s']:.3f} s (data load {c['load_seconds']} s)", flush=True)
    return None


def _print_refresh(r: dict[str, Any]) -> None:
    print(f"incremental refresh after {sum(r['changes'].values())} changes in a portal of "
          f"{r['portal']['deals']:,} deals and {r['portal']['leads']:,} leads:")
    print(f"  first full pull: {r['first_pull']['requests']} REST requests, {r['first_pull']['seconds']} s")
    print(f"  incremental:     {r['incremental']['requests']} REST requests (sandbox request log), "
          f"{r['incremental']['seconds']} s, rows {r['incremental']['rows']}")
    print(f"  by method: {r['incremental']['methods']}", flush=True)


def main(argv: list[str]) -> int:
    deals = next((int(a.split("=", 1)[1]) for a in argv if a.startswith("--refresh-deals=")), None)
    run(quick="--quick" in argv, pg="--pg" in argv, refresh_deals=deals, printer=_print,
        refresh_only="--refresh-only" in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
