"""End to end: the time from a lead created in the sandbox portal to its assignment and the
assignee's notification, p50/p95, with one worker process and with several, side by side.

The stack (b24app.devstack): the sandbox in its own process (МеталПром portal on the Enterprise plan:
5 requests/s, burst 250, real time), the app under gunicorn, ``b24app worker`` processes. Leads are
created through an inbound webhook at a fixed rate (open model: the next lead is created on schedule
whether or not the earlier ones were handled), from the demo's non-QC sources, each with a new phone.
The portal delivers ONCRMLEADADD to ``/events``; the app stores the job and answers; a worker takes
the dispatch job and the distribution job (read the lead, duplicate search, decide, one batch with
the update, the timeline comment and the im notification).

Latency of a lead = the moment its decision was written to the portal (``applied_at`` of the
decision, after the batch carrying the assignment and the notification answered) minus the moment
``crm.lead.add`` answered. Both clocks are this machine's. Each round also checks that every lead got
exactly one decision and that its assignee got a notification tagged with the lead
(``GET /_sandbox/portals/<m>/notifications``).

``python -m bench --only e2e [--quick]`` or ``python -m bench.bench_e2e [--quick]``.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

SOURCES = ["UC_YANDEX", "UC_GOOGLE", "UC_SOCIAL", "UC_SEO", "CALL", "UC_CHATBOT"]


def pct(values: list[float], p: float) -> float:
    """The p-quantile (nearest rank) of ``values`` in milliseconds, rounded."""
    if not values:
        return 0.0
    s = sorted(values)
    return round(1000 * s[min(len(s) - 1, max(0, int(round(p * len(s))) - 1))], 1)


def _create_leads(hook: str, n: int, rate: float, tag: str, rng: random.Random) -> dict[int, float]:
    """Create ``n`` leads at ``rate`` per second (each in its own thread, on schedule); returns
    {lead id: unix time when crm.lead.add answered}."""
    created: dict[int, float] = {}
    errors: list[str] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.2

    def one(i: int) -> None:
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        phone = f"+7 9{rng.randint(10, 99)} {rng.randint(100, 999)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
        body = {"fields": {"TITLE": f"{tag} заявка {i}", "SOURCE_ID": SOURCES[i % len(SOURCES)], "NAME": "Клиент",
                           "PHONE": [{"VALUE": phone, "VALUE_TYPE": "WORK"}]}}
        for _ in range(20):
            r = requests.post(hook + "crm.lead.add.json", json=body, timeout=30)
            if r.status_code == 503:  # the portal's bucket is shared with the app: wait like a user would
                time.sleep(0.5)
                continue
            at = time.time()
            if r.status_code != 200:
                with lock:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                return
            with lock:
                created[int(r.json()["result"])] = at
            return

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"lead creation failed: {errors[:3]}")
    return created


def round_(stack: Any, m: str, hook: str, workers: int, n: int, rate: float, seed: int) -> dict[str, Any]:
    from b24app.leads import store
    from b24app.leads.engine import INTAKE

    names = [f"w{workers}-{i}" for i in range(workers)]
    for name in names:
        stack.start_worker(name, 1)
    time.sleep(3.0)  # workers up and polling
    db = stack.services().db
    created = _create_leads(hook, n, rate, f"r{workers}", random.Random(seed))
    ids = sorted(created)
    deadline = time.monotonic() + 120 + n / rate
    decided: dict[int, Any] = {}
    while time.monotonic() < deadline:
        decided = store.get_decisions(db, m, "lead", ids, INTAKE)
        if len(decided) == len(ids) and all(d.applied_at for d in decided.values()):
            break
        time.sleep(0.5)
    for name in names:
        stack.kill(name)
    lat = [decided[i].applied_at - created[i] for i in ids if i in decided and decided[i].applied_at]
    notes = stack.control("GET", f"/portals/{m}/notifications")
    tags = {str(x.get("tag") or "") for x in notes}
    notified = sum(1 for i in ids if i in decided and decided[i].assigns and f"b24app_lead_lead_{i}" in tags)
    assigning = sum(1 for i in ids if i in decided and decided[i].assigns)
    return {"workers": workers, "leads": n, "rate_per_s": rate, "decided": len(decided),
            "applied": len(lat), "assigning": assigning, "notified": notified,
            "p50_ms": pct(lat, 0.50), "p95_ms": pct(lat, 0.95), "max_ms": round(1000 * max(lat), 1) if lat else None}


def run(quick: bool = False) -> dict[str, Any]:
    from b24app.devstack import Stack
    from b24app.settings import document
    from b24app.settings.demo import portal_facts
    from b24app.store import installations

    n, rate = (15, 1.5) if quick else (120, 1.0)
    several = 3
    with Stack() as stack:
        stack.start_sandbox()
        stack.start_app(gunicorn=True, web_workers=2, threads=4)
        stack.start_worker("setup", 2)
        m = stack.new_portal("metalprom", plan="enterprise")["member_id"]
        stack.install(m)
        stack.kill("setup")
        services = stack.services()
        installations.set_limits(services.db, m, plan="enterprise")
        demo = document.demo_document(portal_facts(services, m))
        doc = {k: v for k, v in demo.items() if k in ("version", "general", "calendar", "distribution")}
        doc["distribution"]["availability"]["schedule"] = False  # the hour of the benchmark is arbitrary
        doc["distribution"]["caps"] = {}
        doc["distribution"]["deadline"] = {"enabled": False}
        document.save(services.db, m, doc)
        hook = stack.control("POST", f"/portals/{m}/webhooks", {"user_id": 1})["url"]
        one = round_(stack, m, hook, 1, n, rate, 1)
        many = round_(stack, m, hook, several, n, rate, 2)
        rejected = sum(1 for r in stack.control("GET", f"/portals/{m}/requests?client_id={stack.client_id}")
                       if int(r.get("status") or 0) == 503)
    return {
        "limits": "enterprise (5/s, burst 250), real time",
        "one_worker": one, "several_workers": many,
        "p50_ms_1": one["p50_ms"], "p95_ms_1": one["p95_ms"],
        f"p50_ms_{several}": many["p50_ms"], f"p95_ms_{several}": many["p95_ms"],
        "p95_ratio_several_to_one": round(many["p95_ms"] / max(one["p95_ms"], 1e-9), 2),
        "all_assigned_once_and_notified": all(r["decided"] == r["leads"] == r["applied"] and
                                              r["notified"] == r["assigning"] for r in (one, many)),
        "portal_503_to_app": rejected,
    }


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
