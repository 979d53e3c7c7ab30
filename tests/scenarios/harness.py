"""Scenario harness: the sandbox portal, the app (Flask over real HTTP) and workers, wired as in
production but on loopback, in one test process (workers may also run as subprocesses)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

from b24app import create_app
from b24app.config import Config
from b24app.context import Services
from b24app.jobs.worker import Worker
from b24app.portal.client import close_all
from b24app.store import jobs as jobs_repo

_domains = itertools.count(1)


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or predicate} (last: {last!r})")


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url

    def control(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        resp = requests.request(method, self.url + "/_sandbox" + path, json=body, timeout=60)
        assert resp.status_code in ok, f"{method} {path}: {resp.status_code} {resp.text[:500]}"
        return resp.json() if resp.content else None

    def new_portal(self, seed: str = "empty", plan: str = "standard") -> dict[str, Any]:
        domain = f"t{next(_domains)}-{os.getpid()}.bitrix24.ru"
        return self.control("POST", "/portals", {"domain": domain, "seed": seed, "plan": plan})

    def webhook(self, member_id: str, user_id: int = 1) -> str:
        return self.control("POST", f"/portals/{member_id}/webhooks", {"user_id": user_id})["url"]

    def wait_deliveries(self, timeout: float = 20.0) -> None:
        self.control("POST", "/wait-deliveries", {"timeout_s": timeout})


@dataclass
class AppUnderTest:
    """The app served over HTTP in a thread, with its store; workers run on demand."""

    services: Services
    url: str
    server: Any
    thread: threading.Thread
    workers: list[Worker] = field(default_factory=list)
    worker_threads: list[threading.Thread] = field(default_factory=list)

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def db(self) -> Any:
        return self.services.db

    def drain(self, timeout: float = 60.0) -> int:
        """Run jobs in this thread until none is queued or running (and none becomes due soon)."""
        w = Worker(self.services, worker_id="drain")
        done = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = w.run_once()
            if job is not None:
                done += 1
                continue
            counts = jobs_repo.counts(self.db)
            due = jobs_repo.next_due_in(self.db)
            if counts["running"] == 0 and (due is None or due > 5):
                return done
            time.sleep(0.05)
        raise AssertionError("jobs did not settle in time: " + str(jobs_repo.counts(self.db)))

    def start_workers(self, n: int = 1) -> None:
        for i in range(n):
            w = Worker(self.services, worker_id=f"bg{i}")
            t = threading.Thread(target=w.run, kwargs={"poll_s": 0.05}, daemon=True)
            self.workers.append(w)
            self.worker_threads.append(t)
            t.start()

    def stop(self) -> None:
        for w in self.workers:
            w.stop_event.set()
        for t in self.worker_threads:
            t.join(10)
        self.server.shutdown()
        self.thread.join(10)
        close_all()
        self.services.db.close()

    def env(self) -> dict[str, str]:
        """Environment for subprocesses (workers) that share this app's store."""
        c = self.config
        env = dict(os.environ)
        env.update({
            "B24APP_CLIENT_ID": c.client_id, "B24APP_CLIENT_SECRET": c.client_secret,
            "B24APP_PUBLIC_URL": c.public_url, "B24APP_OAUTH_URL": c.oauth_url,
            "B24APP_DATABASE": str(c.sqlite_path), "B24APP_INSTANCE_PATH": c.instance_path,
            "B24APP_SECRET_KEY": c.secret_key, "B24APP_LOG_FORMAT": "json", "B24APP_HTTP_TIMEOUT": "10",
            "B24APP_ALLOW_PRIVATE_NETWORKS": "1" if c.allow_private_networks else "0",
        })
        return env

    def spawn_worker(self, *args: str, lease: float = 120.0) -> subprocess.Popen[bytes]:
        env = self.env() | {"B24APP_WORKER_LEASE": str(lease)}
        return subprocess.Popen([sys.executable, "-m", "b24app", "worker", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_app(tmp: Path, sandbox_url: str, client_id: str, client_secret: str) -> AppUnderTest:
    config = Config.from_env({}, instance_path=str(tmp / "instance"), client_id=client_id,
                             client_secret=client_secret, secret_key="scenario-secret",
                             oauth_url=sandbox_url + "/", http_timeout=15.0, allow_private_networks=True)
    app = create_app(config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    config.public_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return AppUnderTest(app.extensions["b24app"], config.public_url, server, thread)


def run_soak(*args: str, timeout: float) -> tuple[int, str, str]:
    """``b24app soak`` as an operator runs it, in its own process group: whatever happens, no process of
    its stack survives. Returns (exit code, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "b24app", "soak", *args], cwd=root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
        return proc.returncode, stdout, stderr
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)
