"""``b24app doctor``: is this deployment configured and alive? One line per check.

Checks: the configuration's required values, the store (reachable, our migrations and, with
PostgreSQL, procrastinate's schema current), the public URL answers ``/healthz``, the OAuth server
answers, each active portal's token works (a cheap ``app.info`` through the portal client, which
refreshes an expired token the usual single-flight way), workers (PostgreSQL: live heartbeats;
both: no job waits long) and the scheduler (SQLite: its lease is held; PostgreSQL: not needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from b24app import clock
from b24app.config import Config

WAIT_LIMIT_S = 300.0  # a due job waiting longer than this means no worker takes jobs


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    level: str = ""  # pass | fail | info

    def __post_init__(self) -> None:
        self.level = self.level or ("pass" if self.ok else "fail")

    def line(self) -> str:
        return f"{self.level.upper():<5} {self.name}: {self.detail}"

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "level": self.level, "detail": self.detail}


def _config(config: Config) -> list[Check]:
    missing = [name for name, value in (("B24APP_CLIENT_ID", config.client_id),
                                        ("B24APP_CLIENT_SECRET", config.client_secret),
                                        ("B24APP_SECRET_KEY", config.secret_key)) if not value]
    if missing:
        return [Check("config", False, "not set: " + ", ".join(missing))]
    return [Check("config", True, f"client {config.client_id}, public URL {config.public_url}")]


def _http(name: str, url: str, timeout: float, want_ok_json: bool = False) -> Check:
    try:
        resp = requests.get(url, timeout=timeout)
    except requests.RequestException as exc:
        return Check(name, False, f"{url}: {exc.__class__.__name__}: {str(exc)[:200]}")
    if want_ok_json:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        good = resp.status_code == 200 and isinstance(body, dict) and body.get("ok") is True
        return Check(name, good, f"{url}: HTTP {resp.status_code} {str(body)[:160] if not good else 'ok'}")
    return Check(name, resp.status_code < 500, f"{url}: HTTP {resp.status_code}")


def _store(services: Any) -> list[Check]:
    from b24app.jobs.pq import schema
    from b24app.store import migrations

    db = services.db
    out = []
    pending = migrations.pending(db)
    out.append(Check("migrations", not pending,
                     "current" if not pending else "pending: " + ", ".join(pending) + " (run `b24app db upgrade`)"))
    if db.dialect == "postgres":
        st = schema.status(db)
        if st.current:
            detail = f"procrastinate schema {st.recorded}"
        elif not st.installed:
            detail = "procrastinate schema missing (run `b24app db upgrade`)"
        else:
            detail = f"procrastinate schema {st.recorded or 'unrecorded'}, package {st.package}"
        out.append(Check("queue schema", st.current, detail))
    return out


def _processes(services: Any) -> list[Check]:
    from b24app.store import jobs as jobs_repo
    from b24app.store import leases

    db = services.db
    out = []
    oldest = db.scalar("SELECT MIN(run_at) AS at FROM jobs WHERE status = ?", (jobs_repo.QUEUED,))
    waiting = 0.0 if oldest is None else clock.now() - float(oldest)
    if waiting > WAIT_LIMIT_S:
        out.append(Check("jobs", False, f"a due job waits for {int(waiting)} s: is `b24app worker` running?"))
    else:
        counts = jobs_repo.counts(db)
        out.append(Check("jobs", True, f"no job waits longer than {int(WAIT_LIMIT_S)} s; "
                         f"queued {counts['queued']}, running {counts['running']}, dead {counts['dead']}"))
    if db.dialect == "postgres":
        from b24app.jobs.pq import queue

        if queue.enabled(db):
            alive = int(db.scalar(
                "SELECT COUNT(*) AS n FROM procrastinate_workers WHERE last_heartbeat >= now() - make_interval(secs => ?)",
                (float(services.config.worker_stalled_after),)) or 0)
            out.append(Check("workers", alive > 0, f"{alive} worker(s) with a live heartbeat" if alive else
                             "no worker has a live heartbeat: start `b24app worker`"))
            last = db.scalar("SELECT MAX(defer_timestamp) AS t FROM procrastinate_periodic_defers")
            out.append(Check("scheduler", True, "not needed with PostgreSQL (workers defer periodic tasks); last "
                             f"periodic run deferred {clock.iso(float(last)) if last else 'never'}", "info"))
        return out
    holder = leases.holder_of(db, "scheduler")
    out.append(Check("scheduler", holder is not None, f"running ({holder})" if holder else
                     "no scheduler holds its lease: start `b24app scheduler` (one per SQLite store)"))
    out.append(Check("workers", True, "SQLite: workers leave no heartbeat; see the jobs line", "info"))
    return out


def _portals(services: Any) -> list[Check]:
    from b24app.store import installations

    out = []
    for inst in installations.list_active(services.db):
        try:
            info = services.client(inst.member_id).call("app.info") or {}
        except Exception as exc:  # every failure is a finding, not a crash
            out.append(Check(f"portal {inst.domain}", False, f"{exc.__class__.__name__}: {str(exc)[:200]}"))
            continue
        out.append(Check(f"portal {inst.domain}", True, f"token valid (app.info: {info.get('CODE') or info.get('ID') or 'ok'})"))
    if not out:
        out.append(Check("portals", True, "no active portal yet", "info"))
    return out


def run_checks(config: Config, *, timeout: float = 10.0) -> list[Check]:
    """Every check, in order; a store that cannot be opened stops the store-bound checks."""
    from b24app.context import Services

    config.http_timeout = min(config.http_timeout, timeout)
    checks = _config(config)
    services = None
    try:
        services = Services.open(config, upgrade=False)
        services.db.scalar("SELECT 1 AS one")
        checks.append(Check("database", True, f"{services.db.dialect} reachable"))
    except Exception as exc:
        services = None
        checks.append(Check("database", False, f"{exc.__class__.__name__}: {str(exc)[:200]}"))
    if services is not None:
        checks += _store(services)
    checks.append(_http("public URL", config.url("/healthz"), timeout, want_ok_json=True))
    checks.append(_http("OAuth server", config.oauth_url, timeout))
    if services is not None:
        checks += _portals(services)
        checks += _processes(services)
    return checks
