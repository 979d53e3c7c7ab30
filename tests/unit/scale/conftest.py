"""Fixtures of the scale tests: a PostgreSQL store with procrastinate installed, and procrastinate
workers run in threads of the test process (or as ``b24app worker`` subprocesses)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from b24app.config import Config
from b24app.context import Services
from b24app.jobs.pq import schema
from b24app.jobs.pq.runner import run_worker
from b24app.jobs.pq.tasks import Stats
from tests.unit.scale import kinds

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def pq_services(config: Config, pg_url: str) -> Iterator[Services]:
    """PostgreSQL store (a fresh schema) with our migrations and procrastinate's schema."""
    config.database_url = pg_url
    config.worker_heartbeat = 0.5
    config.worker_stalled_after = 2.0
    config.recover_every = 1.0
    svc = Services.open(config)
    schema.install(svc.db)
    svc.db.execute(kinds.TABLE)
    yield svc
    svc.db.close()


class ThreadWorker:
    """A procrastinate worker in a thread of this process, with its own services."""

    def __init__(self, config: Config, concurrency: int = 1) -> None:
        self.services = Services.open(config, upgrade=False)
        self.stop = threading.Event()
        self.stats = Stats()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(concurrency,), daemon=True)
        self.thread.start()

    def _run(self, concurrency: int) -> None:
        try:
            run_worker(self.services, concurrency=concurrency, stop=self.stop, signals=False, stats=self.stats)
        except BaseException as exc:  # reported by the fixture
            self.error = exc

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        assert not self.thread.is_alive(), "worker thread did not stop"
        self.services.db.close()
        assert self.error is None, self.error


@pytest.fixture
def pq_worker(pq_services: Services) -> Iterator[Callable[..., ThreadWorker]]:
    started: list[ThreadWorker] = []

    def start(concurrency: int = 1) -> ThreadWorker:
        w = ThreadWorker(pq_services.config, concurrency)
        started.append(w)
        return w

    yield start
    for w in started:
        w.close()


def worker_env(config: Config, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    env.update({
        "B24APP_DATABASE_URL": config.database_url, "B24APP_INSTANCE_PATH": config.instance_path,
        "B24APP_CLIENT_ID": config.client_id, "B24APP_CLIENT_SECRET": config.client_secret,
        "B24APP_SECRET_KEY": config.secret_key, "B24APP_LOG_FORMAT": "json", "B24APP_LOG_LEVEL": "WARNING",
        "B24APP_EXTRA_PLUGINS": "tests.unit.scale.kinds", "PYTHONPATH": str(ROOT),
        "B24APP_WORKER_HEARTBEAT": str(config.worker_heartbeat),
        "B24APP_WORKER_STALLED_AFTER": str(config.worker_stalled_after),
        "B24APP_RECOVER_EVERY": str(config.recover_every), "B24APP_WORKER_LEASE": str(config.worker_lease),
    })
    env.update(extra)
    return env


@pytest.fixture
def spawn_worker(pq_services: Services) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def spawn(*args: str, **env: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen([sys.executable, "-m", "b24app", "worker", *args], cwd=ROOT,
                                env=worker_env(pq_services.config, **env), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        procs.append(proc)
        return proc

    yield spawn
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate} (last: {last!r})")
