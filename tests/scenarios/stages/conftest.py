"""Scenario fixtures of the stages feature: the МеталПром sandbox portal with the app installed, under a
frozen clock (time-machine moves the app's clock and the in-process sandbox's together), with helpers to
move deals, read tasks and run jobs until the portal and the app are quiet."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine

from b24app.jobs.worker import Worker
from b24app.portal.client import forget_client
from b24app.settings import document
from b24app.settings.demo import portal_facts
from b24app.stages import items, org
from b24app.stages.demo import sla_demo, stages_demo
from b24app.store import installations
from b24app.store import jobs as jobs_repo
from tests.scenarios.conftest import install

MSK = ZoneInfo("Europe/Moscow")
START = dt.datetime(2026, 10, 30, 14, 50, tzinfo=MSK)  # Friday; Wednesday 4 November is a holiday


def msk(*a: int) -> dt.datetime:
    return dt.datetime(*a, tzinfo=MSK)


@dataclass
class Stage:
    """One МеталПром portal with the app, under a frozen clock."""

    sandbox: Any
    app: Any
    member_id: str
    clock: Any  # time_machine traveller
    hook: str

    # --- time ------------------------------------------------------------------------------------
    def at(self, moment: dt.datetime) -> None:
        """Move the frozen clock to ``moment`` (a millisecond after it: float timestamps must not round
        the instant down into the previous second)."""
        self.clock.move_to(moment + dt.timedelta(milliseconds=1))

    # --- the portal (as its users) ---------------------------------------------------------------
    def rest(self, method: str, params: dict[str, Any] | None = None, user_id: int = 1) -> Any:
        hook = self.hook if user_id == 1 else self.sandbox.webhook(self.member_id, user_id)
        r = requests.post(hook + method + ".json", json=params or {}, timeout=20)
        body = r.json()
        assert r.status_code == 200 and "result" in body, (method, r.status_code, body)
        return body["result"]

    def new_deal(self, title: str, assigned: int, stage: str = "NEW", **fields: Any) -> int:
        return int(self.rest("crm.deal.add", {"fields": {"TITLE": title, "ASSIGNED_BY_ID": assigned,
                                                         "STAGE_ID": stage, "CURRENCY_ID": "RUB", **fields}}))

    def move(self, deal_id: int, stage: str, at: dt.datetime | None = None) -> None:
        if at is not None:
            self.at(at)
        self.rest("crm.deal.update", {"id": deal_id, "fields": {"STAGE_ID": stage}})
        self.settle()

    def deal(self, deal_id: int) -> dict[str, Any]:
        return self.rest("crm.deal.get", {"id": deal_id})

    def tasks(self, deal_id: int) -> list[dict[str, Any]]:
        got = self.rest("tasks.task.list", {"filter": {"UF_CRM_TASK": f"D_{deal_id}"}, "order": {"ID": "ASC"},
                                            "select": ["ID", "TITLE", "DESCRIPTION", "RESPONSIBLE_ID", "DEADLINE",
                                                       "STATUS", "PRIORITY", "AUDITORS", "ACCOMPLICES",
                                                       "CHECKLIST", "XML_ID", "UF_CRM_TASK"]})
        return got["tasks"]

    def checklist(self, task_id: int) -> list[str]:
        return [r["TITLE"] for r in self.rest("task.checklistitem.getlist", {"TASKID": task_id})]

    def notes(self, user_id: int) -> list[dict[str, Any]]:
        return self.sandbox.control("GET", f"/portals/{self.member_id}/notifications?user_id={user_id}")

    # --- the app ---------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return document.load(self.app.db, self.member_id)

    def save_settings(self, doc: dict[str, Any]) -> None:
        document.save(self.app.db, self.member_id, doc, updated_by="test")

    def enqueue(self, kind: str, payload: dict[str, Any] | None = None) -> int:
        job_id, _ = jobs_repo.enqueue(self.app.db, kind, payload, member_id=self.member_id)
        return job_id

    def settle(self, max_shift_s: float = 600.0) -> int:
        """Run jobs until none is due, waiting for the portal's event deliveries in between. A retry
        due later (a backoff) is reached by moving the frozen clock forward, at most ``max_shift_s``."""
        worker = Worker(self.app.services, worker_id="stages-test")
        done = 0
        for _ in range(500):
            self.sandbox.wait_deliveries()
            job = worker.run_once()
            if job is not None:
                done += 1
                continue
            self.sandbox.wait_deliveries()
            if jobs_repo.next_due_in(self.app.db) == 0:
                continue
            due = jobs_repo.next_due_in(self.app.db)
            if due is None or due > max_shift_s:
                return done
            self.clock.shift(due + 0.5)
        raise AssertionError("jobs did not settle: " + json.dumps(jobs_repo.counts(self.app.db)))

    def job_results(self, kind: str) -> list[Any]:
        return [j.result for j in jobs_repo.list_jobs(self.app.db, kind=kind, member_id=self.member_id,
                                                      status=jobs_repo.DONE, limit=1000)]

    def dead(self) -> list[Any]:
        return [(j.kind, j.last_error) for j in jobs_repo.list_jobs(self.app.db, status=jobs_repo.DEAD, limit=50)]


@pytest.fixture
def frozen(sandbox: Any) -> Iterator[Any]:
    """The clock stopped at ``START`` for the app and the (in-process) sandbox; restored afterwards."""
    before = sandbox.control("GET", "/clock")
    sandbox.control("PUT", "/clock", {"offset_s": 0, "frozen": False})
    with time_machine.travel(START + dt.timedelta(milliseconds=1), tick=False) as traveller:
        yield traveller
    sandbox.control("PUT", "/clock", {"offset_s": before.get("offset_s", 0), "frozen": False})


@pytest.fixture
def stage(sandbox: Any, app_factory: Any, frozen: Any) -> Iterator[Stage]:
    """МеталПром portal + the app + the demo settings of "stages" and "sla" (limits off unless a test
    sets them), with generous REST limits: the frozen clock would never drain a leaky bucket."""
    app = app_factory()
    portal = sandbox.new_portal("metalprom")
    m = portal["member_id"]
    install(sandbox, app, m)
    sandbox.control("PUT", f"/portals/{m}/limits", {"drain_per_s": 10_000, "burst": 1_000_000})
    installations.set_limits(app.db, m, drain=10_000, burst=1_000_000)
    forget_client(m)
    facts = portal_facts(app.services, m)
    sla = sla_demo(facts)
    sla["limits"] = []
    sla["payments"]["enabled"] = False
    sla["digest"]["enabled"] = False
    document.save(app.db, m, {"stages": stages_demo(facts), "sla": sla}, updated_by="test")
    st = Stage(sandbox, app, m, frozen, sandbox.webhook(m))
    st.settle()
    yield st
    items.forget_funnels(m)
    org.forget(m)
