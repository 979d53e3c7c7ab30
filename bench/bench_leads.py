"""Lead backlog against the sandbox at standard limits: REST requests per lead, and the wall time of
``b24app leads distribute`` against the limiter's floor.

The stack: the sandbox in its own process (standard plan: leaky bucket drain 2/s, burst 50), the
app installed into a МеталПром portal (the registration needs its web server and a worker; both are
stopped before the run: the backlog runs in the operator's process), the demo distribution rules,
and N new leads owned by the administrator. The sandbox is time-scaled (``PUT .../limits
{"time_scale": S}``: the bucket drains S times faster) and the app is told the same budget, so the
run keeps the shape of a real one in 1/S of its time.

    floor = max(0, requests - burst) / (drain * time_scale)      # the fastest the limiter allows
    ratio = wall time / floor                                    # 1.0 = the limit is the only cost

The default scale (4, also with ``--quick``) keeps the limiter's interval (125 ms per request of 50
leads: 400 leads/s) above the app's and the sandbox's own processing (about 680 leads/s on a 2-core
machine); at scale 8 (800 leads/s) the processing, not the limit, sets the pace and the ratio grows
(1.22 in the run of bench/RESULTS.md).

Each lead is one write (``crm.lead.update`` with the assignment and its reason field), 50 per batch.
A naive client that writes one lead per request (the same update, unbatched, after listing the leads
50 per request) would need ``1 + 50`` requests per 50 leads; its floor is printed for comparison
(computed, not run; bench_bulk runs real naive clients).

``python -m bench.bench_leads [--quick] [--leads N] [--time-scale S]`` prints a table and one JSON line;
``--quick`` (5,000 leads) finishes within a minute. ``python -m bench --only leads`` runs it too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

DRAIN, BURST = 2.0, 50.0  # standard plan


def run(quick: bool = False, leads: int | None = None, time_scale: float | None = None) -> dict[str, Any]:
    from b24app.config import Config
    from b24app.context import Services
    from b24app.leads import backlog
    from b24app.leads.service import Portal
    from b24app.portal.client import close_all, forget_client
    from b24app.settings import document
    from b24app.settings.demo import portal_facts
    from b24app.store import installations
    from bench.stack import Stack

    n = leads or (5_000 if quick else 60_000)
    scale = time_scale or 4.0
    with Stack() as stack:
        stack.start_sandbox()
        stack.start_app(gunicorn=False)
        stack.start_worker()
        m = stack.new_portal("metalprom")["member_id"]
        stack.install(m)
        stack.kill("worker")
        stack.kill("app")  # nobody listens for the update events the run causes (they are the portal's cost)
        services = Services.open(Config.from_env(stack.env()))
        demo = document.demo_document(portal_facts(services, m))
        doc = {k: v for k, v in demo.items() if k in ("version", "general", "calendar", "distribution")}
        doc["distribution"]["availability"]["schedule"] = False  # the hour of the benchmark is arbitrary
        document.save(services.db, m, doc)
        first = stack.control("POST", f"/portals/{m}/generate", {
            "leads": n, "status_id": "NEW", "assigned_ids": [1], "rng_seed": 5})["first_ids"]["lead"]
        stack.control("PUT", f"/portals/{m}/limits", {"drain_per_s": DRAIN, "burst": BURST, "time_scale": scale,
                                                      "enabled": True, "reset": True})
        installations.set_limits(services.db, m, drain=DRAIN * scale, burst=BURST)
        forget_client(m)
        since = max((int(r["id"]) for r in stack.control("GET", f"/portals/{m}/requests")), default=0)
        portal = Portal(services.db, m, services.client(m), document.load(services.db, m))
        started = time.monotonic()
        result = backlog.run(portal, user_filter={">=ID": first}, caps=False)
        wall = time.monotonic() - started
        log = [r for r in stack.control("GET", f"/portals/{m}/requests?since={since}")
               if r.get("client_id") == stack.client_id]
        close_all()
        services.db.close()
    requests_n = len(log)
    floor = max(0.0, requests_n - BURST) / (DRAIN * scale)
    naive_requests = n // 50 + n
    naive_floor = max(0.0, naive_requests - BURST) / (DRAIN * scale)
    return {
        "leads": n,
        "processed": result.processed,
        "requests": requests_n,
        "requests_per_lead": round(requests_n / n, 4),
        "rejected_503": sum(1 for r in log if int(r.get("status") or 0) == 503),
        "time_scale": scale,
        "floor_s": round(floor, 2),
        "wall_s": round(wall, 2),
        "wall_to_floor": round(wall / floor, 2) if floor else None,
        "naive_requests_per_lead": round(naive_requests / n, 3),
        "naive_floor_s": round(naive_floor, 1),
        "real_floor_min": round(max(0.0, requests_n - BURST) / DRAIN / 60, 1),
        "counts": result.counts,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_leads", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="5,000 leads (under a minute)")
    ap.add_argument("--leads", type=int, default=None, help="backlog size (default 60,000; quick 5,000)")
    ap.add_argument("--time-scale", type=float, default=None, help="sandbox time scale (default 4)")
    args = ap.parse_args(argv)
    res = run(quick=args.quick, leads=args.leads, time_scale=args.time_scale)
    rows = [
        ("leads", f"{res['leads']:,}".replace(",", " ")),
        ("REST requests", f"{res['requests']}  ({res['requests_per_lead']} per lead; a naive one-call-per-write "
                          f"client: {res['naive_requests_per_lead']})"),
        ("rejected (503)", str(res["rejected_503"])),
        ("limiter floor", f"{res['floor_s']} s  (drain {DRAIN:g}/s, burst {BURST:g}, time scale {res['time_scale']:g}; "
                          f"unscaled {res['real_floor_min']} min; naive client {res['naive_floor_s']} s)"),
        ("wall time", f"{res['wall_s']} s"),
        ("wall / floor", str(res["wall_to_floor"])),
    ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(json.dumps({"bench": "leads", **res}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
