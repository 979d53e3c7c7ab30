from __future__ import annotations

import time_machine

from b24app.store import jobs


def test_enqueue_dedupes_by_key(any_services) -> None:
    db = any_services.db
    a, created_a = jobs.enqueue(db, "x", {"n": 1}, member_id="m", dedupe_key="k1")
    b, created_b = jobs.enqueue(db, "x", {"n": 2}, member_id="m", dedupe_key="k1")
    assert created_a and not created_b and a == b
    assert jobs.get(db, a).payload == {"n": 1}


def test_claim_order_lease_and_reclaim_after_expiry(any_services) -> None:
    db = any_services.db
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        low, _ = jobs.enqueue(db, "x", member_id="m")
        high, _ = jobs.enqueue(db, "x", member_id="m", priority=5)
        first = jobs.claim(db, "w1", lease_s=60)
        assert first.id == high and first.attempts == 1 and first.status == "running"
        second = jobs.claim(db, "w2", lease_s=60)
        assert second.id == low
        assert jobs.claim(db, "w3", lease_s=60) is None
        clock.shift(61)  # w1 died: its lease expired
        again = jobs.claim(db, "w3", lease_s=60)
        assert again.id == high and again.attempts == 2 and again.worker_id == "w3"
        assert not jobs.complete(db, high, "w1", "late")  # the dead worker cannot finish it
        assert jobs.complete(db, high, "w3", {"ok": 1})
        assert jobs.get(db, high).status == "done" and jobs.get(db, high).result == {"ok": 1}


def test_jobs_with_the_same_lock_never_run_together(any_services) -> None:
    db = any_services.db
    a, _ = jobs.enqueue(db, "sync", member_id="m", lock_key="base:1")
    b, _ = jobs.enqueue(db, "sync", member_id="m", lock_key="base:1")
    c, _ = jobs.enqueue(db, "sync", member_id="m", lock_key="base:2")
    got = jobs.claim(db, "w1", 60)
    assert got.id == a
    assert jobs.claim(db, "w2", 60).id == c  # b waits for a's lock
    assert jobs.claim(db, "w3", 60) is None
    jobs.complete(db, a, "w1")
    assert jobs.claim(db, "w3", 60).id == b


def test_reschedule_bury_retry_purge(any_services) -> None:
    db = any_services.db
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        jid, _ = jobs.enqueue(db, "x", member_id="m")
        j = jobs.claim(db, "w", 60)
        jobs.reschedule(db, j.id, "w", error="boom", action="RETRY", delay_s=30)
        assert jobs.claim(db, "w", 60) is None  # not due yet
        clock.shift(31)
        j = jobs.claim(db, "w", 60)
        assert j.attempts == 2 and j.last_error == "boom"
        jobs.reschedule(db, j.id, "w", error="slow", action="RATE_LIMITED", delay_s=0, count_attempt=False)
        j = jobs.claim(db, "w", 60)
        assert j.attempts == 2  # rate limiting does not burn attempts
        jobs.bury(db, j.id, "w", error="dead for good", action="FAIL_DATA")
        assert jobs.counts(db)["dead"] == 1
        assert jobs.retry(db, jid)
        assert jobs.get(db, jid).status == "queued" and jobs.get(db, jid).attempts == 0
        j = jobs.claim(db, "w", 60)
        jobs.complete(db, j.id, "w")
        clock.shift(3600)
        assert jobs.purge(db, status="done", older_than_s=1800) == 1
        assert jobs.get(db, jid) is None


def test_outstanding_tells_planned_jobs_from_work_still_to_come(any_services) -> None:
    db = any_services.db
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        jobs.enqueue(db, "x", member_id="m")  # due now
        jobs.enqueue(db, "digest", member_id="m", run_at=1_800_000_000 + 3600)  # tomorrow's plan
        failing, _ = jobs.enqueue(db, "y", member_id="m", priority=9)
        got = jobs.claim(db, "w1", lease_s=60)
        assert got.id == failing
        assert jobs.outstanding(db, "m") == {"running": 1, "due": 1, "retrying": 0, "scheduled": 1}
        assert jobs.reschedule(db, failing, "w1", error="boom", action="RETRY", delay_s=30)
        assert jobs.outstanding(db, "m") == {"running": 0, "due": 1, "retrying": 1, "scheduled": 1}
        assert jobs.outstanding(db, "other") == {"running": 0, "due": 0, "retrying": 0, "scheduled": 0}
        clock.shift(31)  # the retry's time has come: it is due work again
        assert jobs.outstanding(db, "m") == {"running": 0, "due": 2, "retrying": 0, "scheduled": 1}
