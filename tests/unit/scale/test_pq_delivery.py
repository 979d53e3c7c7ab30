"""Jobs on procrastinate (PostgreSQL mode): the delivery is deferred in the row's transaction,
each row runs once, lock keys serialize, retries are new deliveries, and a job waiting for its
retry does not block its lock key."""

from __future__ import annotations

import itertools

import pytest

from b24app import clock
from b24app.jobs import pq
from b24app.jobs.pq.cron import cron_for, period_of
from b24app.store import inbound
from b24app.store import jobs as jobs_repo
from tests.unit.scale import kinds
from tests.unit.scale.conftest import wait_until


def deliveries(db, job_id: int) -> list[dict]:
    return db.query("SELECT id, task_name, status, lock, priority, scheduled_at, queue_name FROM procrastinate_jobs "
                    "WHERE args->>'job_id' = ? ORDER BY id", (str(job_id),))


def all_done(db, ids) -> bool:
    return all(jobs_repo.get(db, i).status == jobs_repo.DONE for i in ids)


@pytest.mark.parametrize(("every", "cron", "period"), [
    (1, "* * * * * *", 1), (2, "* * * * * */2", 2), (45, "* * * * * */30", 30), (60, "* * * * *", 60),
    (300, "*/5 * * * *", 300), (7 * 60, "*/6 * * * *", 360), (3600, "0 * * * *", 3600),
    (6 * 3600, "0 */6 * * *", 21600), (86400, "0 0 * * *", 86400), (0.2, "* * * * * *", 1),
])
def test_every_s_becomes_a_cron_line_never_rarer_than_asked(every, cron, period) -> None:
    assert cron_for(every) == cron
    assert period_of(every) == period <= max(1, every)


def test_the_delivery_commits_or_vanishes_with_its_row(pq_services) -> None:
    db = pq_services.db
    assert pq.enabled(db)
    with pytest.raises(RuntimeError), db.transaction():
        jid, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m", lock_key="portal:m", priority=7)
        assert len(deliveries(db, jid)) == 1  # visible inside the transaction...
        raise RuntimeError("the inbound handler failed after enqueueing")
    assert jobs_repo.get(db, jid) is None and deliveries(db, jid) == []  # ...and gone with it
    jid, created = jobs_repo.enqueue(db, "scale.test.record", member_id="m", lock_key="portal:m", priority=7)
    [d] = deliveries(db, jid)
    assert created and d["task_name"] == pq.RUN and d["status"] == "todo" and d["lock"] == "portal:m"
    assert d["priority"] == 7 and d["queue_name"] == pq.QUEUE and d["scheduled_at"] is None
    # a duplicate enqueue (same dedupe key) adds neither a row nor a delivery
    a, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m", dedupe_key="once")
    b, again = jobs_repo.enqueue(db, "scale.test.record", member_id="m", dedupe_key="once")
    assert a == b and not again and len(deliveries(db, a)) == 1
    # the inbound record and its job's delivery are one transaction too
    job_id, _ = inbound.record_with_job(db, member_id="m", kind="event", name="ONCRMDEALADD", dedupe_key="e1",
                                        payload={}, job_kind="scale.test.record", job_payload={})
    assert len(deliveries(db, job_id)) == 1


def test_a_later_job_is_scheduled_and_a_later_locked_job_waits_unlocked(pq_services) -> None:
    db = pq_services.db
    at = clock.now() + 600
    plain, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m", run_at=at)
    locked, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m", run_at=at, lock_key="base:1")
    [p] = deliveries(db, plain)
    [w] = deliveries(db, locked)
    assert p["task_name"] == pq.RUN and abs(p["scheduled_at"].timestamp() - at) < 0.01
    # the waiting locked job is a lock-less wake-up: it never holds base:1's queue while it waits
    assert w["task_name"] == pq.WAKE and w["lock"] is None and abs(w["scheduled_at"].timestamp() - at) < 0.01


def test_each_job_runs_once_on_two_workers_and_a_second_delivery_does_nothing(pq_services, pq_worker) -> None:
    db = pq_services.db
    ids = [jobs_repo.enqueue(db, "scale.test.record", {"sleep": 0.02}, member_id=f"m{i % 4}")[0] for i in range(30)]
    w1, w2 = pq_worker(concurrency=2), pq_worker(concurrency=2)
    wait_until(lambda: all_done(db, ids), 30, "all jobs done")
    starts = [r["job_id"] for r in kinds.runs(db, "start")]
    assert sorted(starts) == sorted(ids)  # each exactly once
    assert w1.stats.ran + w2.stats.ran == 30 and w1.stats.ran > 0 and w2.stats.ran > 0
    # deliver a finished job again (a duplicate delivery): nothing runs
    with db.transaction():
        pq.submit(db, ids[0], run_at=clock.now())
    wait_until(lambda: (w1.stats.states.get("finished", 0) + w2.stats.states.get("finished", 0)) == 1, 10,
               "the duplicate delivery seen")
    assert len(kinds.runs(db, "start")) == 30
    assert all(j.attempts == 1 for j in (jobs_repo.get(db, i) for i in ids))


def test_jobs_sharing_a_lock_key_never_overlap(pq_services, pq_worker) -> None:
    db = pq_services.db
    ids = []
    for i in range(6):
        ids.append(jobs_repo.enqueue(db, "scale.test.record", {"sleep": 0.25}, member_id="m", lock_key="base:1")[0])
        ids.append(jobs_repo.enqueue(db, "scale.test.record", {"sleep": 0.25}, member_id="m",
                                     lock_key=f"other:{i}")[0])
    pq_worker(concurrency=4)
    wait_until(lambda: all_done(db, ids), 30, "all jobs done")
    spans: dict[int, list[float]] = {}
    for r in kinds.runs(db):
        spans.setdefault(r["job_id"], []).append(r["at"])
    same = sorted((spans[i][0], spans[i][1]) for i in ids[0::2])
    for (_, end), (start, _) in itertools.pairwise(same):
        assert start >= end, "two base:1 jobs ran at the same time"
    # the order of one lock key is kept
    assert [r["job_id"] for r in kinds.runs(db, "start") if r["lock_key"] == "base:1"] == ids[0::2]
    # different keys did run side by side (the worker was not simply serial)
    others = sorted((spans[i][0], spans[i][1]) for i in ids[1::2])
    assert any(start < end for (_, end), (start, _) in itertools.pairwise(others))


def test_a_retry_is_a_new_delivery_and_does_not_block_its_lock_key(pq_services, pq_worker) -> None:
    db = pq_services.db
    first, _ = jobs_repo.enqueue(db, "scale.test.record", {"fail_first": True}, member_id="m", lock_key="base:7")
    pq_worker(concurrency=2)
    wait_until(lambda: jobs_repo.get(db, first).attempts == 1 and jobs_repo.get(db, first).status == "queued",
               10, "first attempt failed and rescheduled")
    pending = [d for d in deliveries(db, first) if d["status"] == "todo"]
    assert [(d["task_name"], d["lock"]) for d in pending] == [(pq.WAKE, None)]  # waits without the lock
    # while the first waits for its retry (about 1 s), a later job of the same key runs
    second, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m", lock_key="base:7")
    wait_until(lambda: all_done(db, [first, second]), 20, "both done")
    order = [(r["job_id"], r["phase"], r["attempt"]) for r in kinds.runs(db)]
    assert order == [(first, "start", 1), (second, "start", 1), (second, "end", 1), (first, "start", 2),
                     (first, "end", 2)]
    job = jobs_repo.get(db, first)
    assert job.attempts == 2 and job.last_error is None


def test_exhausted_jobs_go_to_the_dead_letters_and_a_replay_is_delivered(pq_services, pq_worker) -> None:
    db = pq_services.db
    jid, _ = jobs_repo.enqueue(db, "no.such.kind", member_id="m")
    pq_worker()
    wait_until(lambda: jobs_repo.get(db, jid).status == jobs_repo.DEAD, 10, "buried")
    assert "unknown job kind" in jobs_repo.get(db, jid).last_error
    ok, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m")
    wait_until(lambda: all_done(db, [ok]), 10, "done")
    assert jobs_repo.retry(db, ok)  # `b24app jobs retry`: the replay gets its own delivery
    wait_until(lambda: all_done(db, [ok]) and len(kinds.runs(db, "start")) == 2, 10, "replayed")


def test_rows_queued_before_procrastinate_was_installed_are_picked_up(pq_services, pq_worker) -> None:
    db = pq_services.db
    db.execute("UPDATE jobs SET status = 'done'")  # nothing else around
    db.pq_state = (False, 1e18)  # this process believes procrastinate is not installed yet
    jid, _ = jobs_repo.enqueue(db, "scale.test.record", member_id="m", run_at=clock.now() - 10)
    assert deliveries(db, jid) == []
    pq.queue.forget(db)
    pq_worker()  # its periodic recovery finds the row without a delivery
    wait_until(lambda: all_done(db, [jid]), 15, "the orphan ran")
    assert len(kinds.runs(db, "start")) == 1
