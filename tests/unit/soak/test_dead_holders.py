"""A finding of the soak: a worker killed with SIGKILL while it held a lease (the stage-task lease
of a deal: 300 s) blocked every job of that deal until the lease expired; jobs burnt their attempts
on Busy (a dead letter) and a stage entry could be missed. ``leases.held`` now takes over a lease
whose holder is a process of this machine that no longer exists, and still waits for a live one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from b24app.errors import Busy
from b24app.store import leases

CHILD = """
import sys, time
from b24app.store.db import open_database
from b24app.store import leases
db = open_database(path=sys.argv[1])
holder = sys.argv[2] + ":" + str(__import__("os").getpid()) + ":1"
assert leases.try_acquire(db, "stages:m:deal:46", holder, 300)
print(holder, flush=True)
time.sleep(600)
"""


def holder_process(services) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(services.db.path), socket.gethostname()],
                            stdout=subprocess.PIPE, text=True)
    holder = proc.stdout.readline().strip() if proc.stdout else ""
    assert holder.endswith(":1"), holder
    return proc, holder


def test_a_lease_of_a_killed_process_is_taken_over_at_once(services) -> None:
    proc, holder = holder_process(services)
    try:
        assert leases.holder_of(services.db, "stages:m:deal:46") == holder
        with pytest.raises(Busy):  # alive: the lease is respected
            with leases.held(services.db, "stages:m:deal:46", "me:1:1", ttl_s=30, wait_s=0.3):
                pass
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        started = time.monotonic()
        with leases.held(services.db, "stages:m:deal:46", "me:1:1", ttl_s=30, wait_s=5):
            assert leases.holder_of(services.db, "stages:m:deal:46") == "me:1:1"
        assert time.monotonic() - started < 2  # not the 300 s of the dead holder's lease
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_holders_of_other_machines_or_other_shapes_are_never_taken_over() -> None:
    assert not leases.dead_local_holder(f"another-host:{os.getpid() + 10_000_000}:1")
    assert not leases.dead_local_holder("3f2c9a0b4e5d")  # a uuid holder (contracts)
    assert not leases.dead_local_holder(f"{socket.gethostname()}:{os.getpid()}:7")  # this very process
    assert leases.dead_local_holder(f"{socket.gethostname()}:{2**22 + 12345}:7")  # beyond pid_max: gone


JOB_CHILD = """
import sys, time
from b24app.store.db import open_database
from b24app.store import jobs
db = open_database(path=sys.argv[1])
holder = sys.argv[2] + ":" + str(__import__("os").getpid()) + ":1:pq7"
job = jobs.claim(db, holder, 600)
assert job is not None
print(job.id, flush=True)
time.sleep(600)
"""


def test_a_job_held_by_a_killed_worker_is_given_back_at_once(services) -> None:
    """Found by the PostgreSQL soak: a worker killed in a ``stages.sla_scan`` (its kind's lease of
    600 s is taken at once) held the job for ten minutes. ``jobs.release_dead_local`` (run by the
    poller and by the procrastinate recovery) ends the lease of a holder that is a dead local process."""
    from b24app.store import jobs

    db = services.db
    first, _ = jobs.enqueue(db, "stages.sla_scan", member_id="m", max_attempts=5)
    jobs.enqueue(db, "stages.sla_scan", member_id="m2", max_attempts=5)
    elsewhere = jobs.claim(db, f"another-host:{2**22 + 12345}:1", 600)  # a worker of another machine
    assert elsewhere is not None and elsewhere.id == first
    proc = subprocess.Popen([sys.executable, "-c", JOB_CHILD, str(db.path), socket.gethostname()],
                            stdout=subprocess.PIPE, text=True)
    try:
        held = int(proc.stdout.readline()) if proc.stdout else 0
        assert held != first
        assert jobs.release_dead_local(db) == 0  # alive: its lease holds
        assert jobs.claim(db, "me:1:1", 30) is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert jobs.release_dead_local(db) == 1  # only the dead local holder, not the other machine's
        got = jobs.claim(db, "me:1:1", 30)
        assert got is not None and got.id == held and got.attempts == 2
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
