"""Bulk work against the portal's limits: REST requests per item, and wall time against the limiter's
floor, for three jobs of the app — at standard and at Enterprise limits (time-scaled) — and the same
work done by a naive client (one call per item) through fast-bitrix24 and through b24pysdk, on the
same sandbox, in the same run.

Workloads (each the real command, run as a process: ``b24app ...`` with the stack's environment):

- ``backlog`` — ``b24app leads distribute --no-caps``: N new leads of the "nobody" user under the
  МеталПром demo rules. An *item* is a lead. Each lead costs one *write command*: ``crm.lead.update``
  with the assignment and its reason (the lead's reason field), 50 commands per ``batch``.
- ``backlog_comments`` — the same with ``--comments`` (a fresh backlog of the same size): a timeline
  comment per lead besides, so two write commands per lead. Ours only (its per-command figure).
- ``stage_tasks`` — ``b24app stages apply``: deals sitting in «Согласование счета», «Подготовка
  договора» and «Ожидание оплаты» get the demo's stage tasks. An *item* is a task created; its
  *write commands* are ``tasks.task.add`` plus one ``task.checklistitem.add`` per checklist item
  (the contract task has four).
- ``analytics_pull`` — ``b24app report refresh`` (first, full pull) of a portal with the generated
  leads and deals. An *item* is a row read (leads, deals, stage history, companies, requisites,
  users, dictionaries, activities, as counted by the command's summary); there are no writes.

Figures, per workload and plan, measured at the sandbox's request log (``GET /_sandbox/portals/<m>/
requests``, the app's ``client_id``), not by the app:

    requests            HTTP requests the portal accepted (503 refusals are counted apart)
    requests_per_item   requests / items            (target of the issue: within 10 % of 1/50)
    requests_per_write  requests / write commands   (the same target, per command)
    floor_s             max(0, requests - burst) / (drain * time_scale): the least time the leaky
                        bucket allows for that many requests, starting empty
    wall_s              first request's start to last request's end
    floor_ratio         wall_s / floor_s            (target: at most 1.15; null when floor_s is 0:
                        the work fits in the burst, so the limiter never made it wait)

Limits: standard 2 requests/s, burst 50; Enterprise 5/s, burst 250. ``time_scale`` S makes the
sandbox's bucket drain S times faster and the app is told the same budget, so a run keeps the shape of
a real one in 1/S of its time; at high S the processing (the sandbox's and the app's), not the limit,
sets the pace and the ratio grows (see bench/RESULTS.md). Both buckets are emptied before each run.

The naive client does the same kind of work, one call per item: it lists the items page by page
(50 per request, ``start`` offsets) and writes each command as its own request — fast-bitrix24's
``Bitrix.call(method, item)`` (its own limiter set to the portal's budget) and b24pysdk's
``BitrixWebhook.call_method`` (no limiter: it waits and repeats on QUERY_LIMIT_EXCEEDED), both
through an inbound webhook of the same portal. It runs on a sample (requests per item do not depend
on the size); ``floor_for_n_s`` extrapolates its floor to our workload's size.

``python -m bench --only bulk [--quick]`` or ``python -m bench.bench_bulk [--quick]``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLANS = {"standard": (2.0, 50.0), "enterprise": (5.0, 250.0)}
TARGET_PER_ITEM = 1 / 50
TARGET_FLOOR_RATIO = 1.15
STAGE_DEALS = ("UC_APPROVAL", "UC_CONTRACT", "UC_AWAIT_PAYMENT")
CHECKLIST = {"UC_CONTRACT": 4}  # checklist items of the demo's task in that stage
ITEM_DEFINITIONS = {
    "backlog": "a lead distributed; 1 write command per lead (crm.lead.update with the assignment and its reason)",
    "backlog_comments": "a lead distributed with --comments; 2 write commands per lead (+ crm.timeline.comment.add)",
    "stage_tasks": "a task created; write commands = tasks.task.add + one task.checklistitem.add per checklist item",
    "analytics_pull": "a row read into the analytics tables (no writes)",
}
NAIVE_WORKLOADS = ("backlog", "stage_tasks", "analytics_pull")


@dataclass(frozen=True)
class Sizes:
    leads: int  # backlog per plan
    deals_per_stage: int  # stage tasks per plan: deals in each of the three stages
    pull_deals: int  # extra deals (stage «Новая сделка») for the analytics pull
    naive_leads: int
    naive_deals_per_stage: int
    naive_pages: int
    scale: dict[str, float]


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(2_000, 12, 1_000, 20, 4, 6, {"standard": 4.0, "enterprise": 4.0})
    return Sizes(20_000, 1_000, 10_000, 200, 25, 300, {"standard": 2.0, "enterprise": 1.0})


# --- measuring at the sandbox -------------------------------------------------------------------
def last_request_id(stack: Any, m: str) -> int:
    every = stack.control("GET", f"/portals/{m}/requests")
    return max((int(r["id"]) for r in every), default=0)


def traffic(stack: Any, m: str, since: int, *, client_id: str | None = None, auth_kind: str | None = None,
            plan: str, scale: float) -> dict[str, Any]:
    q = f"/portals/{m}/requests?since={since}"
    if client_id:
        q += f"&client_id={client_id}"
    if auth_kind:
        q += f"&auth_kind={auth_kind}"
    log = stack.control("GET", q)
    accepted = [r for r in log if int(r.get("status") or 0) != 503]
    drain, burst = PLANS[plan]
    wall = 0.0
    if log:
        first = min(float(r["ts"]) for r in log)
        last = max(float(r["ts"]) + float(r.get("duration_ms") or 0) / 1000 for r in log)
        wall = last - first
    floor = max(0.0, len(accepted) - burst) / (drain * scale)
    methods: dict[str, int] = {}
    for r in accepted:
        subs = r.get("sub_calls") or []
        names = [c.get("method") if isinstance(c, dict) else str(c) for c in subs] if r["method"] == "batch" else []
        key = r["method"] if not names else "batch[" + ",".join(sorted(set(str(n) for n in names))) + "]"
        methods[key] = methods.get(key, 0) + 1
    return {"requests": len(accepted), "by_method": dict(sorted(methods.items(), key=lambda kv: -kv[1])[:12]), "rejected_503": len(log) - len(accepted), "wall_s": round(wall, 2),
            "floor_s": round(floor, 2), "floor_ratio": round(wall / floor, 3) if floor > 0 else None}


def set_limits(stack: Any, m: str, plan: str, scale: float) -> None:
    from b24app.store import installations

    drain, burst = PLANS[plan]
    stack.control("PUT", f"/portals/{m}/limits", {"drain_per_s": drain, "burst": burst, "time_scale": scale,
                                                  "enabled": True, "reset": True})
    db = stack.services().db
    installations.set_limits(db, m, drain=drain * scale, burst=burst)
    db.execute("DELETE FROM rate_budget WHERE member_id = ?", (m,))  # the app's shared bucket starts empty too


def per(requests: int, n: int) -> float | None:
    return round(requests / n, 5) if n else None


# --- our commands -------------------------------------------------------------------------------
def ours(stack: Any, m: str, plan: str, scale: float, workload: str, sz: Sizes) -> dict[str, Any]:
    if workload == "backlog_comments":  # the first backlog took every lead: a fresh one, same size
        stack.control("PUT", f"/portals/{m}/limits", {"enabled": False})
        stack.control("POST", f"/portals/{m}/generate", {"leads": sz.leads, "status_id": "NEW",
                                                          "assigned_ids": [1], "rng_seed": 6})
    args = {"backlog": ["leads", "distribute", "--portal", m, "--no-caps", "--no-progress", "--json"],
            "backlog_comments": ["leads", "distribute", "--portal", m, "--no-caps", "--comments",
                                 "--no-progress", "--json"],
            "stage_tasks": ["stages", "apply", "--portal", m, "--entity", "deal", "--json"],
            "analytics_pull": ["report", "refresh", "--portal", m, "--json"]}[workload]
    set_limits(stack, m, plan, scale)
    mark = last_request_id(stack, m)
    started = time.monotonic()
    out = stack.b24app(*args, timeout=7200)
    elapsed = time.monotonic() - started
    if out.returncode != 0:
        raise RuntimeError(f"b24app {' '.join(args[:2])} failed: {out.stderr[-2000:]}")
    result = json.loads(out.stdout[out.stdout.index("{"):])
    fig = traffic(stack, m, mark, client_id=stack.client_id, plan=plan, scale=scale)
    if workload.startswith("backlog"):
        items = int(result["processed"])
        writes = items * (2 if workload == "backlog_comments" else 1)
        extra = {"counts": result.get("counts")}
    elif workload == "stage_tasks":
        items = int(result["created"])
        by_stage = result.get("by_stage") or {}
        writes = sum(int(v.get("created", 0)) * (1 + CHECKLIST.get(k.split(":", 1)[1], 0)) for k, v in by_stage.items())
        extra = {"by_stage": by_stage}
    else:
        rows = result.get("rows") or {}
        items, writes = sum(int(v) for v in rows.values() if isinstance(v, int | float)), 0
        extra = {"rows": rows, "requests_seen_by_app": result.get("requests")}
    return {"items": items, "write_commands": writes, **fig, "requests_per_item": per(fig["requests"], items),
            "requests_per_write": per(fig["requests"], writes), "process_s": round(elapsed, 2), **extra}


# --- the naive clients --------------------------------------------------------------------------
class Naive:
    """One call per item through fast-bitrix24 or b24pysdk (webhook of user 1)."""

    def __init__(self, kind: str, hook_url: str, tls_domain: str, token: str, plan: str, scale: float) -> None:
        self.kind = kind
        drain, burst = PLANS[plan]
        if kind == "fast_bitrix24":
            from fast_bitrix24 import Bitrix

            self.fb = Bitrix(hook_url, verbose=False, requests_per_second=drain * scale,
                             request_pool_size=int(burst), respect_velocity_policy=True)
        else:
            from b24pysdk import BitrixWebhook

            self.sdk = BitrixWebhook(domain=tls_domain, webhook_token=token)

    def call(self, method: str, params: dict[str, Any], *, listing: bool = False) -> Any:
        if self.kind == "fast_bitrix24":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if listing:  # call() unwraps a single answer (a list's first row): take the raw answer
                    return self.fb.call(method, params, raw=True)["result"]
                return self.fb.call(method, params)
        from b24pysdk.errors import BitrixAPIQueryLimitExceeded

        for _ in range(10_000):
            try:
                return self.sdk.call_method(method, params, timeout=120)["result"]
            except BitrixAPIQueryLimitExceeded:
                time.sleep(0.1)
        raise RuntimeError("the portal kept refusing")

    def pages(self, method: str, params: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
        """List page by page with ``start`` offsets (50 rows per request)."""
        out: list[dict[str, Any]] = []
        start = 0
        while limit is None or start < limit * 50:
            got = self.call(method, {**params, "start": start}, listing=True)
            rows = got.get("items", got) if isinstance(got, dict) else got
            rows = list(rows.values()) if isinstance(rows, dict) else list(rows or [])
            out += rows
            if len(rows) < 50:
                break
            start += 50
        return out


def naive_run(stack: Any, m: str, client: Naive, workload: str, plan: str, scale: float,
              first_ids: dict[str, int], sz: Sizes) -> dict[str, Any]:
    set_limits(stack, m, plan, scale)
    mark = last_request_id(stack, m)
    items = writes = 0
    if workload == "backlog":
        leads = client.pages("crm.lead.list", {"filter": {">=ID": first_ids["lead"], "STATUS_ID": "NEW",
                                                           "ASSIGNED_BY_ID": 1}, "select": ["ID", "SOURCE_ID"],
                                               "order": {"ID": "ASC"}})
        for i, lead in enumerate(leads):  # the same write as ours: the assignment and its reason
            user = (4, 5)[i % 2]
            client.call("crm.lead.update", {"id": int(lead["ID"]), "fields": {
                "ASSIGNED_BY_ID": user,
                "UF_CRM_B24APP_REASON": f"Лид распределён: ответственный — сотрудник {user} (по очереди)."}})
            items += 1
            writes += 1
    elif workload == "stage_tasks":
        deals = client.pages("crm.deal.list", {"filter": {">=ID": first_ids["deal"], "@STAGE_ID": list(STAGE_DEALS)},
                                               "select": ["ID", "TITLE", "STAGE_ID", "ASSIGNED_BY_ID"],
                                               "order": {"ID": "ASC"}})
        for deal in deals:
            got = client.call("tasks.task.add", {"fields": {
                "TITLE": f"Задача по сделке «{deal['TITLE']}»", "RESPONSIBLE_ID": int(deal["ASSIGNED_BY_ID"] or 1),
                "UF_CRM_TASK": [f"D_{deal['ID']}"]}})
            task_id = int((got.get("task") or got)["id"])  # fast-bitrix24 unwraps {"task": ...}
            items += 1
            writes += 1
            for k in range(CHECKLIST.get(deal["STAGE_ID"], 0)):
                client.call("task.checklistitem.add", {"TASKID": task_id, "FIELDS": {"TITLE": f"Пункт {k + 1}"}})
                writes += 1
    else:
        rows = client.pages("crm.lead.list", {"select": ["*", "UF_*"], "order": {"ID": "ASC"}}, limit=sz.naive_pages)
        items = len(rows)
    fig = traffic(stack, m, mark, auth_kind="webhook", plan=plan, scale=scale)
    return {"items": items, "write_commands": writes, **fig, "requests_per_item": per(fig["requests"], items),
            "requests_per_write": per(fig["requests"], writes)}


# --- the run ------------------------------------------------------------------------------------
def prepare(stack: Any, sz: Sizes) -> str:
    """A МеталПром portal with the app installed, the demo settings, the generated work."""
    from b24app.settings import document
    from b24app.settings.demo import portal_facts

    m = stack.new_portal("metalprom")["member_id"]
    stack.install(m)
    services = stack.services()
    demo = document.demo_document(portal_facts(services, m))
    doc = {k: v for k, v in demo.items() if k in ("version", "general", "calendar", "distribution", "stages",
                                                  "analytics")}
    doc["distribution"]["availability"]["schedule"] = False  # the hour of the benchmark is arbitrary
    document.save(services.db, m, doc)
    stack.control("PUT", f"/portals/{m}/limits", {"enabled": False})
    stack.control("POST", f"/portals/{m}/generate", {"leads": sz.leads, "status_id": "NEW", "assigned_ids": [1],
                                                      "rng_seed": 5})
    for k, stage in enumerate(STAGE_DEALS):
        stack.control("POST", f"/portals/{m}/generate", {"deals": sz.deals_per_stage, "stage_id": stage,
                                                          "rng_seed": 10 + k})
    stack.control("POST", f"/portals/{m}/generate", {"deals": sz.pull_deals, "stage_id": "NEW", "rng_seed": 20})
    return m


def naive_work(stack: Any, m: str, sz: Sizes) -> dict[str, int]:
    """Fresh items for one naive run (not touched by our commands: they ran before)."""
    stack.control("PUT", f"/portals/{m}/limits", {"enabled": False})
    first = stack.control("POST", f"/portals/{m}/generate", {"leads": sz.naive_leads, "status_id": "NEW",
                                                              "assigned_ids": [1], "rng_seed": 31})["first_ids"]
    for k, stage in enumerate(STAGE_DEALS):
        stack.control("POST", f"/portals/{m}/generate", {"deals": sz.naive_deals_per_stage, "stage_id": stage,
                                                          "rng_seed": 40 + k})
    return first


def headline(res: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue names, judged honestly against its targets."""
    verdicts: dict[str, Any] = {}
    for plan in PLANS:
        for workload in ITEM_DEFINITIONS:
            r = res[plan]["ours"][workload]
            v: dict[str, Any] = {}
            for key in ("requests_per_item", "requests_per_write"):
                x = r.get(key)
                if x is None:
                    continue
                v[key] = x
                v[key + "_within_10pct_of_1_50"] = abs(x - TARGET_PER_ITEM) <= 0.1 * TARGET_PER_ITEM or x < TARGET_PER_ITEM
                v[key + "_times_target"] = round(x / TARGET_PER_ITEM, 2)
            ratio = r.get("floor_ratio")
            v["floor_ratio"] = ratio
            v["floor_ratio_within_1_15"] = None if ratio is None else ratio <= TARGET_FLOOR_RATIO
            verdicts[f"{plan}.{workload}"] = v
    return verdicts


def run(quick: bool = False) -> dict[str, Any]:
    from b24app.devstack import Stack
    from bench.tlsproxy import TlsProxy

    sz = sizes(quick)
    out: dict[str, Any] = {"items": ITEM_DEFINITIONS, "sizes": sz.__dict__, "limits": {
        p: {"drain_per_s": d, "burst": b, "time_scale": sz.scale[p]} for p, (d, b) in PLANS.items()}}
    with Stack() as stack:
        stack.start_sandbox()
        stack.start_app(gunicorn=False)
        stack.start_worker("setup", 2)
        t0 = time.monotonic()
        portals = {plan: prepare(stack, sz) for plan in PLANS}
        print(f"[bulk] prepared in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)
        stack.kill("setup")
        stack.kill("app")  # nobody listens for the update events our writes cause (they are the portal's cost)
        with TlsProxy(stack.sandbox_port) as proxy:
            os.environ["REQUESTS_CA_BUNDLE"] = str(proxy.cert)
            for plan, m in portals.items():
                scale = sz.scale[plan]
                res: dict[str, Any] = {"ours": {}, "naive": {}}
                for workload in ITEM_DEFINITIONS:
                    res["ours"][workload] = ours(stack, m, plan, scale, workload, sz)
                    print(f"[bulk] {plan} {workload}: {res['ours'][workload]['requests']} requests, "
                          f"ratio {res['ours'][workload]['floor_ratio']}", file=sys.stderr, flush=True)
                portal = stack.control("GET", f"/portals/{m}")
                hook = stack.control("POST", f"/portals/{m}/webhooks", {"user_id": 1})
                tls_domain = f"127.0.0.1:{proxy.port}/p/{portal['domain']}"
                for kind in ("fast_bitrix24", "b24pysdk"):
                    first = naive_work(stack, m, sz)
                    client = Naive(kind, hook["url"], tls_domain, f"{hook['user_id']}/{hook['code']}", plan, scale)
                    res["naive"][kind] = {w: naive_run(stack, m, client, w, plan, scale, first, sz)
                                          for w in NAIVE_WORKLOADS}
                    print(f"[bulk] {plan} naive {kind} done", file=sys.stderr, flush=True)
                for workload in NAIVE_WORKLOADS:  # the naive floor for our workload's size
                    n = res["ours"][workload]["items"]
                    drain, burst = PLANS[plan]
                    for kind in ("fast_bitrix24", "b24pysdk"):
                        nv = res["naive"][kind][workload]
                        if nv.get("requests_per_item"):
                            nv["floor_for_n_s"] = round(max(0.0, nv["requests_per_item"] * n - burst)
                                                        / (drain * scale), 1)
                out[plan] = res
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
    std = out["standard"]
    out["requests_per_item"] = std["ours"]["backlog"]["requests_per_item"]
    out["requests_per_write_command"] = std["ours"]["backlog"]["requests_per_write"]
    out["floor_ratio"] = std["ours"]["backlog"]["floor_ratio"]
    out["naive_requests_per_item"] = std["naive"]["fast_bitrix24"]["backlog"]["requests_per_item"]
    out["naive_b24pysdk_requests_per_item"] = std["naive"]["b24pysdk"]["backlog"]["requests_per_item"]
    out["requests_per_item_with_comments"] = std["ours"]["backlog_comments"]["requests_per_item"]
    out["requests_per_write_command_with_comments"] = std["ours"]["backlog_comments"]["requests_per_write"]
    out["targets"] = headline(out)
    return out


def summary(res: dict[str, Any]) -> list[tuple[str, Any]]:
    """Rows of the printed table: per plan and workload, ours beside the two naive clients."""
    rows: list[tuple[str, Any]] = []
    for plan in PLANS:
        if plan not in res:
            continue
        lim = res["limits"][plan]
        rows.append((f"{plan} limits", f"{lim['drain_per_s']:g}/s, burst {lim['burst']:g}, time scale "
                                         f"{lim['time_scale']:g}"))
        for w in ITEM_DEFINITIONS:
            o = res[plan]["ours"][w]
            fb, sdk = res[plan]["naive"]["fast_bitrix24"].get(w, {}), res[plan]["naive"]["b24pysdk"].get(w, {})
            per_write = f", per write {o['requests_per_write']}" if o.get("requests_per_write") else ""
            rows.append((f"{plan} {w}", f"{o['items']} items, {o['requests']} requests: per item "
                                         f"{o['requests_per_item']}{per_write}; wall/floor {o['floor_ratio']} "
                                         f"({o['wall_s']} s / {o['floor_s']} s)"))
            if w not in NAIVE_WORKLOADS:
                continue
            rows.append((f"{plan} {w} naive", f"fast-bitrix24 {fb['requests_per_item']}/item, b24pysdk "
                                               f"{sdk['requests_per_item']}/item; their floor for "
                                               f"{o['items']} items {fb.get('floor_for_n_s')} s"))
    for key in ("requests_per_item", "requests_per_write_command", "requests_per_item_with_comments",
                "requests_per_write_command_with_comments", "floor_ratio", "naive_requests_per_item"):
        rows.append((key, res.get(key)))
    return rows


def main() -> int:
    res = run(quick="--quick" in sys.argv)
    print(json.dumps(res, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
