"""What the portal sends out: event deliveries, robot calls, lifecycle events, app-page POSTs.

Everything goes as ``application/x-www-form-urlencoded`` with PHP bracket keys (reference §2.2,
§3.2). Deliveries caused by a REST call are collected during that call (one "hit", deduplicating
identical events as the portal's event buffer does) and handed to a background thread pool when
the call ends. There are no retries and no ordering promise; every attempt is recorded with the
handler's answer in the portal's delivery log (``GET /_sandbox/portals/<m>/deliveries``).

Never hold a portal lock while posting: the receiver may call the portal's REST API back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests

from .phpform import http_build_query
from .storage import jdump

if TYPE_CHECKING:
    from .portal import Portal

log = logging.getLogger("b24sandbox.outbound")

DELIVERY_TIMEOUT_S = 10.0


@dataclass
class OutboundJob:
    kind: str  # "event", "robot", "lifecycle", "app_page"
    url: str
    form: dict[str, Any]
    event: str = ""
    client_id: str = ""
    ref_id: int | None = None  # robot run id for robot calls
    query: dict[str, Any] | None = None  # query string (app-page POST)
    dedupe_key: str | None = None
    after: Callable[[DeliveryResult], None] | None = field(default=None, repr=False)


@dataclass
class DeliveryResult:
    delivery_id: int
    status: int | None
    ok: bool
    error: str | None
    response: str
    elapsed_ms: float


class Sender:
    """A small thread pool posting jobs and logging the outcome in the portal's delivery log."""

    def __init__(self, workers: int = 8, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="b24sandbox-sender")
        self.timeout_s = timeout_s
        self._pending = 0
        self._cond = threading.Condition()
        self._closed = False

    def submit(self, portal: Portal, job: OutboundJob) -> None:
        """Queue a job; it is posted by a worker thread."""
        if self._closed:
            return
        with self._cond:
            self._pending += 1
        try:
            self.pool.submit(self._run, portal, job)
        except RuntimeError:  # pool shut down
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def _run(self, portal: Portal, job: OutboundJob) -> None:
        try:
            self.deliver(portal, job)
        except Exception:  # pragma: no cover - a bug in delivery must not kill the worker
            log.exception("delivery failed: %s %s", job.kind, job.url)
        finally:
            with self._cond:
                self._pending -= 1
                self._cond.notify_all()

    def deliver(self, portal: Portal, job: OutboundJob) -> DeliveryResult:
        """Post one job now (in the calling thread) and record it."""
        body = http_build_query(job.form)
        t0 = time.perf_counter()
        status: int | None = None
        error: str | None = None
        text = ""
        try:
            resp = requests.post(
                job.url, params=job.query or None, data=body.encode("utf-8"),
                headers={"Content-Type": "application/x-www-form-urlencoded",
                         "User-Agent": "Bitrix24 Webhook Engine"},
                timeout=(3.05, self.timeout_s), allow_redirects=False,
            )
            status = resp.status_code
            text = resp.text[:4000]
        except requests.Timeout:
            error = "timeout"
        except requests.RequestException as exc:
            error = type(exc).__name__ + ": " + str(exc)[:300]
        elapsed = (time.perf_counter() - t0) * 1000
        ok = status is not None and 200 <= status < 300
        delivery_id = portal.record_delivery({
            "ts": portal.time(), "kind": job.kind, "event": job.event, "client_id": job.client_id,
            "url": job.url, "status": status, "ok": int(ok), "error": error, "elapsed_ms": round(elapsed, 2),
            "body": jdump({"form": job.form, "query": job.query} if job.query else job.form),
            "response": text, "ref_id": job.ref_id,
        })
        result = DeliveryResult(delivery_id, status, ok, error, text, elapsed)
        if job.after is not None:
            try:
                job.after(result)
            except Exception:  # pragma: no cover
                log.exception("after-delivery hook failed")
        if not ok:
            log.info("delivery %s %s -> %s %s", job.kind, job.url, status, error or "")
        return result

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until no job is queued or running; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    @property
    def pending(self) -> int:
        return self._pending

    def close(self) -> None:
        self._closed = True
        self.pool.shutdown(wait=False, cancel_futures=True)


class Hit:
    """Outbound jobs produced during one REST call (or one control action) of one portal."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.jobs: list[OutboundJob] = []
        self._keys: set[str] = set()
        self.offline_notified: set[str] = set()

    def add(self, job: OutboundJob) -> None:
        if job.dedupe_key is not None:
            if job.dedupe_key in self._keys:
                return
            self._keys.add(job.dedupe_key)
        self.jobs.append(job)

    def flush(self) -> None:
        jobs, self.jobs = self.jobs, []
        for job in jobs:
            self.portal.sandbox.sender.submit(self.portal, job)


_local = threading.local()


def current_hit(portal: Portal) -> Hit | None:
    hit: Hit | None = getattr(_local, "hit", None)
    return hit if hit is not None and hit.portal is portal else None


class hit_scope:
    """``with hit_scope(portal): ...`` collects outbound jobs and flushes them on exit (after the
    caller released the portal lock, since this wraps the lock)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal
        self.hit: Hit | None = None
        self._outer: Hit | None = None

    def __enter__(self) -> Hit:
        self._outer = getattr(_local, "hit", None)
        if self._outer is not None and self._outer.portal is self.portal:
            self.hit = self._outer
            return self.hit
        self.hit = Hit(self.portal)
        _local.hit = self.hit
        return self.hit

    def __exit__(self, *exc: object) -> None:
        if self.hit is self._outer:
            return
        _local.hit = self._outer
        assert self.hit is not None
        self.hit.flush()


def queue_job(portal: Portal, job: OutboundJob) -> None:
    """Add a job to the current hit of this portal, or send it at once when there is none."""
    hit = current_hit(portal)
    if hit is not None:
        hit.add(job)
    else:
        portal.sandbox.sender.submit(portal, job)
