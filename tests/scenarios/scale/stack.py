"""A multi-process deployment on loopback for scenario tests: PostgreSQL (a fresh schema), N web
processes (gunicorn workers behind one port, as install/ runs them) and M ``b24app worker``
processes, against the session's sandbox. Everything talks over real HTTP; the test process only
reads the shared store to check invariants."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

from b24app.config import Config
from b24app.context import Services
from b24app.store import installations
from tests.scenarios.conftest import SCOPES
from tests.scenarios.harness import Sandbox, wait_for

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgStack:
    def __init__(self, sandbox: Sandbox, pg_url: str, root: Path, *, lease_s: float = 6.0) -> None:
        self.sandbox = sandbox
        self.pg_url = pg_url
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.client_id = f"local.scale{secrets.token_hex(3)}.app"
        self.client_secret = secrets.token_hex(10)
        self.lease_s = lease_s
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.services: Services | None = None

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
        env.update({
            "B24APP_CLIENT_ID": self.client_id, "B24APP_CLIENT_SECRET": self.client_secret,
            "B24APP_PUBLIC_URL": self.url, "B24APP_OAUTH_URL": self.sandbox.url + "/",
            "B24APP_DATABASE_URL": self.pg_url, "B24APP_INSTANCE_PATH": str(self.root / "instance"),
            "B24APP_SECRET_KEY": "scale-secret", "B24APP_ALLOW_PRIVATE_NETWORKS": "1",
            "B24APP_LOG_LEVEL": os.environ.get("SCALE_LOG_LEVEL", "WARNING"), "B24APP_LOG_FORMAT": "json",
            "B24APP_HTTP_TIMEOUT": "15",
            "B24APP_WORKER_LEASE": str(self.lease_s), "B24APP_WORKER_HEARTBEAT": "1",
            "B24APP_WORKER_STALLED_AFTER": "3", "B24APP_RECOVER_EVERY": "2", "PYTHONPATH": str(ROOT),
        })
        return env

    @property
    def db(self) -> Any:
        assert self.services is not None
        return self.services.db

    def cli(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "b24app", *args], env=self.env(), cwd=ROOT, text=True,
                              capture_output=True, timeout=timeout)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env=self.env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs[name] = proc
        return proc

    def start(self, *, web: int = 2, workers: int = 3, concurrency: int = 1) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.cli("db", "upgrade")
        self._spawn("web", [sys.executable, "-m", "gunicorn", "-c", "install/gunicorn.conf.py", "-b",
                            f"127.0.0.1:{self.port}", "-w", str(web), "--threads", "4",
                            "--access-logfile", "/dev/null", "b24app:create_app()"])
        wait_for(self._healthy, timeout=60, interval=0.2, what="web processes answer /healthz")
        for i in range(workers):
            self.start_worker(f"worker{i}", concurrency)
        config = Config.from_env({}, database_url=self.pg_url, instance_path=str(self.root / "instance"),
                                 client_id=self.client_id, client_secret=self.client_secret,
                                 secret_key="scale-secret", oauth_url=self.sandbox.url + "/", public_url=self.url,
                                 allow_private_networks=True)
        self.services = Services.open(config, upgrade=False)

    def _healthy(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, name: str, concurrency: int = 1) -> subprocess.Popen[bytes]:
        return self._spawn(name, [sys.executable, "-m", "b24app", "worker", "--concurrency", str(concurrency)])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(30)

    def web_pids(self) -> set[int]:
        """The gunicorn worker processes (children of the master)."""
        master = self.procs["web"].pid
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)
        return {int(p) for p in out.stdout.split()}

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)
        if self.services is not None:
            self.services.db.close()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in self.root.glob("*.log"))

    # --- portals --------------------------------------------------------------------------------
    def install(self, member_id: str) -> None:
        """The portal's install flow; the web process stores it, a worker registers the app."""
        self.sandbox.control("POST", f"/portals/{member_id}/apps", {
            "client_id": self.client_id, "client_secret": self.client_secret,
            "install_url": self.url + "/install", "scopes": SCOPES, "ui": True})
        res = self.sandbox.control("POST", f"/portals/{member_id}/apps/{self.client_id}/install")
        assert res["installed"], res

    def registered(self, member_ids: list[str]) -> bool:
        got = {i.member_id for i in installations.list_all(self.db) if i.registered_at}
        return set(member_ids) <= got
