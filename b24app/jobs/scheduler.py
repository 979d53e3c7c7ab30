"""``b24app scheduler``: one process runs APScheduler; its periodic tasks only enqueue jobs.

A lease in the store guards it: a second copy finds the lease held and exits with a message
(across hosts too when the store is PostgreSQL). The lease is renewed every few seconds; a
scheduler that loses it stops.

With PostgreSQL (procrastinate) there is no scheduler process: every worker defers the periodic
tasks and the database keeps one run per period (b24app.jobs.pq); :func:`not_needed` says so.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from b24app.context import Services
from b24app.jobs.registry import REGISTRY, Periodic, load_plugins
from b24app.store import leases

log = logging.getLogger("b24app.scheduler")

LEASE = "scheduler"
LEASE_TTL_S = 30.0
RENEW_EVERY_S = 10.0


class AlreadyRunning(RuntimeError):
    pass


def not_needed(services: Services) -> str | None:
    """Why no scheduler process is needed for this store (None: it is needed: SQLite)."""
    if services.db.dialect != "postgres":
        return None
    return ("PostgreSQL store: periodic tasks run as procrastinate periodic tasks inside every "
            "`b24app worker`; the database keeps one run per period, so no scheduler process is "
            "needed. Nothing to do. / Хранилище PostgreSQL: периодические задачи запускают сами "
            "воркеры (`b24app worker`), база данных гарантирует один запуск за период; отдельный "
            "планировщик не нужен.")


def run_all_once(services: Services) -> list[str]:
    """Run every periodic task's enqueue once (for operators and tests)."""
    load_plugins()
    names = []
    for p in REGISTRY.periodic.values():
        p.enqueue(services)
        names.append(p.name)
    return names


class Scheduler:
    def __init__(self, services: Services, holder: str | None = None) -> None:
        load_plugins()
        self.services = services
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.stopped = threading.Event()
        self._aps: BackgroundScheduler | None = None

    def _tick(self, p: Periodic) -> None:
        try:
            p.enqueue(self.services)
        except Exception:  # one task's failure must not stop the others
            log.exception("periodic task failed", extra={"task": p.name})

    def _renew(self) -> None:
        if not leases.try_acquire(self.services.db, LEASE, self.holder, LEASE_TTL_S):
            log.error("scheduler lease lost; stopping", extra={"holder": leases.holder_of(self.services.db, LEASE)})
            self.stop()

    def start(self) -> None:
        if not leases.try_acquire(self.services.db, LEASE, self.holder, LEASE_TTL_S):
            raise AlreadyRunning(
                f"another scheduler is running ({leases.holder_of(self.services.db, LEASE)}); this copy exits"
            )
        aps = BackgroundScheduler(timezone="UTC")
        for p in REGISTRY.periodic.values():
            aps.add_job(self._tick, "interval", seconds=p.every_s, args=[p], id=p.name, max_instances=1,
                        coalesce=True, jitter=p.jitter_s or None, next_run_time=_now())
        aps.add_job(self._renew, "interval", seconds=RENEW_EVERY_S, id="lease", max_instances=1, coalesce=True)
        aps.start()
        self._aps = aps
        log.info("scheduler started", extra={"tasks": sorted(REGISTRY.periodic)})

    def stop(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        leases.release(self.services.db, LEASE, self.holder)
        self.stopped.set()

    def wait(self) -> None:
        self.stopped.wait()


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)
