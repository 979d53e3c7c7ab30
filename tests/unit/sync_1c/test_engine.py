"""The engine: one sync per base at a time (a lease shared by jobs and the CLI; a dead holder's lease
is taken over), the run's status (cursors, lag, last error), and the scheduler's enqueue-only task."""

from __future__ import annotations

import subprocess
import sys

import pytest

from b24app.context import Services
from b24app.errors import Action, Busy
from b24app.settings import document
from b24app.store import installations, leases
from b24app.store import jobs as jobs_repo
from b24app.store.leases import dead_local_holder, holder_id
from b24app.sync_1c import credentials, engine
from b24app.sync_1c.plugin import schedule_pulls
from tests.unit.sync_1c.conftest import PASSWORD, USER, OneC

M = "member-engine"


def connect(services: Services, onec: OneC, profile: str = "bp30") -> str:
    base = onec.base(profile)
    document.save(services.db, M, {"onec": {"bases": [{
        "name": base["name"], "url": base["odata_url"], "user": USER, "password": "***", "profile": profile}]}})
    credentials.store(services.db, services.secrets, M, base["name"], PASSWORD)
    return base["name"]


def test_a_run_reads_both_streams_and_reports_its_cursors(services: Services, onec: OneC) -> None:
    services.config.allow_private_networks = True
    name = connect(services, onec)
    report = engine.run_base(services, M, name)
    assert report["invoices"]["slices"] >= 1 and report["payments"]["cursor"] == report["signpost"]
    got = engine.status(services, M, document.load(services.db, M))
    assert got[0]["base"] == name and got[0]["last_error"] is None and got[0]["running"] is None
    assert got[0]["streams"]["payments"]["cursor"] == report["signpost"] and got[0]["streams"]["payments"]["lag_s"] >= 0


def test_one_sync_per_base_and_a_dead_holder_is_taken_over(services: Services, onec: OneC) -> None:
    services.config.allow_private_networks = True
    name = connect(services, onec)
    lock = engine.lock_name(M, name)
    assert leases.try_acquire(services.db, lock, "other-host:1:1", 60)
    with pytest.raises(Busy) as exc:
        engine.run_base(services, M, name)
    assert exc.value.action == Action.RETRY  # the job tries again later
    leases.release(services.db, lock, "other-host:1:1")
    # a process of this machine that died holding the lease does not block the base for the TTL
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{holder_id().split(':')[0]}:{gone.stdout.strip()}:1"
    assert dead_local_holder(dead)
    assert leases.try_acquire(services.db, lock, dead, 600)
    engine.run_base(services, M, name)
    assert leases.holder_of(services.db, lock) is None


def test_a_failing_run_records_the_error_for_status(services: Services, onec: OneC) -> None:
    services.config.allow_private_networks = True
    name = connect(services, onec)
    onec.control("PUT", f"/{name}/faults", {"down": True})
    with pytest.raises(Exception) as exc:
        engine.run_base(services, M, name)
    assert getattr(exc.value, "action", None) == Action.RETRY
    got = engine.status(services, M, document.load(services.db, M))
    assert "503" in got[0]["last_error"] and got[0]["last_error_at"]
    onec.control("DELETE", f"/{name}/faults")


def test_the_scheduler_only_enqueues_one_pull_per_base_and_period(services: Services, onec: OneC) -> None:
    name = connect(services, onec)
    installations.save_verified(services.db, member_id=M, domain="engine.bitrix24.ru",
                                client_endpoint="https://engine.bitrix24.ru/rest/", server_endpoint="",
                                access_token="a", refresh_token="r", expires_at=0, application_token="t", scopes="crm",
                                user_id=1)
    schedule_pulls(services)
    schedule_pulls(services)
    pulls = jobs_repo.list_jobs(services.db, kind="sync_1c.pull", member_id=M)
    assert len(pulls) == 1 and pulls[0].payload == {"base": name} and pulls[0].lock_key == f"onec:{M}:{name}"
