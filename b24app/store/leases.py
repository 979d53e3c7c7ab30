"""Named leases: cross-process locks with an expiry, so a dead holder never blocks forever
(token refresh per portal, one sync per 1C base, the scheduler singleton). :func:`held` also takes
over at once a lease whose holder names a process of this machine that no longer exists
(``host:pid:...``, e.g. a worker killed with SIGKILL), instead of waiting out its expiry."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from b24app import clock
from b24app.errors import Busy
from b24app.store.db import Database


def try_acquire(db: Database, name: str, holder: str, ttl_s: float) -> bool:
    """Take or renew the lease; one atomic statement, so two processes can never both win."""
    now = clock.now()
    rows = db.query(
        """INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
           WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
           RETURNING holder""",
        (name, holder, now + ttl_s, now),
    )
    return bool(rows) and rows[0]["holder"] == holder


def release(db: Database, name: str, holder: str) -> None:
    db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))


def holder_of(db: Database, name: str) -> str | None:
    row = db.one("SELECT holder, expires_at FROM leases WHERE name = ?", (name,))
    if row is None or row["expires_at"] <= clock.now():
        return None
    return row["holder"]


def dead_local_holder(holder: str) -> bool:
    """True when ``holder`` (``host:pid:...``) names a process of this machine that no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def holder_id() -> str:
    """This thread of this process on this machine (``host:pid:thread``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def acquire(db: Database, name: str, holder: str, ttl_s: float, wait_s: float = 0.0, poll_s: float = 0.05) -> None:
    """Take the lease, waiting up to ``wait_s``, or raise :class:`Busy` (a job then retries). A lease
    left by a dead process of this machine is taken over at once instead of waiting for its expiry."""
    deadline = time.monotonic() + wait_s
    while not try_acquire(db, name, holder, ttl_s):
        other = holder_of(db, name) or ""
        if other and dead_local_holder(other):
            release(db, name, other)
            continue
        if time.monotonic() >= deadline:
            raise Busy(f"lease {name} is held by {other or 'another process'}")
        time.sleep(poll_s)


@contextmanager
def held(db: Database, name: str, holder: str, ttl_s: float, wait_s: float = 0.0,
         poll_s: float = 0.05) -> Iterator[None]:
    """Hold the lease for the block; wait up to ``wait_s`` for it, else raise :class:`Busy`."""
    acquire(db, name, holder, ttl_s, wait_s, poll_s)
    try:
        yield
    finally:
        release(db, name, holder)


@contextmanager
def renewing(db: Any, name: str, ttl_s: float, wait_s: float = 30.0) -> Iterator[str]:
    """Hold ``name`` for a long block, renewed every third of ``ttl_s`` by a background thread, so a
    holder that dies frees it within one TTL whatever the length of the work."""
    holder = holder_id()
    acquire(db, name, holder, ttl_s, wait_s, poll_s=0.1)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl_s / 3):
            try_acquire(db, name, holder, ttl_s)

    beat = threading.Thread(target=renew, daemon=True, name=f"lease:{name}")
    beat.start()
    try:
        yield holder
    finally:
        stop.set()
        beat.join(5)
        release(db, name, holder)
