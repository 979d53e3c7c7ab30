"""PostgreSQL deployment end to end: 2 web processes (gunicorn) and 3 worker processes
(procrastinate), 20 sandbox portals installed, each running the story of what exists today —
robot calls (the timeline-comment robot) with duplicate deliveries, CRM events, expired tokens —
while one worker is killed with SIGKILL mid-run and replaced. Invariants: every effect exactly
once, one token refresh per portal, every job done, no dead letters, `b24app doctor` green.

Extending it: a feature adds a story step (``STEPS``: acts on one portal after install) and an
invariant (``CHECKS``: looks at all portals after the jobs settle). Steps get the stack and the
portal's :class:`PortalRun` (``facts`` carries what later checks need)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from b24app.portal.phpform import flatten
from b24app.store import inbound, installations
from b24app.store import jobs as jobs_repo
from tests.scenarios.harness import wait_for
from tests.scenarios.scale.stack import PgStack

PORTALS = 20
DEALS = 3
ROBOT = "b24app_timeline_comment"
CORE_KINDS = ("app.register", "robot", "robot.answer", "event.dispatch", "portal.refresh")


@dataclass
class PortalRun:
    member_id: str
    hook: str
    facts: dict[str, Any] = field(default_factory=dict)


Step = Callable[[PgStack, PortalRun], None]
Check = Callable[[PgStack, list[PortalRun]], None]


# --- story steps (one portal each) ---------------------------------------------------------------
def step_robot_rule_and_deals(stack: PgStack, run: PortalRun) -> None:
    """An automation rule with the timeline-comment robot; deals that trigger it (and CRM events)."""
    stack.sandbox.control("POST", f"/portals/{run.member_id}/automation", {
        "entity": "deal", "category_id": 0, "stage_id": "PREPARATION", "robot_code": ROBOT,
        "properties": {"text": "Сделка «{TITLE}» на {OPPORTUNITY}"}})
    deals = []
    for i in range(DEALS):
        r = requests.post(run.hook + "crm.deal.add.json", json={"fields": {
            "TITLE": f"Арматура А500С партия {i + 1}", "STAGE_ID": "PREPARATION", "OPPORTUNITY": 100000 + i,
            "CURRENCY_ID": "RUB"}}, timeout=30)
        r.raise_for_status()
        deals.append(int(r.json()["result"]))
    run.facts["deals"] = deals


STEPS: list[Step] = [step_robot_rule_and_deals]


# --- invariants (all portals, after the jobs settled) ------------------------------------------
def check_one_comment_per_deal(stack: PgStack, runs: list[PortalRun]) -> None:
    for run in runs:
        for deal in run.facts["deals"]:
            got = requests.post(run.hook + "crm.timeline.comment.list.json", json={
                "filter": {"ENTITY_ID": deal, "ENTITY_TYPE": "deal"}}, timeout=30).json()["result"]
            assert len(got) == 1, (run.member_id, deal, got)


def check_every_robot_answered_once(stack: PgStack, runs: list[PortalRun]) -> None:
    for run in runs:
        done = [r for r in stack.sandbox.control("GET", f"/portals/{run.member_id}/robot-runs") if r["state"] == "done"]
        assert len(done) == DEALS, (run.member_id, done)
        for r in done:
            values = {k.lower(): v for k, v in r["return_values"].items()}
            assert values["ok"] in ("Y", True, "1", 1), values
        assert inbound.count(stack.db, run.member_id, "robot") == DEALS
        robot_jobs = jobs_repo.list_jobs(stack.db, member_id=run.member_id, kind="robot")
        answers = jobs_repo.list_jobs(stack.db, member_id=run.member_id, kind="robot.answer")
        assert len(robot_jobs) == DEALS and len(answers) == DEALS


def check_one_refresh_per_portal(stack: PgStack, runs: list[PortalRun]) -> None:
    for run in runs:
        stats = stack.sandbox.control("GET", f"/portals/{run.member_id}/oauth-stats")[stack.client_id]
        assert stats["refresh"] - run.facts["refresh_before"] == 1, (run.member_id, stats)
        assert stats["refresh_failed"] == 0


def check_events_became_one_done_job_each(stack: PgStack, runs: list[PortalRun]) -> None:
    for run in runs:
        rows = inbound.recent(stack.db, run.member_id, limit=1000)
        events = [r for r in rows if r["kind"] == "event"]
        assert events, run.member_id  # the deals' CRM events arrived
        for r in rows:
            job = jobs_repo.get(stack.db, r["job_id"])
            assert job is not None and job.status == jobs_repo.DONE, (r, job and job.public())


def check_no_dead_letters_and_nothing_left(stack: PgStack, runs: list[PortalRun]) -> None:
    counts = jobs_repo.counts(stack.db)
    assert counts["queued"] == 0 and counts["running"] == 0, counts
    dead = [j.public() for j in jobs_repo.list_jobs(stack.db, status=jobs_repo.DEAD, limit=1000)]
    assert not [d for d in dead if d["kind"] in CORE_KINDS], dead
    assert not dead, f"dead letters of feature handlers: {dead[:5]}"


CHECKS: list[Check] = [check_one_comment_per_deal, check_every_robot_answered_once, check_one_refresh_per_portal,
                       check_events_became_one_done_job_each, check_no_dead_letters_and_nothing_left]


# --- the test --------------------------------------------------------------------------------------
@pytest.fixture
def stack(sandbox, pg_url, tmp_path):
    s = PgStack(sandbox, pg_url, tmp_path / "stack")
    try:
        s.start(web=2, workers=3)
        yield s
    except BaseException:
        print(s.logs())
        raise
    finally:
        s.stop()


def _settled(stack: PgStack, runs: list[PortalRun]) -> bool:
    counts = jobs_repo.counts(stack.db)
    if counts["queued"] or counts["running"]:
        return False
    return all(len([r for r in stack.sandbox.control("GET", f"/portals/{run.member_id}/robot-runs")
                    if r["state"] == "done"]) == DEALS for run in runs)


def _post_again(stack: PgStack, run: PortalRun) -> None:
    """Deliver the portal's first robot call three more times at once (a retrying portal)."""
    body = [d for d in stack.sandbox.control("GET", f"/portals/{run.member_id}/deliveries")
            if d.get("kind") == "robot"][0]["body"]
    pairs = flatten(body)
    threads = [threading.Thread(target=requests.post, args=(f"{stack.url}/robots/{ROBOT}",),
                                kwargs={"data": pairs, "timeout": 30}) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_two_web_three_workers_twenty_portals_exactly_once(stack: PgStack) -> None:
    sandbox = stack.sandbox
    assert len(stack.web_pids()) == 2
    runs = [PortalRun(p["member_id"], "") for p in (sandbox.new_portal("empty") for _ in range(PORTALS))]
    for run in runs:
        stack.install(run.member_id)
        run.hook = sandbox.webhook(run.member_id)
    wait_for(lambda: stack.registered([r.member_id for r in runs]), timeout=180, interval=0.5,
             what="all portals registered by the workers")
    for run in runs:  # every portal's access token dies: the next calls must refresh, once per portal
        run.facts["refresh_before"] = sandbox.control("GET", f"/portals/{run.member_id}/oauth-stats").get(
            stack.client_id, {}).get("refresh", 0)
        sandbox.control("POST", f"/portals/{run.member_id}/expire-tokens")
    for run in runs:
        for step in STEPS:
            step(stack, run)
    # a worker dies mid-run (SIGKILL) and is replaced: its jobs must finish once, elsewhere
    wait_for(lambda: jobs_repo.counts(stack.db)["running"] > 0, timeout=60, interval=0.05, what="jobs running")
    stack.kill("worker0")
    stack.start_worker("worker3")
    sandbox.wait_deliveries(60)
    for run in runs[:5]:
        _post_again(stack, run)
    wait_for(lambda: _settled(stack, runs), timeout=240, interval=1.0, what="every job settled")
    time.sleep(1.0)  # late duplicates would show up now
    for check in CHECKS:
        check(stack, runs)
    assert len({i.member_id for i in installations.list_active(stack.db)}) == PORTALS
    doctor = stack.cli("doctor", "--json", check=False)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert doctor.stdout.count('"name": "portal ') == PORTALS
