"""``b24app worker`` on PostgreSQL: procrastinate's worker running our deliveries.

Our tasks are synchronous; procrastinate runs each in a thread of its pool (``concurrency`` at a
time), while its event loop keeps the worker's heartbeat, LISTEN/NOTIFY wake-ups and the periodic
deferrer going. SIGTERM/SIGINT stop it gracefully (running jobs finish).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from b24app.context import Services
from b24app.jobs.pq import queue, schema
from b24app.jobs.pq.tasks import Stats, build_app
from b24app.jobs.worker import Worker
from b24app.store import jobs as jobs_repo

log = logging.getLogger("b24app.pq")

POLL_S = 1.0  # how often a worker looks for jobs that became due (new ones wake it at once)


def _idle(services: Services) -> bool:
    db = services.db
    return jobs_repo.next_due_in(db) is None and jobs_repo.counts(db)[jobs_repo.RUNNING] == 0


def run_worker(services: Services, *, concurrency: int = 1, until_idle: bool = False,
               max_jobs: int | None = None, name: str | None = None, stop: threading.Event | None = None,
               signals: bool = True, stats: Stats | None = None, periodic: bool = True) -> Stats:
    """Run until stopped (a signal, ``stop`` set, idle with ``until_idle``, ``max_jobs`` run);
    installs procrastinate's schema first if this store has none yet. Returns this process's
    delivery counts. ``signals=False`` when run outside the main thread (tests)."""
    if not queue.enabled(services.db):
        schema.install(services.db)
    worker = Worker(services)
    stats = stats or Stats()
    app = build_app(services, worker, stats, pool_size=concurrency + 3, periodic=periodic)
    config = services.config

    async def main() -> None:
        async with app.open_async():
            task = asyncio.create_task(app.run_worker_async(
                queues=[queue.QUEUE], concurrency=max(1, concurrency), name=name or "b24app",
                update_heartbeat_interval=config.worker_heartbeat,
                stalled_worker_timeout=config.worker_stalled_after, fetch_job_polling_interval=POLL_S,
                delete_jobs="successful", install_signal_handlers=signals,
            ))
            if until_idle or max_jobs or stop is not None:
                while not task.done():
                    await asyncio.sleep(0.2)
                    if stop is not None and stop.is_set():
                        break
                    if max_jobs is not None and stats.ran >= max_jobs:
                        break
                    if until_idle and await asyncio.to_thread(_idle, services):
                        break
                if not task.done():
                    task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(main())
    log.info("worker stopped", extra={"ran": stats.ran, "states": stats.states})
    return stats
