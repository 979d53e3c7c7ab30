"""A whole stack on loopback, as separate processes: the sandbox portal and 1C bases (``python -m
b24sandbox serve``), the app (gunicorn or the development server), workers and the scheduler.
Everything talks over real HTTP on 127.0.0.1; used by the benchmarks (``bench/``) and the fault
soak (``b24app soak``), which must kill and restart real processes.

The store is SQLite under the stack's directory by default. Given a PostgreSQL ``database_url``,
the processes get ``B24APP_DATABASE_URL`` instead (by default a fresh schema of that database, made
for the stack and dropped on stop unless kept): workers are then procrastinate workers and periodic
tasks run in them, so no scheduler process is started (docs/scaling.md).

The app never imports the sandbox: it is started as a program and driven through its control API
(``/_sandbox/...``, docs/sandbox.md).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

SCOPES = ["crm", "bizproc", "task", "im", "user", "department", "placement", "disk", "timeman", "calendar"]
REPO_ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONF = REPO_ROOT / "install" / "gunicorn.conf.py"


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_search_path(url: str, schema: str) -> str:
    """``url`` with its ``options`` replaced by ``-csearch_path=<schema>`` (libpq URL form)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _pg(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("SET lock_timeout = '20s'")
        conn.execute(sql)  # type: ignore[arg-type]


class Stack:
    """Processes of one loopback installation, their logs under ``root`` (removed on stop unless
    ``keep``). Each process is remembered with its command line, so it can be killed and started
    again under the same name (the app keeps its port: the portal knows its URLs).

    ``database_url`` (PostgreSQL) replaces the SQLite file; with ``fresh_schema`` (the default) the
    stack makes its own schema in that database on first use and drops it on stop unless ``keep``."""

    def __init__(self, root: Path | None = None, *, keep: bool = False, database_url: str | None = None,
                 fresh_schema: bool = True) -> None:
        self.root = Path(root or tempfile.mkdtemp(prefix="b24stack-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.keep = keep
        self.sandbox_port = free_port()
        self.app_port = free_port()
        self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.app_url = f"http://127.0.0.1:{self.app_port}"
        self.client_id = f"local.stack{secrets.token_hex(3)}.app"
        self.client_secret = secrets.token_hex(12)
        self.secret_key = secrets.token_hex(16)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, list[str]] = {}
        self.extra_env: dict[str, str] = {}
        self._services: Any = None
        self.admin_url = database_url
        self.schema = f"b24stack_{secrets.token_hex(5)}" if database_url and fresh_schema else None
        self.database_url = with_search_path(database_url, self.schema) if database_url and self.schema else database_url
        self._schema_made = False

    @property
    def postgres(self) -> bool:
        """The store is PostgreSQL (procrastinate workers, no scheduler process)."""
        return bool(self.database_url)

    def prepare_database(self) -> None:
        """Make the stack's own schema (once), when it has one."""
        if self.schema and self.admin_url and not self._schema_made:
            _pg(self.admin_url, f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
            self._schema_made = True

    def drop_database(self) -> None:
        if self.schema and self.admin_url and self._schema_made:
            try:
                _pg(self.admin_url, f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")
            except Exception as exc:  # a leftover schema is reported, not fatal
                print(f"devstack: could not drop schema {self.schema}: {exc}", file=sys.stderr)
            self._schema_made = False

    # --- processes ---------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        """The environment of every app process (and of ``b24app`` commands run for this stack)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("B24APP_")}
        env.update({
            "B24APP_CLIENT_ID": self.client_id, "B24APP_CLIENT_SECRET": self.client_secret,
            "B24APP_PUBLIC_URL": self.app_url, "B24APP_OAUTH_URL": self.sandbox_url + "/",
            "B24APP_INSTANCE_PATH": str(self.root / "instance"), "B24APP_SECRET_KEY": self.secret_key, "B24APP_ALLOW_PRIVATE_NETWORKS": "1",
            "B24APP_LOG_LEVEL": "WARNING", "B24APP_LOG_FORMAT": "json",
        })
        if self.database_url:
            env["B24APP_DATABASE_URL"] = self.database_url
        else:
            env["B24APP_DATABASE"] = str(self.root / "app.sqlite")
        env.update(self.extra_env)
        return env

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``args`` as process ``name``; its output goes to ``<root>/<name>.log`` (appended)."""
        log = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen(args, env=env or self.env(), stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(REPO_ROOT))
        log.close()
        self.procs[name] = proc
        self.commands[name] = list(args)
        return proc

    def start_sandbox(self) -> None:
        self.spawn("sandbox", [sys.executable, "-m", "b24sandbox", "serve", "--port", str(self.sandbox_port),
                               "--data", str(self.root / "sandbox")])
        self.wait_http(self.sandbox_url + "/_sandbox/portals", "sandbox")

    def upgrade(self) -> None:
        """``b24app db upgrade`` for this stack's store (with PostgreSQL also procrastinate's schema)."""
        self.prepare_database()
        out = self.b24app("db", "upgrade", timeout=300)
        if out.returncode != 0:
            raise RuntimeError(f"db upgrade failed: {out.stderr[-2000:]}")

    def start_app(self, *, gunicorn: bool = True, web_workers: int = 2, threads: int = 4) -> None:
        """The web part: gunicorn (production) or ``b24app serve``; migrations are applied first."""
        if gunicorn:
            args = [sys.executable, "-m", "gunicorn"]
            if GUNICORN_CONF.exists():
                args += ["-c", str(GUNICORN_CONF)]
            args += ["-b", f"127.0.0.1:{self.app_port}", "-w", str(web_workers), "--threads", str(threads),
                     "-k", "gthread", "--access-logfile", "/dev/null", "b24app:create_app()"]
        else:
            args = [sys.executable, "-m", "b24app", "serve", "--port", str(self.app_port)]
        self.upgrade()
        self.spawn("app", args)
        self.wait_http(self.app_url + "/healthz", "app")

    def start_worker(self, name: str = "worker", concurrency: int = 1, *args: str) -> subprocess.Popen[bytes]:
        return self.spawn(name, [sys.executable, "-m", "b24app", "worker", "--concurrency", str(concurrency), *args])

    def start_scheduler(self, name: str = "scheduler") -> subprocess.Popen[bytes] | None:
        """The APScheduler process (SQLite). With PostgreSQL there is none: every procrastinate
        worker defers the periodic tasks and the database keeps one run per period."""
        if self.postgres:
            return None
        return self.spawn(name, [sys.executable, "-m", "b24app", "scheduler"])

    def children(self, name: str) -> list[int]:
        """Process ids of the children of process ``name`` (gunicorn's web processes under "app")."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return []
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
        """Send ``sig`` to process ``name`` and wait for it (SIGKILL after ``timeout``)."""
        self.kill_all([name], sig, timeout)

    def kill_all(self, names: list[str], sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        """Send ``sig`` to every named process at once, then wait for each (SIGKILL after ``timeout``)."""
        procs = [p for p in (self.procs.get(n) for n in names) if p is not None and p.poll() is None]
        for proc in procs:
            proc.send_signal(sig)
        deadline = time.monotonic() + timeout
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def restart(self, name: str) -> subprocess.Popen[bytes]:
        """Start process ``name`` again with the command it was started with."""
        self.kill(name)
        proc = self.spawn(name, self.commands[name])
        if name == "app":
            self.wait_http(self.app_url + "/healthz", "app")
        return proc

    def wait_http(self, url: str, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url, timeout=2).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{what} did not come up at {url}; see {self.root}")

    def services(self) -> Any:
        """The app's store and per-portal clients, opened in this process (b24app.context.Services)."""
        if self._services is None:
            from b24app.config import Config
            from b24app.context import Services

            self._services = Services.open(Config.from_env(self.env()))
        return self._services

    def stop(self) -> None:
        """Stop every process (SIGTERM, then SIGKILL), close the store, remove ``root`` unless kept."""
        for name in reversed(list(self.procs)):
            self.kill(name, signal.SIGTERM)
        if self._services is not None:
            from b24app.portal.client import close_all

            close_all()
            self._services.db.close()
            self._services = None
        if not self.keep:
            self.drop_database()
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- sandbox control ---------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None, timeout: float = 300) -> Any:
        """A call of the sandbox's control API (``/_sandbox`` + ``path``); raises on 4xx/5xx."""
        resp = requests.request(method, self.sandbox_url + "/_sandbox" + path, json=body, timeout=timeout)
        if resp.status_code >= 400:
            raise RuntimeError(f"sandbox {method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    def new_portal(self, seed: str = "empty", plan: str = "standard", domain: str | None = None) -> dict[str, Any]:
        domain = domain or f"stack{secrets.token_hex(3)}.bitrix24.ru"
        return self.control("POST", "/portals", {"domain": domain, "seed": seed, "plan": plan})

    def install(self, member_id: str, *, wait_registered: bool = True, timeout: float = 120) -> None:
        """Register the app on the portal and install it; wait until a worker has registered its
        robots and events (a worker must be running)."""
        self.control("POST", f"/portals/{member_id}/apps", {
            "client_id": self.client_id, "client_secret": self.client_secret,
            "install_url": self.app_url + "/install", "app_url": self.app_url + "/", "scopes": SCOPES, "ui": True})
        self.control("POST", f"/portals/{member_id}/apps/{self.client_id}/install")
        if not wait_registered:
            return
        from b24app.store import installations

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            inst = installations.get(self.services().db, member_id)
            if inst is not None and inst.registered_at:
                return
            time.sleep(0.3)
        raise RuntimeError(f"portal {member_id} was not registered in {timeout} s (is a worker running?)")

    def b24app(self, *args: str, timeout: float = 600, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``b24app <args>`` as a process with this stack's environment."""
        return subprocess.run([sys.executable, "-m", "b24app", *args], env=self.env(), capture_output=True,
                              text=True, timeout=timeout, input=input, cwd=str(REPO_ROOT))
