"""Scale-out on PostgreSQL: total job throughput with 1, 2 and 4 worker processes over 50 portals
(procrastinate delivery, per-portal rate budgets shared through the store), printed as a scaling
ratio against one worker.

Each round queues the same work with the workers stopped (every portal gets new deals, each deal
triggers the timeline-comment robot: an inbound robot call, its job with two REST calls, the
answer job, and the CRM events' dispatch jobs), then starts N ``b24app worker --until-idle``
processes. The throughput is taken between the first and the last job finished in the round, so
the workers' start-up is not counted (a late-starting worker only lowers the figure). Every
portal answers REST calls with a fixed latency (the sandbox's latency fault: real portals answer
in 100-300 ms), so jobs wait on the network as they do in production. Portal limits: the
sandbox's own leaky bucket counts every request, and the round reports how many answered 503
QUERY_LIMIT_EXCEEDED (0 = the shared per-portal budgets held).

``python -m bench --only scale [--quick]`` or ``python bench/bench_scale.py [--quick]``.
On a 2-core machine the ratio is capped by the CPUs the sandbox, the web processes, PostgreSQL
and the workers share; it says how well the queue spreads work, not what more cores would give.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any

import psycopg
import requests

from bench.stack import Stack

PG_ADMIN_URL = "postgresql://root@127.0.0.1:5432/test"
PORTALS = 50
ROBOT = "b24app_timeline_comment"


def workers(stack: Stack, n: int, timeout: float = 600, *, periodic: bool = True) -> float:
    """Run ``n`` workers until the queue is empty; returns the wall time. Measured rounds run
    without periodic tasks, so every round does the same work."""
    started = time.monotonic()
    extra = [] if periodic else ["--no-periodic"]
    procs = [stack.spawn(f"w{n}-{i}-{uuid.uuid4().hex[:4]}", [sys.executable, "-m", "b24app", "worker",
                                                                "--until-idle", *extra]) for i in range(n)]
    for p in procs:
        p.wait(timeout)
        if p.returncode != 0:
            raise RuntimeError(f"worker exited with {p.returncode}; see {stack.root}")
    return time.monotonic() - started


def add_deals(stack: Stack, hooks: dict[str, str], count: int, tag: str) -> int:
    made = 0
    for hook in hooks.values():
        for i in range(count):
            r = requests.post(hook + "crm.deal.add.json", json={"fields": {
                "TITLE": f"{tag} сделка {i}", "STAGE_ID": "PREPARATION", "OPPORTUNITY": 1000 + i,
                "CURRENCY_ID": "RUB"}}, timeout=60)
            r.raise_for_status()
            made += 1
    stack.control("POST", "/wait-deliveries", {"timeout_s": 300})
    return made


def limited(stack: Stack, members: list[str], since: dict[str, int]) -> int:
    """503 answers (the portal's own limiter refused) since the last round; moves ``since`` on."""
    n = 0
    for m in members:
        rows = stack.control("GET", f"/portals/{m}/requests?since={since.get(m, 0)}")
        if rows:
            since[m] = max(r["id"] for r in rows)
        n += sum(1 for r in rows if r.get("status") == 503)
    return n


def run(quick: bool = False) -> dict[str, Any]:
    deals = 1 if quick else 6
    latency_ms = 30 if quick else 100
    schema = "bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    db = psycopg.connect(url, autocommit=True)
    try:
        with Stack() as stack:
            stack.extra_env = {"B24APP_DATABASE_URL": url, "B24APP_WORKER_HEARTBEAT": "2",
                               "B24APP_RECOVER_EVERY": "5"}
            stack.start_sandbox()
            stack.start_app(gunicorn=True, web_workers=2, threads=4)
            members = [stack.new_portal("empty")["member_id"] for _ in range(PORTALS)]
            hooks = {}
            for m in members:
                stack.install(m, wait_registered=False)
                hooks[m] = stack.control("POST", f"/portals/{m}/webhooks", {"user_id": 1})["url"]
            workers(stack, 4)  # registration of the 50 installs (robots, events)
            for m in members:
                stack.control("PUT", f"/portals/{m}/faults", {"latency_ms": latency_ms})
                stack.control("POST", f"/portals/{m}/automation", {
                    "entity": "deal", "category_id": 0, "stage_id": "PREPARATION", "robot_code": ROBOT,
                    "properties": {"text": "{TITLE}: {OPPORTUNITY}"}})
            registered = db.execute("SELECT COUNT(*) FROM installations WHERE registered_at IS NOT NULL").fetchone()[0]
            since: dict[str, int] = {}
            limited(stack, members, since)
            rounds: dict[str, Any] = {}
            for n in (1, 2, 4):
                made = add_deals(stack, hooks, deals, f"r{n}")
                t0 = time.time()
                wall = workers(stack, n, periodic=False)
                jobs, first, last = db.execute(  # this workload's jobs (periodic ones may run beside)
                    "SELECT COUNT(*), MIN(finished_at), MAX(finished_at) FROM jobs WHERE finished_at >= %s "
                    "AND (kind LIKE 'robot%%' OR kind LIKE 'event.%%')", (t0,)).fetchone()
                busy = max(0.05, float(last) - float(first))
                rounds[f"workers_{n}"] = {"deals": made, "jobs": jobs, "seconds": round(busy, 2),
                                          "wall_s_with_startup": round(wall, 2),
                                          "jobs_per_s": round((jobs - 1) / busy, 1),
                                          "portal_503": limited(stack, members, since)}
            dead = db.execute("SELECT COUNT(*) FROM jobs WHERE status = 'dead'").fetchone()[0]
            comments_ok = _one_comment_per_deal(hooks)
    finally:
        db.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    base = rounds["workers_1"]["jobs_per_s"]
    return {
        "portals": PORTALS, "registered": registered, "deals_per_portal_per_round": deals,
        "rest_latency_ms": latency_ms,
        "rounds": rounds,
        "scaling_2_vs_1": round(rounds["workers_2"]["jobs_per_s"] / base, 2),
        "scaling_4_vs_1": round(rounds["workers_4"]["jobs_per_s"] / base, 2),
        "dead_jobs": dead, "one_comment_per_deal": comments_ok,
    }


def _one_comment_per_deal(hooks: dict[str, str]) -> bool:
    for hook in list(hooks.values())[:10]:  # a sample: ten portals, every deal
        deal_ids = [int(d["ID"]) for d in requests.post(hook + "crm.deal.list.json", json={}, timeout=60).json()["result"]]
        for deal in deal_ids:
            got = requests.post(hook + "crm.timeline.comment.list.json", json={
                "filter": {"ENTITY_ID": deal, "ENTITY_TYPE": "deal"}}, timeout=60).json()["result"]
            if len(got) != 1:
                return False
    return True


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
