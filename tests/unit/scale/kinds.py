"""Job kinds for the scale tests: they record each run's start and end in ``scale_runs`` (a table
the tests create in their own schema), so tests can count executions and check overlaps. Loaded in
worker subprocesses through ``B24APP_EXTRA_PLUGINS=tests.unit.scale.kinds``."""

from __future__ import annotations

import os
import time
from typing import Any

from b24app.errors import Busy
from b24app.jobs.context import JobContext
from b24app.jobs.registry import job

TABLE = """CREATE TABLE IF NOT EXISTS scale_runs (
    seq BIGSERIAL PRIMARY KEY, job_id BIGINT NOT NULL, phase TEXT NOT NULL, lock_key TEXT,
    attempt INTEGER NOT NULL, at DOUBLE PRECISION NOT NULL, pid INTEGER NOT NULL)"""


def _mark(ctx: JobContext, phase: str) -> None:
    ctx.db.execute("INSERT INTO scale_runs (job_id, phase, lock_key, attempt, at, pid) VALUES (?, ?, ?, ?, ?, ?)",
                   (ctx.job.id, phase, ctx.job.lock_key, ctx.job.attempts, time.time(), os.getpid()))


@job("scale.test.record", max_attempts=5)
def record(ctx: JobContext) -> dict[str, Any]:
    """Sleeps ``payload.sleep`` seconds between its start and end marks; with ``fail_first`` its
    first attempt fails with a retryable error after the start mark."""
    _mark(ctx, "start")
    if ctx.payload.get("fail_first") and ctx.job.attempts == 1:
        raise Busy("first attempt fails on purpose")
    time.sleep(float(ctx.payload.get("sleep", 0)))
    _mark(ctx, "end")
    return {"ok": True}


def runs(db: Any, phase: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT * FROM scale_runs" + (" WHERE phase = ?" if phase else "") + " ORDER BY seq"
    return db.query(sql, (phase,) if phase else ())
