"""Scenario fixtures of lead distribution: the МеталПром sandbox portal with the app installed and the
demo settings loaded, at a working moment (time-machine moves the app's clock and the in-process
sandbox's together: the seed's "today", Иванов's vacation and the work schedules agree)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine

from b24app.leads import store
from b24app.portal.client import forget_client
from b24app.settings import document
from b24app.settings.demo import portal_facts
from b24app.store import installations
from b24sandbox.seed import metalprom
from tests.scenarios.conftest import install

MSK = ZoneInfo("Europe/Moscow")
START = dt.datetime(2026, 10, 6, 11, 0, tzinfo=MSK)  # Tuesday, a working day


@pytest.fixture(autouse=True)
def _quiet_http_client_logs() -> Iterator[None]:
    """fast-bitrix24 logs every request and answer at DEBUG: thousands of lines per scenario."""
    logger = logging.getLogger("fast_bitrix24")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@dataclass
class Metalprom:
    sandbox: Any
    app: Any
    member_id: str
    hook: str
    story: dict[str, Any]
    clock: Any

    # --- the portal, as its users ------------------------------------------------------------------
    def rest(self, method: str, params: dict[str, Any] | None = None, user_id: int = 1) -> Any:
        hook = self.hook if user_id == 1 else self.sandbox.webhook(self.member_id, user_id)
        r = requests.post(hook + method + ".json", json=params or {}, timeout=30)
        body = r.json()
        assert r.status_code == 200 and "result" in body, (method, r.status_code, body)
        return body["result"]

    def leads(self, first_id: int, select: tuple[str, ...] = ("ID", "SOURCE_ID", "ASSIGNED_BY_ID", "STATUS_ID"),
              ) -> dict[int, dict[str, Any]]:
        """Every lead from ``first_id`` on (paged by ``>ID``)."""
        out: dict[int, dict[str, Any]] = {}
        last = first_id - 1
        while True:
            rows = self.rest("crm.lead.list", {"filter": {">ID": last}, "select": list(select), "start": -1,
                                               "order": {"ID": "ASC"}})
            out.update({int(r["ID"]): r for r in rows})
            if len(rows) < 50:
                return out
            last = int(rows[-1]["ID"])

    def lead(self, lead_id: int) -> dict[str, Any]:
        return self.rest("crm.lead.get", {"id": lead_id})

    def add_lead(self, source: str, **fields: Any) -> int:
        fields.setdefault("TITLE", f"Заявка {source}")
        fields.setdefault("ASSIGNED_BY_ID", 1)
        return int(self.rest("crm.lead.add", {"fields": {"SOURCE_ID": source, "STATUS_ID": "NEW", **fields}}))

    def comments(self, lead_id: int, entity: str = "lead") -> list[dict[str, Any]]:
        return self.rest("crm.timeline.comment.list", {"filter": {"ENTITY_ID": lead_id, "ENTITY_TYPE": entity}})

    def notifications(self, user_id: int | None = None) -> list[dict[str, Any]]:
        q = f"?user_id={user_id}" if user_id else ""
        rows = self.sandbox.control("GET", f"/portals/{self.member_id}/notifications{q}")
        return [n for n in rows if str(n.get("tag") or "").startswith("b24app_")]

    def requests_log(self, since: int = 0) -> list[dict[str, Any]]:
        rows = self.sandbox.control("GET", f"/portals/{self.member_id}/requests?since={since}")
        return [r for r in rows if r.get("client_id") == self.app.config.client_id]

    def last_request_id(self) -> int:
        rows = self.sandbox.control("GET", f"/portals/{self.member_id}/requests")
        return max((int(r["id"]) for r in rows), default=0)

    # --- the app -----------------------------------------------------------------------------------
    def settings(self) -> dict[str, Any]:
        return document.load(self.app.db, self.member_id)

    def save(self, doc: dict[str, Any]) -> None:
        document.save(self.app.db, self.member_id, doc)

    def cli(self, *args: str) -> Any:
        """``b24app leads ...`` in this process (the operator's; the clock is the test's)."""
        from click.testing import CliRunner

        from b24app.cli import main

        result = CliRunner().invoke(main, ["leads", *args, "--portal", self.member_id], env=self.app.env())
        assert result.exit_code == 0, result.output
        return result

    def run_job(self, kind: str) -> None:
        from b24app.store import jobs

        jobs.enqueue(self.app.db, kind, member_id=self.member_id)
        self.app.drain(timeout=120)

    def configure(self, **changes: Any) -> None:
        """Change keys of the distribution section (dotted keys reach inside: ``caps.daily``)."""
        doc = self.settings()
        for key, value in changes.items():
            target = doc["distribution"]
            parts = key.split("__")
            for p in parts[:-1]:
                target = target[p]
            target[parts[-1]] = value
        document.save(self.app.db, self.member_id, doc)

    def settle(self) -> None:
        self.sandbox.wait_deliveries()
        self.app.drain(timeout=120)

    def decisions(self, **kw: Any) -> list[store.Decision]:
        return list(reversed(store.recent(self.app.db, self.member_id, limit=100_000, **kw)))

    def intake(self, lead_id: int) -> store.Decision | None:
        return store.get_decisions(self.app.db, self.member_id, "lead", [lead_id], "intake").get(lead_id)


def make_metalprom(sandbox: Any, app: Any, clock: Any) -> Metalprom:
    portal = sandbox.new_portal("metalprom")
    m = portal["member_id"]
    install(sandbox, app, m)
    # the sandbox's limits are proven elsewhere (bench/bench_leads.py): scenarios run unthrottled
    installations.set_limits(app.db, m, drain=10_000, burst=10_000)
    forget_client(m)  # a cached client keeps the old budget for 30 s
    sandbox.control("PUT", f"/portals/{m}/limits", {"enabled": False})
    # only the sections distribution reads: other features keep their (idle) defaults and stay quiet
    demo = document.demo_document(portal_facts(app.services, m))
    document.save(app.db, m, {k: v for k, v in demo.items() if k in ("version", "general", "calendar", "distribution")})
    story = metalprom.build(1, today=dt.datetime.now(MSK).date())["story"]
    return Metalprom(sandbox, app, m, sandbox.webhook(m), story, clock)


@pytest.fixture
def mp(sandbox: Any, app_factory: Any) -> Iterator[Metalprom]:
    """МеталПром at Tuesday 11:00 (the clock ticks from there)."""
    with time_machine.travel(START, tick=True) as clock:
        app = app_factory()
        yield make_metalprom(sandbox, app, clock)


@pytest.fixture
def mp_frozen(sandbox: Any, app_factory: Any) -> Iterator[Metalprom]:
    """МеталПром under a frozen clock (move it with ``mp.clock.move_to``)."""
    with time_machine.travel(START, tick=False) as clock:
        app = app_factory()
        yield make_metalprom(sandbox, app, clock)


@pytest.fixture
def mp_now(sandbox: Any, app_factory: Any) -> Metalprom:
    """МеталПром on the real clock, for tests with other processes (workers, the CLI) that time-machine
    cannot move; work schedules are not checked (the hour of the run is unknown)."""
    mp = make_metalprom(sandbox, app_factory(), None)
    mp.configure(availability__schedule=False)
    return mp
