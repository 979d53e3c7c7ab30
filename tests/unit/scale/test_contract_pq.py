"""The store's job contract (tests/unit/core/test_jobs_store.py, run there on SQLite and on
PostgreSQL without procrastinate) holds unchanged with procrastinate installed: deferring
deliveries beside the rows changes nothing the polling claim, leases, locks, retries and dead
letters promise."""

from __future__ import annotations

import pytest

from tests.unit.core import test_jobs_store as contract

CASES = [contract.test_enqueue_dedupes_by_key, contract.test_claim_order_lease_and_reclaim_after_expiry,
         contract.test_jobs_with_the_same_lock_never_run_together, contract.test_reschedule_bury_retry_purge]


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_store_job_contract_with_procrastinate(case, pq_services) -> None:
    case(pq_services)
    pending = pq_services.db.scalar("SELECT COUNT(*) AS n FROM procrastinate_jobs")
    assert pending > 0  # the deliveries were deferred beside the rows


def test_claim_by_id_takes_once_and_respects_leases_and_lock_keys(pq_services) -> None:
    from b24app.store import jobs

    db = pq_services.db
    a, _ = jobs.enqueue(db, "x", member_id="m", lock_key="base:1")
    b, _ = jobs.enqueue(db, "x", member_id="m", lock_key="base:1")
    got = jobs.claim_by_id(db, a, "w1", 60)
    assert got.state == "taken" and got.job.id == a and got.job.attempts == 1
    again = jobs.claim_by_id(db, a, "w2", 60)
    assert again.state == "busy" and again.job is None and again.at == pytest.approx(got.job.lease_until)
    blocked = jobs.claim_by_id(db, b, "w2", 60)  # a holds base:1
    assert blocked.state == "busy" and blocked.at == pytest.approx(got.job.lease_until)
    assert jobs.complete(db, a, "w1")
    assert jobs.claim_by_id(db, a, "w2", 60).state == "finished"
    assert jobs.claim_by_id(db, b, "w2", 60).state == "taken"
    assert jobs.claim_by_id(db, 10**9, "w2", 60).state == "missing"
    later, _ = jobs.enqueue(db, "x", member_id="m", run_at=4_000_000_000)
    early = jobs.claim_by_id(db, later, "w2", 60)
    assert early.state == "early" and early.at == 4_000_000_000
