"""procrastinate as the job queue when the store is PostgreSQL.

Our ``jobs`` table stays the source of truth (CLI, dead letters, admin page); procrastinate only
*delivers*: every queued row gets one procrastinate task ``b24app.run(job_id)`` deferred on the
same connection inside the same transaction as the row, with ``schedule_at`` = run_at,
``lock`` = the row's lock_key and its priority. The task claims the row by id (atomically; a
second delivery of the same id does nothing) and runs it through the same worker code as the
SQLite poller (retries per the error table, dead letters, robots answered).

A row that must wait (a retry's backoff) *and* holds a lock key is deferred as a lock-less
``b24app.wake(job_id)`` that defers the locked run when it is due, so a job waiting for its
retry never blocks its lock key's queue (procrastinate runs same-lock jobs strictly in order).

Periodic tasks (``@periodic``) become procrastinate periodic tasks (cron from ``every_s``):
every worker runs the deferrer and the database keeps one run per period, so no scheduler
process is needed. A periodic ``b24app.recover`` task returns the jobs of killed workers.

The mode is a property of the database: it is on when procrastinate's schema is installed
(``b24app db upgrade`` or the first ``b24app worker`` installs it), so every process that shares
the store agrees. Modules: :mod:`.queue` (deferring), :mod:`.schema`, :mod:`.cron`,
:mod:`.tasks` (what workers run), :mod:`.recovery`, :mod:`.runner` (``b24app worker``).
"""

from b24app.jobs.pq.queue import QUEUE, RUN, WAKE, enabled, pending_tasks, submit

__all__ = ["QUEUE", "RUN", "WAKE", "enabled", "pending_tasks", "submit"]
