"""The worker against the error table: retries with backoff, rate limiting without burning
attempts, dead letters, robots always answered."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from b24app.errors import BitrixError, DataError, TransportError
from b24app.jobs import registry
from b24app.jobs.worker import Worker
from b24app.store import jobs

OUTCOMES: list[Any] = []


@pytest.fixture(autouse=True)
def _kinds():
    registry.load_plugins()

    def flaky(ctx):
        outcome = OUTCOMES.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    registry.REGISTRY.kinds["test.flaky"] = registry.JobKind("test.flaky", flaky, max_attempts=3)
    registry.REGISTRY.kinds["test.robot"] = registry.JobKind("test.robot", flaky, max_attempts=2, robot=True)
    yield
    registry.REGISTRY.kinds.pop("test.flaky")
    registry.REGISTRY.kinds.pop("test.robot")
    OUTCOMES.clear()


def test_retry_then_success(services) -> None:
    w = Worker(services, worker_id="w")
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        jid, _ = jobs.enqueue(services.db, "test.flaky", member_id="m")
        OUTCOMES.extend([TransportError("timeout"), {"done": True}])
        w.run_once()
        j = jobs.get(services.db, jid)
        assert j.status == "queued" and j.attempts == 1 and "timeout" in j.last_error
        assert w.run_once() is None  # backoff: not due yet
        clock.shift(10)
        w.run_once()
        assert jobs.get(services.db, jid).status == "done"
        assert jobs.get(services.db, jid).result == {"done": True}


def test_rate_limited_jobs_keep_their_attempts(services) -> None:
    w = Worker(services, worker_id="w")
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        jid, _ = jobs.enqueue(services.db, "test.flaky", member_id="m")
        OUTCOMES.extend([BitrixError("QUERY_LIMIT_EXCEEDED", "Too many requests", 503)] * 5 + ["ok"])
        for _ in range(6):
            clock.shift(60)
            w.run_once()
        j = jobs.get(services.db, jid)
        assert j.status == "done" and j.attempts == 1


def test_exhausted_and_data_errors_go_to_dead_letters(services) -> None:
    w = Worker(services, worker_id="w")
    with time_machine.travel(1_800_000_000, tick=False) as clock:
        a, _ = jobs.enqueue(services.db, "test.flaky", member_id="m")
        OUTCOMES.extend([TransportError("down")] * 3)
        for _ in range(3):
            w.run_once()
            clock.shift(600)
        assert jobs.get(services.db, a).status == "dead"
        b, _ = jobs.enqueue(services.db, "test.flaky", member_id="m")
        OUTCOMES.append(DataError("ИНН не заполнен"))
        w.run_once()
        j = jobs.get(services.db, b)
        assert j.status == "dead" and j.attempts == 1 and "ИНН" in j.last_error
        assert j.last_error_action == "FAIL_DATA"


def test_a_dead_robot_job_still_answers_its_workflow(services) -> None:
    w = Worker(services, worker_id="w")
    jid, _ = jobs.enqueue(services.db, "test.robot", {"event_token": "tok|x", "use_subscription": True},
                          member_id="m")
    OUTCOMES.append(DataError("нет реквизитов"))
    w.run_once()
    assert jobs.get(services.db, jid).status == "dead"
    answers = jobs.list_jobs(services.db, kind="robot.answer")
    assert len(answers) == 1
    assert answers[0].payload["return_values"] == {"ok": False, "error": "[app data] нет реквизитов"}
    assert "нет реквизитов" in answers[0].payload["log_message"]


def test_unknown_kind_is_buried(services) -> None:
    jid, _ = jobs.enqueue(services.db, "no.such.kind", member_id="m")
    Worker(services, worker_id="w").run_once()
    assert jobs.get(services.db, jid).status == "dead"


def test_a_kind_with_a_long_lease_is_never_claimed_twice_while_it_runs(services) -> None:
    """The worker's lease is 1 s, the kind's 60 s and the job runs 2.5 s: another worker polling all
    along never gets it (the lease is extended to the kind's at once, not after 20 s)."""
    import threading
    import time

    started, release = threading.Event(), threading.Event()

    def slow(ctx):
        started.set()
        release.wait(10)
        return {"ok": True}

    registry.REGISTRY.kinds["test.slow"] = registry.JobKind("test.slow", slow, max_attempts=1, lease_s=60.0)
    try:
        jid, _ = jobs.enqueue(services.db, "test.slow", member_id="m")
        first = Worker(services, worker_id="w1", lease_s=1.0)
        runner = threading.Thread(target=first.run_once)
        runner.start()
        assert started.wait(10)
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            assert jobs.claim(services.db, "w2", lease_s=1.0) is None
            time.sleep(0.1)
        release.set()
        runner.join(10)
        job = jobs.get(services.db, jid)
        assert job.status == "done" and job.attempts == 1 and job.worker_id == "w1"
    finally:
        registry.REGISTRY.kinds.pop("test.slow")
