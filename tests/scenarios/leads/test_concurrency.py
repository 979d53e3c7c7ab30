"""Idempotent and race-free, with real worker processes: the ONCRMLEADADD event delivered three
times and the robot "Распределить лид" for the same lead assign it once (one decision, one comment,
one notification; the robot answers with that decision); three processes distributing 40 leads at
once keep strict round-robin order and never exceed a daily cap — the rest waits in the queue."""

from __future__ import annotations

import threading
import time
from collections import Counter

from b24app.robots.registry import robots
from b24sandbox.seed.metalprom import PETROV_ID, ZUEVA_ID
from tests.scenarios.harness import wait_for

ROBOT = "b24app_distribute_lead"


def run_workers(mp, n: int) -> None:
    """``n`` worker processes plus a drain in this process, all at once, until no job is left."""
    procs = [mp.app.spawn_worker("--until-idle", "--concurrency", "2") for _ in range(n)]
    drainer = threading.Thread(target=mp.app.drain, kwargs={"timeout": 120})
    drainer.start()
    for p in procs:
        p.wait(timeout=120)
        assert p.returncode == 0, p.stderr.read().decode()[-2000:] if p.stderr else ""
    drainer.join(120)
    mp.app.drain()


def test_event_three_times_and_robot_assign_once(mp_now) -> None:
    mp = mp_now
    assert ROBOT in robots()
    mp.sandbox.control("POST", f"/portals/{mp.member_id}/automation", {
        "entity": "lead", "category_id": 0, "stage_id": "NEW", "robot_code": ROBOT, "properties": {}})
    lead_id = mp.add_lead("UC_YANDEX", TITLE="Яндекс: профильная труба")
    for _ in range(2):
        time.sleep(1.05)  # another second: the core's inbound dedupe (by ts) does not merge them
        mp.sandbox.control("POST", f"/portals/{mp.member_id}/fire-event",
                           {"event": "ONCRMLEADADD", "data": {"FIELDS": {"ID": str(lead_id)}}})
    mp.sandbox.wait_deliveries()
    run_workers(mp, 2)
    decisions = [d for d in mp.decisions() if d.entity_id == lead_id]
    assert len(decisions) == 1 and decisions[0].status == "applied"
    d = decisions[0]
    assert d.user_id in (PETROV_ID, ZUEVA_ID) and int(mp.lead(lead_id)["ASSIGNED_BY_ID"]) == d.user_id
    assert len(mp.comments(lead_id)) == 1
    assert len([n for n in mp.notifications(d.user_id) if n["tag"] == f"b24app_lead_lead_{lead_id}"]) == 1
    run = wait_for(lambda: [r for r in mp.sandbox.control("GET", f"/portals/{mp.member_id}/robot-runs")
                            if r["state"] == "done"], what="robot answered")[0]
    values = {k.lower(): v for k, v in run["return_values"].items()}
    assert values["assigned_user"] == f"user_{d.user_id}" and values["rule"] == d.rule
    assert "Реклама" in values["rule"] and values["reason"]
    inbound = mp.app.db.scalar("SELECT COUNT(*) FROM inbound WHERE name = 'ONCRMLEADADD' AND entity_id = ?",
                               (str(lead_id),))
    assert inbound == 3  # three deliveries reached the app; one decision came out


def test_three_processes_keep_round_robin_and_caps(mp_now) -> None:
    mp = mp_now
    mp.configure(caps__daily=10, fallback=[{"queue": True}])
    first = mp.sandbox.control("POST", f"/portals/{mp.member_id}/generate", {
        "leads": 40, "status_id": "NEW", "assigned_ids": [1], "source_ids": ["CALL"], "rng_seed": 3,
        "fire_events": True})["first_ids"]["lead"]
    mp.sandbox.wait_deliveries()
    run_workers(mp, 3)
    ids = set(range(first, first + 40))
    decisions = [d for d in mp.decisions() if d.entity_id in ids]
    assert len(decisions) == 40 and len({d.entity_id for d in decisions}) == 40
    assigned = [d for d in decisions if d.kind == "assign"]
    per_user = Counter(d.user_id for d in assigned)
    assert per_user == {PETROV_ID: 10, ZUEVA_ID: 10}, per_user  # the caps, exactly
    order = [d.user_id for d in sorted(assigned, key=lambda d: d.id)]
    assert all(a != b for a, b in zip(order, order[1:], strict=False)), order  # strict turns
    held = [d for d in decisions if d.kind == "queued"]
    assert len(held) == 20 and all(d.status == "queued" for d in held)
    caps = {s["reason"] for d in held for s in d.explanation["skipped"]}
    assert "daily_cap" in caps
    workers = {r["worker_id"] for r in mp.app.db.query(
        "SELECT worker_id FROM jobs WHERE kind = 'event.handle' AND status = 'done'")}
    assert len(workers) >= 2, workers  # the deciding really ran side by side
