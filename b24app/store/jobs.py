"""The durable job queue (SQLite/PostgreSQL table ``jobs``).

A job is taken with a lease; a worker that dies leaves its job ``running`` with an expired lease,
and the next claim takes it again. Jobs that share a ``lock_key`` never run at the same time.
Exhausted jobs become ``dead`` (the dead-letter list) with their last error.

With PostgreSQL and procrastinate installed (b24app.jobs.pq), every write that makes a row runnable
(enqueue, reschedule, retry) also defers its procrastinate delivery in the same transaction, and
workers take rows by id (:func:`claim_by_id`); the polling :func:`claim` keeps working beside it
(both take a row atomically, so a row never runs twice at once).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from b24app import clock
from b24app.store.db import Database, dumps, loads

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
CLAIM_LOCK = 7_224_801
STATUSES = (QUEUED, RUNNING, DONE, DEAD)


@dataclass
class Job:
    id: int
    member_id: str | None
    kind: str
    payload: dict[str, Any]
    dedupe_key: str | None
    lock_key: str | None
    status: str
    priority: int
    attempts: int
    max_attempts: int
    run_at: float
    lease_until: float | None
    worker_id: str | None
    last_error: str | None
    last_error_action: str | None
    result: Any
    created_at: float
    updated_at: float
    finished_at: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        row = dict(row)
        row["payload"] = loads(row["payload"], {})
        row["result"] = loads(row["result"])
        return cls(**row)

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "member_id": self.member_id,
            "kind": self.kind,
            "status": self.status,
            "attempts": self.attempts,
            "max_attempts": self.max_attempts,
            "run_at": clock.iso(self.run_at),
            "lease_until": clock.iso(self.lease_until),
            "worker_id": self.worker_id,
            "dedupe_key": self.dedupe_key,
            "lock_key": self.lock_key,
            "last_error": self.last_error,
            "last_error_action": self.last_error_action,
            "created_at": clock.iso(self.created_at),
            "finished_at": clock.iso(self.finished_at),
            "payload": self.payload,
            "result": self.result,
        }


def enqueue(
    db: Database,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    member_id: str | None = None,
    dedupe_key: str | None = None,
    lock_key: str | None = None,
    priority: int = 0,
    run_at: float | None = None,
    max_attempts: int = 8,
) -> tuple[int, bool]:
    """Add a job; returns (job id, created). With a ``dedupe_key`` that exists already, the
    existing job's id is returned and nothing is added."""
    now = clock.now()
    at = now if run_at is None else run_at
    deliver = _delivers(db)
    with db.transaction() if deliver else nullcontext(db):
        rows = db.query(
            """INSERT INTO jobs (member_id, kind, payload, dedupe_key, lock_key, status, priority,
               max_attempts, run_at, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (dedupe_key) DO NOTHING RETURNING id""",
            (member_id, kind, dumps(payload or {}), dedupe_key, lock_key, QUEUED, priority, max_attempts,
             at, now, now),
        )
        if rows and deliver:
            _submit(db, int(rows[0]["id"]), at, lock_key, priority)
    if rows:
        return int(rows[0]["id"]), True
    existing = db.scalar("SELECT id FROM jobs WHERE dedupe_key = ?", (dedupe_key,))
    return int(existing), False


def claim(db: Database, worker_id: str, lease_s: float, kinds: tuple[str, ...] | None = None) -> Job | None:
    """Take the most urgent due job (or one whose lease expired) for ``worker_id``."""
    now = clock.now()
    kind_sql = ""
    params: list[Any] = [QUEUED, now, RUNNING, now]
    if kinds:
        kind_sql = f" AND kind IN ({', '.join('?' for _ in kinds)})"
        params.extend(kinds)
    params.extend([RUNNING, now])
    with db.transaction():
        db.serialize(CLAIM_LOCK)  # lock keys must be checked and taken by one claimer at a time
        row = db.one(
            f"""SELECT id FROM jobs
                WHERE ((status = ? AND run_at <= ?) OR (status = ? AND lease_until < ?)){kind_sql}
                  AND (lock_key IS NULL OR lock_key NOT IN (
                       SELECT lock_key FROM jobs WHERE status = ? AND lease_until >= ?
                       AND lock_key IS NOT NULL))
                ORDER BY priority DESC, run_at, id LIMIT 1""",
            params,
        )
        if row is None:
            return None
        db.execute(
            """UPDATE jobs SET status = ?, lease_until = ?, worker_id = ?, attempts = attempts + 1,
               updated_at = ? WHERE id = ?""",
            (RUNNING, now + lease_s, worker_id, now, row["id"]),
        )
        got = db.one("SELECT * FROM jobs WHERE id = ?", (row["id"],))
    return Job.from_row(got) if got else None


def release_dead_local(db: Database) -> int:
    """End the lease of every running job whose holder is a process of this machine that no longer
    exists (a worker killed with SIGKILL): it is taken again at once instead of after its lease,
    which a kind with a long lease (600-1800 s) holds far beyond the worker's death. A holder on
    another machine, or alive, keeps its lease (``leases.dead_local_holder``)."""
    from b24app.store.leases import dead_local_holder

    now = clock.now()
    n = 0
    for r in db.query("SELECT id, worker_id FROM jobs WHERE status = ? AND lease_until >= ?", (RUNNING, now)):
        holder = str(r["worker_id"] or "")
        if holder and dead_local_holder(holder):
            n += db.execute("UPDATE jobs SET lease_until = ? WHERE id = ? AND status = ? AND worker_id = ?",
                            (now - 0.001, r["id"], RUNNING, holder))
    return n


@dataclass
class Claim:
    """What :func:`claim_by_id` found: the job it took, or why not (``state``) and when the row may
    be runnable (``at``: the holder's lease end, or the row's run_at)."""

    state: str  # taken | busy (a live lease holds it or its lock key) | early (not due) | finished | missing
    job: Job | None = None
    at: float | None = None


def claim_by_id(db: Database, job_id: int, worker_id: str, lease_s: float) -> Claim:
    """Take job ``job_id`` for ``worker_id`` if it is due (or its lease expired) and its lock key is
    free; a second delivery of the same id while it runs, or after it finished, takes nothing."""
    head = db.one("SELECT lock_key FROM jobs WHERE id = ?", (job_id,))
    if head is None:
        return Claim("missing")
    with db.transaction():
        if head["lock_key"] is not None:
            db.serialize(CLAIM_LOCK)  # the same order as claim(): the claim lock, then the row
        row = db.one("SELECT * FROM jobs WHERE id = ?" + db.for_update, (job_id,))
        now = clock.now()
        if row is None:
            return Claim("missing")
        if row["status"] in (DONE, DEAD):
            return Claim("finished")
        if row["status"] == RUNNING and row["lease_until"] is not None and row["lease_until"] >= now:
            return Claim("busy", at=float(row["lease_until"]))
        if row["status"] == QUEUED and row["run_at"] > now:
            return Claim("early", at=float(row["run_at"]))
        if row["lock_key"] is not None:
            until = db.scalar(
                """SELECT MAX(lease_until) AS until FROM jobs
                   WHERE lock_key = ? AND status = ? AND lease_until >= ? AND id <> ?""",
                (row["lock_key"], RUNNING, now, job_id),
            )
            if until is not None:
                return Claim("busy", at=float(until))
        db.execute(
            """UPDATE jobs SET status = ?, lease_until = ?, worker_id = ?, attempts = attempts + 1,
               updated_at = ? WHERE id = ?""",
            (RUNNING, now + lease_s, worker_id, now, job_id),
        )
        got = db.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    return Claim("taken", Job.from_row(got)) if got else Claim("missing")


def extend_lease(db: Database, job_id: int, worker_id: str, lease_s: float) -> bool:
    n = db.execute(
        "UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND worker_id = ? AND status = ?",
        (clock.now() + lease_s, clock.now(), job_id, worker_id, RUNNING),
    )
    return n == 1


def complete(db: Database, job_id: int, worker_id: str, result: Any = None) -> bool:
    """Mark done; False when the lease was lost (another worker owns the job now)."""
    now = clock.now()
    n = db.execute(
        """UPDATE jobs SET status = ?, result = ?, finished_at = ?, updated_at = ?, lease_until = NULL,
           last_error = NULL WHERE id = ? AND worker_id = ? AND status = ?""",
        (DONE, dumps(result), now, now, job_id, worker_id, RUNNING),
    )
    return n == 1


def reschedule(
    db: Database, job_id: int, worker_id: str, *, error: str, action: str, delay_s: float,
    count_attempt: bool = True,
) -> bool:
    """Put a failed job back in the queue after ``delay_s``."""
    now = clock.now()
    sql = f"""UPDATE jobs SET status = ?, run_at = ?, last_error = ?, last_error_action = ?,
           lease_until = NULL, updated_at = ?{'' if count_attempt else ', attempts = attempts - 1'}
           WHERE id = ? AND worker_id = ? AND status = ?"""
    params = (QUEUED, now + delay_s, error[:4000], action, now, job_id, worker_id, RUNNING)
    if not _delivers(db):
        return db.execute(sql, params) == 1
    with db.transaction():
        rows = db.query(sql + " RETURNING run_at, lock_key, priority", params)
        if rows:
            _submit(db, job_id, rows[0]["run_at"], rows[0]["lock_key"], rows[0]["priority"])
    return bool(rows)


def bury(db: Database, job_id: int, worker_id: str | None, *, error: str, action: str) -> bool:
    """Move a job to the dead letters with its reason."""
    now = clock.now()
    owner_sql = " AND worker_id = ? AND status = ?" if worker_id else ""
    params: list[Any] = [DEAD, error[:4000], action, now, now, job_id]
    if worker_id:
        params += [worker_id, RUNNING]
    n = db.execute(
        f"""UPDATE jobs SET status = ?, last_error = ?, last_error_action = ?, finished_at = ?,
           updated_at = ?, lease_until = NULL WHERE id = ?{owner_sql}""",
        params,
    )
    return n == 1


def get(db: Database, job_id: int) -> Job | None:
    row = db.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
    return Job.from_row(row) if row else None


def by_dedupe_key(db: Database, key: str) -> Job | None:
    row = db.one("SELECT * FROM jobs WHERE dedupe_key = ?", (key,))
    return Job.from_row(row) if row else None


def list_jobs(
    db: Database, *, status: str | None = None, member_id: str | None = None, kind: str | None = None,
    limit: int = 100,
) -> list[Job]:
    where, params = [], []
    for col, val in (("status", status), ("member_id", member_id), ("kind", kind)):
        if val:
            where.append(f"{col} = ?")
            params.append(val)
    sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return [Job.from_row(r) for r in db.query(sql, params)]


def counts(db: Database, member_id: str | None = None) -> dict[str, int]:
    sql = "SELECT status, COUNT(*) AS n FROM jobs"
    params: list[Any] = []
    if member_id:
        sql += " WHERE member_id = ?"
        params.append(member_id)
    got = {r["status"]: int(r["n"]) for r in db.query(sql + " GROUP BY status", params)}
    return {s: got.get(s, 0) for s in STATUSES}



def outstanding(db: Database, member_id: str | None = None, now: float | None = None) -> dict[str, int]:
    """Work not finished, split by why: ``running``; ``due`` (queued, its time has come);
    ``retrying`` (queued for a later attempt after a failure); ``scheduled`` (queued, never tried,
    planned for later by design — e.g. tomorrow morning's digest). Only the first three are work
    still to come through; a scheduled job is a plan, not a backlog."""
    now = clock.now() if now is None else now
    sql = "SELECT status, attempts, run_at FROM jobs WHERE status IN (?, ?)"
    params: list[Any] = [QUEUED, RUNNING]
    if member_id:
        sql += " AND member_id = ?"
        params.append(member_id)
    out = {"running": 0, "due": 0, "retrying": 0, "scheduled": 0}
    for r in db.query(sql, params):
        if r["status"] == RUNNING:
            out["running"] += 1
        elif float(r["run_at"] or 0) <= now:
            out["due"] += 1
        elif int(r["attempts"] or 0) > 0:
            out["retrying"] += 1
        else:
            out["scheduled"] += 1
    return out

def retry(db: Database, job_id: int) -> bool:
    """Replay a dead (or done) job: back to the queue with fresh attempts."""
    now = clock.now()
    sql = """UPDATE jobs SET status = ?, attempts = 0, run_at = ?, updated_at = ?, finished_at = NULL,
           worker_id = NULL, lease_until = NULL WHERE id = ? AND status IN (?, ?)"""
    params = (QUEUED, now, now, job_id, DEAD, DONE)
    if not _delivers(db):
        return db.execute(sql, params) == 1
    with db.transaction():
        rows = db.query(sql + " RETURNING run_at, lock_key, priority", params)
        if rows:
            _submit(db, job_id, rows[0]["run_at"], rows[0]["lock_key"], rows[0]["priority"])
    return bool(rows)


def purge(db: Database, *, status: str, older_than_s: float = 0.0, member_id: str | None = None) -> int:
    """Delete finished jobs (done or dead) older than ``older_than_s``."""
    if status not in (DONE, DEAD):
        raise ValueError("only done or dead jobs can be purged")
    sql = "DELETE FROM jobs WHERE status = ? AND COALESCE(finished_at, updated_at) <= ?"
    params: list[Any] = [status, clock.now() - older_than_s]
    if member_id:
        sql += " AND member_id = ?"
        params.append(member_id)
    return db.execute(sql, params)


def next_due_in(db: Database) -> float | None:
    """Seconds until the next queued job is due (0 if one is due now), None if the queue is empty."""
    at = db.scalar("SELECT MIN(run_at) FROM jobs WHERE status = ?", (QUEUED,))
    if at is None:
        return None
    return max(0.0, float(at) - clock.now())


def _delivers(db: Database) -> bool:
    """Whether rows of this store are delivered by procrastinate (b24app.jobs.pq)."""
    if db.dialect != "postgres":
        return False
    from b24app.jobs import pq

    return pq.enabled(db)


def _submit(db: Database, job_id: int, run_at: float, lock_key: str | None, priority: int) -> None:
    from b24app.jobs import pq

    pq.submit(db, job_id, run_at=float(run_at), lock_key=lock_key, priority=int(priority))
