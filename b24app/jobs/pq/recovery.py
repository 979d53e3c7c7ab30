"""Nothing lost, nothing run twice at once, when a worker dies.

Two holders can outlive a killed worker: its procrastinate delivery stays ``doing`` (holding the
row's lock key in procrastinate) and our row stays ``running`` until its lease expires. The
periodic ``b24app.recover`` task (once per period cluster-wide) therefore:

1. returns stalled deliveries (their worker has sent no heartbeat for ``stalled_after`` seconds)
   to the queue, due when our row's lease ends — the row is taken again only then, so a worker
   that was merely slow never has its job run beside it; a row whose holder is a process of this
   machine that no longer exists has its lease ended first (``jobs.release_dead_local``), so its
   job runs again at once and not after the kind's long lease;
2. defers a delivery for every row that is due (or whose lease expired) and has none pending:
   rows queued before procrastinate was installed, or whose delivery failed on a database error.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.jobs.pq import queue
from b24app.store import jobs as jobs_repo
from b24app.store.db import Database

log = logging.getLogger("b24app.pq")

GRACE_S = 5.0  # a queued row this long overdue without a delivery is an orphan
BATCH = 1000


def _lease_until(db: Database, job_id: Any) -> float | None:
    if job_id is None:
        return None
    row = db.one("SELECT status, lease_until FROM jobs WHERE id = ?", (int(job_id),))
    if row is None or row["status"] != jobs_repo.RUNNING or row["lease_until"] is None:
        return None
    return float(row["lease_until"])


def orphans(db: Database, now: float | None = None) -> list[dict[str, Any]]:
    """Rows that should run (due, or their lease expired) and have no pending delivery."""
    now = clock.now() if now is None else now
    return db.query(
        """SELECT id, lock_key, priority FROM jobs j
           WHERE ((j.status = ? AND j.run_at <= ?) OR (j.status = ? AND j.lease_until < ?))
             AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs p
                             WHERE p.status IN ('todo', 'doing') AND p.task_name IN (?, ?)
                               AND p.args->>'job_id' = CAST(j.id AS TEXT))
           ORDER BY j.priority DESC, j.run_at, j.id LIMIT ?""",
        (jobs_repo.QUEUED, now - GRACE_S, jobs_repo.RUNNING, now, queue.RUN, queue.WAKE, BATCH),
    )


def redeliver_orphans(db: Database) -> int:
    n = 0
    for row in orphans(db):
        with db.transaction():
            if queue.pending_tasks(db, row["id"]):
                continue
            queue.submit(db, row["id"], run_at=clock.now(), lock_key=row["lock_key"], priority=row["priority"])
            n += 1
    if n:
        log.warning("jobs without a delivery were queued again", extra={"count": n})
    return n


async def recover(app: Any, services: Services, *, stalled_after: float) -> dict[str, int]:
    db = services.db
    stalled = list(await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after))
    if stalled:  # a holder that is a dead process of this machine gives its rows back at once
        await asyncio.to_thread(jobs_repo.release_dead_local, db)
    for pj in stalled:
        at = None
        if pj.task_name == queue.RUN:
            lease = await asyncio.to_thread(_lease_until, db, pj.task_kwargs.get("job_id"))
            if lease is not None and lease > clock.now():
                at = dt.datetime.fromtimestamp(lease, dt.UTC)
        await app.job_manager.retry_job(pj, retry_at=at)
    if stalled:
        log.warning("deliveries of stopped workers returned to the queue",
                    extra={"count": len(stalled), "ids": [j.id for j in stalled][:20]})
    again = await asyncio.to_thread(redeliver_orphans, db)
    return {"stalled": len(stalled), "orphans": again}
