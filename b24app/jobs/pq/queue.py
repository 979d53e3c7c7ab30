"""Deferring procrastinate tasks for our job rows, on the caller's connection and transaction."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from b24app import clock
from b24app.store.db import Database

QUEUE = "b24app"  # the procrastinate queue of every task of the app
RUN = "b24app.run"  # run(job_id): claim our row by id and run it
WAKE = "b24app.wake"  # wake(job_id): a waiting lock-keyed row is due: defer its locked run
RECHECK_S = 5.0  # how long "procrastinate is not installed" is believed before asking again

_apps: dict[str, Any] = {}
_apps_lock = threading.Lock()


def enabled(db: Database) -> bool:
    """Whether this store delivers jobs through procrastinate (PostgreSQL with its schema)."""
    if db.dialect != "postgres":
        return False
    state: tuple[bool, float] | None = getattr(db, "pq_state", None)
    now = time.monotonic()
    if state is not None and (state[0] or now - state[1] < RECHECK_S):
        return state[0]
    on = bool(db.scalar("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS installed"))
    db.pq_state = on, now  # type: ignore[attr-defined]
    return on


def forget(db: Database) -> None:
    """Ask the database again next time (after installing or dropping the schema)."""
    db.pq_state = None  # type: ignore[attr-defined]


def defer_app(url: str) -> Any:
    """A procrastinate App that only defers (never opened: every defer passes our connection)."""
    with _apps_lock:
        app = _apps.get(url)
        if app is None:
            import procrastinate

            app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
            _apps[url] = app
        return app


def _at(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def submit(db: Database, job_id: int, *, run_at: float, lock_key: str | None = None, priority: int = 0) -> int:
    """Defer the delivery of our job ``job_id``; call it inside the transaction that wrote the row,
    so the row and its delivery commit (or vanish) together. Returns procrastinate's job id."""
    due = run_at <= clock.now()
    name, lock = (WAKE, None) if lock_key and not due else (RUN, lock_key)
    deferrer = defer_app(db.url).configure_task(
        name, queue=QUEUE, lock=lock, priority=int(priority), schedule_at=None if due else _at(run_at),
        task_kwargs={"job_id": int(job_id)}, connection=db.conn,  # type: ignore[attr-defined]
    )
    return int(deferrer.defer())


def pending_tasks(db: Database, job_id: int, exclude: int | None = None) -> int:
    """How many procrastinate tasks (run or wake) are waiting or running for our job ``job_id``,
    not counting procrastinate job ``exclude`` (the caller itself)."""
    return int(db.scalar(
        """SELECT COUNT(*) AS n FROM procrastinate_jobs
           WHERE status IN ('todo', 'doing') AND task_name IN (?, ?) AND args->>'job_id' = ? AND id <> ?""",
        (RUN, WAKE, str(int(job_id)), int(exclude or 0)),
    ) or 0)
