"""procrastinate workers as a cluster: periodic tasks run once per period however many workers
defer them; a worker killed with SIGKILL mid-job loses nothing and its job finishes once."""

from __future__ import annotations

import itertools
import os
import signal
import time

import pytest

from b24app.jobs.registry import REGISTRY, Periodic
from b24app.store import jobs as jobs_repo
from tests.unit.scale import kinds
from tests.unit.scale.conftest import wait_until

TICK = "scale.test.tick"


@pytest.fixture
def tick_task():
    def enqueue(services) -> None:
        services.db.execute("INSERT INTO scale_runs (job_id, phase, attempt, at, pid) VALUES (0, 'tick', 0, ?, ?)",
                            (time.time(), os.getpid()))

    REGISTRY.periodic[TICK] = Periodic(TICK, 1, enqueue)
    yield
    REGISTRY.periodic.pop(TICK)


def test_a_periodic_task_runs_once_per_period_with_two_workers(pq_services, pq_worker, tick_task) -> None:
    db = pq_services.db
    w1, w2 = pq_worker(), pq_worker()
    wait_until(lambda: len(kinds.runs(db, "tick")) >= 4, 20, "four ticks")
    w1.close()
    w2.close()
    ticks = [r["at"] for r in kinds.runs(db, "tick")]
    periods = sorted(ts for w in (w1, w2) for name, ts in w.stats.periods if name == TICK)
    assert len(periods) == len(ticks) and len(set(periods)) == len(periods), periods  # one run per period
    assert periods == list(range(periods[0], periods[0] + len(periods)))  # and no period missed
    assert all(b - a > 0.5 for a, b in itertools.pairwise(ticks)), ticks
    # the recovery task is periodic too: once per period across both workers
    recover = [ts for w in (w1, w2) for name, ts in w.stats.periods if name == "recover"]
    assert len(recover) >= 2 and len(set(recover)) == len(recover)


def test_a_worker_killed_mid_job_loses_nothing_and_the_job_finishes_once(pq_services, spawn_worker) -> None:
    db = pq_services.db
    pq_services.config.worker_lease = 2.0
    first, _ = jobs_repo.enqueue(db, "scale.test.record", {"sleep": 3}, member_id="m", lock_key="base:k")
    second, _ = jobs_repo.enqueue(db, "scale.test.record", {"sleep": 0}, member_id="m", lock_key="base:k")
    victim = spawn_worker()
    wait_until(lambda: kinds.runs(db, "start"), 30, "the first job started")
    os.kill(victim.pid, signal.SIGKILL)
    killed_at = time.time()
    victim.wait(10)
    assert jobs_repo.get(db, first).status == jobs_repo.RUNNING  # left behind by the dead worker
    spawn_worker()
    wait_until(lambda: all(jobs_repo.get(db, j).status == jobs_repo.DONE for j in (first, second)), 60,
               "both jobs done")
    runs = [(r["job_id"], r["phase"], r["attempt"], r["at"]) for r in kinds.runs(db)]
    assert [r[:3] for r in runs] == [(first, "start", 1), (first, "start", 2), (first, "end", 2),
                                     (second, "start", 1), (second, "end", 1)]
    assert runs[1][3] > killed_at  # taken again only after the kill (its lease had to expire)
    job = jobs_repo.get(db, first)
    assert job.attempts == 2 and job.status == jobs_repo.DONE
    wait_until(lambda: db.scalar("SELECT COUNT(*) AS n FROM procrastinate_jobs WHERE status IN ('todo', 'doing') "
                                 "AND task_name IN ('b24app.run', 'b24app.wake')") == 0, 10, "no delivery left")
