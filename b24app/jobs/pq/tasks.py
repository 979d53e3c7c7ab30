"""The procrastinate app of a worker process: what it runs and which periodic tasks it defers.

- ``b24app.run(job_id)``: claim our row by id and run it with the same :class:`Worker` code as the
  SQLite poller. A delivery that finds the row running under a live lease, or not yet due, makes
  sure one delivery is pending for when it may be runnable (unless another one is), and ends.
- ``b24app.wake(job_id)``: a lock-keyed row's wait is over: defer its locked run now.
- ``b24app.periodic(name)``: one ``@periodic`` task's enqueue, once per cron period cluster-wide.
- ``b24app.recover``: stalled deliveries of killed workers and rows without a delivery
  (b24app.jobs.pq.recovery).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.jobs.pq import queue, recovery
from b24app.jobs.pq.cron import cron_for
from b24app.jobs.registry import REGISTRY, load_plugins
from b24app.jobs.worker import Worker
from b24app.store import jobs as jobs_repo

PERIODIC = "b24app.periodic"
RECOVER = "b24app.recover"
SKEW_S = 1.0  # a wake-up this close to the row's run_at counts as due (clocks of hosts differ a little)


@dataclass
class Stats:
    """Counts of this process's deliveries (``--max-jobs``, tests)."""

    ran: int = 0
    states: dict[str, int] = field(default_factory=dict)
    periods: list[tuple[str, int]] = field(default_factory=list)  # (periodic task, cron timestamp) run here
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, state: str) -> None:
        with self.lock:
            self.states[state] = self.states.get(state, 0) + 1
            if state == "taken":
                self.ran += 1


def redeliver(services: Services, job_id: int, at: float, exclude: int | None) -> bool:
    """Defer one delivery of ``job_id`` for ``at`` unless the row is finished or another delivery
    (not ``exclude``) is pending; returns whether one was deferred."""
    db = services.db
    with db.transaction():
        row = db.one("SELECT status, lock_key, priority FROM jobs WHERE id = ?" + db.for_update, (job_id,))
        if row is None or row["status"] not in (jobs_repo.QUEUED, jobs_repo.RUNNING):
            return False
        if queue.pending_tasks(db, job_id, exclude=exclude):
            return False
        queue.submit(db, job_id, run_at=max(at, clock.now()), lock_key=row["lock_key"], priority=row["priority"])
    return True


def wake(services: Services, job_id: int, exclude: int | None) -> str:
    db = services.db
    with db.transaction():
        row = db.one("SELECT status, run_at, lock_key, priority FROM jobs WHERE id = ?" + db.for_update, (job_id,))
        if row is None or row["status"] != jobs_repo.QUEUED:
            return "finished"
        now = clock.now()
        if row["run_at"] > now + SKEW_S:  # moved later since: its own wake-up is (or will be) pending
            if queue.pending_tasks(db, job_id, exclude=exclude):
                return "early"
            queue.submit(db, job_id, run_at=row["run_at"], lock_key=row["lock_key"], priority=row["priority"])
            return "early"
        queue.submit(db, job_id, run_at=now, lock_key=row["lock_key"], priority=row["priority"])
    return "woken"


def build_app(services: Services, worker: Worker, stats: Stats, *, pool_size: int = 4,
              periodic: bool = True) -> Any:
    """A procrastinate App bound to this process's services (open it with ``open_async``).
    ``periodic=False``: this worker defers no ``@periodic`` task (others do; recovery still runs)."""
    import procrastinate

    load_plugins()
    config = services.config
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=services.db.url, min_size=1, max_size=max(2, pool_size)))

    @app.task(name=queue.RUN, queue=queue.QUEUE, pass_context=True)
    def run(context: Any, job_id: int) -> str:
        got = worker.run_job_id(job_id, f"{worker.worker_id}:pq{context.job.id}")
        stats.count(got.state)
        if got.state in ("busy", "early") and got.at is not None:
            redeliver(services, job_id, got.at, exclude=context.job.id)
        return got.state

    @app.task(name=queue.WAKE, queue=queue.QUEUE, pass_context=True)
    def wake_task(context: Any, job_id: int) -> str:
        return wake(services, job_id, context.job.id)

    @app.task(name=PERIODIC, queue=queue.QUEUE)
    def periodic_tick(timestamp: int, name: str) -> str:
        task = REGISTRY.periodic.get(name)
        if task is None:
            return "unknown"
        task.enqueue(services)
        stats.count("periodic:" + name)
        with stats.lock:
            stats.periods.append((name, int(timestamp)))
        return "enqueued"

    for p in REGISTRY.periodic.values() if periodic else ():
        app.periodic(cron=cron_for(p.every_s), periodic_id=p.name, task_kwargs={"name": p.name})(periodic_tick)

    @app.task(name=RECOVER, queue=queue.QUEUE)
    async def recover(timestamp: int) -> dict[str, int]:
        with stats.lock:
            stats.periods.append(("recover", int(timestamp)))
        return await recovery.recover(app, services, stalled_after=config.worker_stalled_after)

    app.periodic(cron=cron_for(config.recover_every), periodic_id="recover")(recover)
    return app
