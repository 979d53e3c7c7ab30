"""``b24app worker``: takes jobs, runs them, retries per the error table, buries the exhausted.

Several workers (processes or threads) may run at once; a job is held under a lease that a
heartbeat renews while it runs. A worker killed mid-job loses nothing: its lease expires and the
job is taken again (handlers are idempotent by their effect keys).

With PostgreSQL and procrastinate (b24app.jobs.pq) the same class runs each delivered row through
:meth:`Worker.run_job_id`; ``b24app worker`` then runs procrastinate's worker instead of the poll loop.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import traceback
from typing import Any

from b24app import clock
from b24app.context import Services
from b24app.errors import Action, B24AppError, ReinstallRequired, Rule, classify
from b24app.jobs.context import JobContext
from b24app.jobs.registry import REGISTRY, load_plugins
from b24app.store import installations
from b24app.store import jobs as jobs_repo
from b24app.store.jobs import Job

log = logging.getLogger("b24app.worker")

MAX_BACKOFF_S = 3600.0
RELEASE_DEAD_EVERY_S = 5.0  # how often a poller gives back the jobs of killed local workers
MAX_DEFERRALS = 200  # rate-limited retries that do not count as attempts, at most


def classify_exception(exc: BaseException) -> Rule:
    if isinstance(exc, B24AppError):
        return exc.rule
    return classify("app", None, "bug")  # an unexpected exception: a defect, not worth retrying forever


def backoff_delay(rule: Rule, attempts: int, rng: random.Random | None = None) -> float:
    base = rule.backoff_s * (2 ** max(0, attempts - 1))
    jitter = (rng or random).uniform(0.8, 1.2)
    return min(MAX_BACKOFF_S, base * jitter)


class Worker:
    def __init__(self, services: Services, *, worker_id: str | None = None,
                 kinds: tuple[str, ...] | None = None, lease_s: float | None = None) -> None:
        load_plugins()
        self.services = services
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.kinds = kinds
        self.lease_s = lease_s or services.config.worker_lease
        self.stop_event = threading.Event()
        self._released_at = 0.0

    @property
    def db(self) -> Any:
        return self.services.db

    def run_once(self) -> Job | None:
        """Take and run one due job; returns it, or None when nothing was due. Every few seconds the
        jobs of killed local workers are given back first (``jobs.release_dead_local``)."""
        if time.monotonic() - self._released_at > RELEASE_DEAD_EVERY_S:
            self._released_at = time.monotonic()
            jobs_repo.release_dead_local(self.db)
        job = jobs_repo.claim(self.db, self.worker_id, self.lease_s, self.kinds)
        if job is None:
            return None
        self._execute(job)
        return job

    def run_job_id(self, job_id: int, worker_id: str | None = None) -> jobs_repo.Claim:
        """Take job ``job_id`` (a procrastinate delivery) and run it; returns what the claim found
        (a duplicate delivery, or one for a job still held by a live lease, runs nothing)."""
        got = jobs_repo.claim_by_id(self.db, job_id, worker_id or self.worker_id, self.lease_s)
        if got.job is not None:
            self._execute(got.job)
        return got

    def run(self, *, max_jobs: int | None = None, until_idle: bool = False, poll_s: float = 0.5) -> int:
        """Loop until stopped (or idle / ``max_jobs`` done); returns the number of jobs run."""
        done = 0
        while not self.stop_event.is_set():
            job = self.run_once()
            if job is not None:
                done += 1
                if max_jobs is not None and done >= max_jobs:
                    break
                continue
            if until_idle:
                due = jobs_repo.next_due_in(self.db)
                running = jobs_repo.counts(self.db)[jobs_repo.RUNNING]
                if due is None and running == 0:
                    break
                wait = min(poll_s, due if due is not None else poll_s)
                self.stop_event.wait(max(0.01, wait))
                continue
            wait = jobs_repo.next_due_in(self.db)
            self.stop_event.wait(poll_s if wait is None else max(0.01, min(poll_s, wait)))
        return done

    def _heartbeat(self, job: Job, done: threading.Event, lease_s: float) -> None:
        """Keep the job's lease ``lease_s`` ahead. The claim took only the worker's lease: a kind with a
        longer one extends at once, and beats every third of the shorter of the two, so the job is never
        claimed a second time while it still runs."""
        if lease_s > self.lease_s and not jobs_repo.extend_lease(self.db, job.id, self._owner(job), lease_s):
            return
        while not done.wait(min(lease_s, self.lease_s) / 3):
            if not jobs_repo.extend_lease(self.db, job.id, self._owner(job), lease_s):
                return

    def _owner(self, job: Job) -> str:
        """Who holds the job: the id it was claimed under (a procrastinate delivery claims under its
        own id, so two deliveries in one process never pass for each other)."""
        return job.worker_id or self.worker_id

    def _execute(self, job: Job) -> None:
        kind = REGISTRY.kinds.get(job.kind)
        if kind is None:
            jobs_repo.bury(self.db, job.id, self._owner(job), error=f"unknown job kind {job.kind!r}",
                           action=Action.FAIL_CONFIG)
            return
        lease_s = kind.lease_s or self.lease_s
        finished = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job, finished, lease_s), daemon=True)
        beat.start()
        started = clock.now()
        ctx = JobContext(self.services, job, self._owner(job))
        try:
            result = kind.handler(ctx)
        except Exception as exc:  # every failure goes through the error table
            finished.set()
            self._failed(job, kind, exc)
            return
        finally:
            finished.set()
        if not jobs_repo.complete(self.db, job.id, self._owner(job), result):
            log.warning("job finished after its lease was lost", extra={"job_id": job.id, "kind": job.kind})
        log.info("job done", extra={"job_id": job.id, "kind": job.kind, "member_id": job.member_id,
                                    "seconds": round(clock.now() - started, 3)})

    def _failed(self, job: Job, kind: Any, exc: Exception) -> None:
        rule = classify_exception(exc)
        text = str(exc) or exc.__class__.__name__
        if not isinstance(exc, B24AppError):
            text = f"{exc.__class__.__name__}: {text}\n{traceback.format_exc(limit=6)}"
        if isinstance(exc, ReinstallRequired) and job.member_id:
            installations.set_status(self.db, job.member_id, installations.REINSTALL_REQUIRED, text)
        if job.member_id:
            installations.record_error(self.db, job.member_id, f"{job.kind}: {text.splitlines()[0]}")
        log.warning("job failed", extra={"job_id": job.id, "kind": job.kind, "member_id": job.member_id,
                                         "action": rule.action.value, "error": text.splitlines()[0]})
        retryable = rule.action in (Action.RETRY, Action.RATE_LIMITED, Action.REFRESH_THEN_RETRY)
        max_attempts = min(job.max_attempts, kind.max_attempts)
        if retryable and rule.action == Action.RATE_LIMITED and job.attempts < MAX_DEFERRALS:
            jobs_repo.reschedule(self.db, job.id, self._owner(job), error=text, action=rule.action,
                                 delay_s=backoff_delay(rule, 1), count_attempt=False)
            return
        if retryable and job.attempts < max_attempts:
            delay = 0.0 if rule.action == Action.REFRESH_THEN_RETRY else backoff_delay(rule, job.attempts)
            jobs_repo.reschedule(self.db, job.id, self._owner(job), error=text, action=rule.action,
                                 delay_s=delay)
            return
        jobs_repo.bury(self.db, job.id, self._owner(job), error=text, action=rule.action)
        if kind.robot:
            from b24app.robots.runner import answer_failure

            answer_failure(self.services, job, text.splitlines()[0], rule)
