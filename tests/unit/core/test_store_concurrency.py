"""Races on both engines: claims, leases, counters, inbound duplicates, rate budget."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from b24app.store import counters, inbound, jobs, leases


def race(n: int, fn: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return out


def test_concurrent_claims_take_each_job_once(any_services) -> None:
    db = any_services.db
    ids = [jobs.enqueue(db, "x", member_id="m")[0] for _ in range(40)]

    def worker(i: int) -> list[int]:
        got = []
        while True:
            job = jobs.claim(db, f"w{i}", 60)
            if job is None:
                return got
            got.append(job.id)
            jobs.complete(db, job.id, f"w{i}")

    taken = [j for chunk in race(6, worker) for j in chunk]
    assert sorted(taken) == sorted(ids)


def test_lock_keys_hold_under_concurrent_claims(any_services) -> None:
    db = any_services.db
    for _ in range(10):
        jobs.enqueue(db, "sync", member_id="m", lock_key="base:1")
    got = race(6, lambda i: jobs.claim(db, f"w{i}", 60))
    assert len([j for j in got if j is not None]) == 1


def test_only_one_lease_holder(any_services) -> None:
    db = any_services.db
    won = race(8, lambda i: leases.try_acquire(db, "scheduler", f"h{i}", 30))
    assert won.count(True) == 1


def test_counter_values_are_unique_and_gapless(any_services) -> None:
    db = any_services.db
    values = race(8, lambda i: [counters.next_value(db, "m", "contract", "2026") for _ in range(25)])
    flat = sorted(v for chunk in values for v in chunk)
    assert flat == list(range(1, 201))


def test_racing_duplicate_deliveries_make_one_job(any_services) -> None:
    db = any_services.db
    got = race(6, lambda i: inbound.record_with_job(
        db, member_id="m", kind="event", name="ONCRMLEADADD", dedupe_key="event:m:ONCRMLEADADD:5:1:",
        payload={}, job_kind="event.dispatch", job_payload={}))
    assert len({job_id for job_id, _ in got}) == 1
    assert [created for _, created in got].count(True) == 1
    assert jobs.counts(db)["queued"] == 1
